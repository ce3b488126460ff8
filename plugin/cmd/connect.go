package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hikube/hikube/plugin/pkg/credcache"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
	"github.com/hikube/hikube/plugin/pkg/kubeconfig"
	"github.com/hikube/hikube/plugin/pkg/term"
)

// ConnectOptions are the options of `connect`.
type ConnectOptions struct {
	genericiooptions.IOStreams
	Name       string
	Command    []string // after --; empty: $SHELL on a terminal
	Viewer     bool
	Expiration time.Duration

	// Set by Complete (or by a test).
	Namespace string
	Issue     IssueFunc
	Ref       kubeconfig.ClusterRef
}

// NewConnectOptions returns the options of `connect` with their defaults.
func NewConnectOptions(streams genericiooptions.IOStreams) *ConnectOptions {
	return &ConnectOptions{IOStreams: streams}
}

func newConnectCmd(f *Factory) *cobra.Command {
	o := NewConnectOptions(f.Streams)
	c := &cobra.Command{
		Use:   "connect NAME [-- COMMAND [ARGS...]]",
		Short: "Run one command (or a shell) with a temporary kubeconfig of the cluster",
		Long: `Run a command with KUBECONFIG pointing at a temporary kubeconfig of the cluster, removed
when the command ends. Without a command, starts $SHELL on a terminal. Your own kubeconfig
is not touched. The exit code is the command's.`,
		Example:           "  kubectl hikube connect web -- kubectl get nodes\n  kubectl hikube connect web",
		ValidArgsFunction: completeClusters(f),
		RunE:              runE(f, o),
	}
	c.Flags().BoolVar(&o.Viewer, "viewer", false, "read-only access (clusters/viewerkubeconfig)")
	c.Flags().DurationVar(&o.Expiration, "expiration", 0, "lifetime of the certificate (server default 1h)")
	return c
}

// Complete splits NAME from the command after --, and makes the client.
func (o *ConnectOptions) Complete(f *Factory, c *cobra.Command, args []string) error {
	dash := c.ArgsLenAtDash()
	if len(args) == 0 || dash == 0 {
		return exitcode.UsageErrorf("connect needs the cluster NAME: kubectl hikube connect NAME -- COMMAND")
	}
	o.Name = args[0]
	if dash > 0 {
		if dash != 1 {
			return exitcode.UsageErrorf("connect takes one cluster NAME before --")
		}
		o.Command = args[1:]
	} else if len(args) > 1 {
		return exitcode.UsageErrorf("put the command after --: kubectl hikube connect %s -- %s", o.Name, args[1])
	}
	var err error
	if o.Namespace, err = f.Namespace(); err != nil {
		return err
	}
	if o.Issue, err = f.KubeconfigIssuer(); err != nil {
		return err
	}
	o.Ref, err = f.Ref(o.Namespace, o.Name)
	return err
}

// Validate refuses a shell without a terminal.
func (o *ConnectOptions) Validate() error {
	if len(o.Command) == 0 && !term.IsTerminal(o.In) {
		return exitcode.UsageErrorf("no command given and stdin is not a terminal: kubectl hikube connect %s -- COMMAND", o.Name)
	}
	return nil
}

// Run writes the temporary kubeconfig and runs the command with it.
func (o *ConnectOptions) Run(ctx context.Context) error {
	command := o.Command
	if len(command) == 0 {
		shell := os.Getenv("SHELL")
		if shell == "" {
			shell = "/bin/sh"
		}
		command = []string{shell}
		fmt.Fprintf(o.ErrOut, "Starting %s with the kubeconfig of %s; exit to leave.\n", shell, o.Name)
	}
	issued, err := o.Issue(ctx, o.Namespace, o.Name, o.Expiration, o.Viewer)
	if err != nil {
		return err
	}
	standalone, err := kubeconfig.Standalone(issued.Config, o.Ref, "", nil)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "kubectl-hikube-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*standalone, path); err != nil {
		return err
	}
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.In, o.Out, o.ErrOut
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return exitcode.Wrap(exitErr.ExitCode(), fmt.Errorf("%s exited with code %d", command[0], exitErr.ExitCode()))
		}
		return err
	}
	return nil
}

// CredentialOptions are the options of `credential`.
type CredentialOptions struct {
	genericiooptions.IOStreams
	Name       string
	Viewer     bool
	Expiration time.Duration
	NoCache    bool

	// Set by Complete (or by a test).
	Namespace string
	Issue     IssueFunc
	// Cache keeps the issued certificate until shortly before it expires,
	// under CacheKey; nil issues a new one every time.
	Cache    *credcache.Cache
	CacheKey string
}

// NewCredentialOptions returns the options of `credential` with their defaults.
func NewCredentialOptions(streams genericiooptions.IOStreams) *CredentialOptions {
	return &CredentialOptions{IOStreams: streams}
}

func newCredentialCmd(f *Factory) *cobra.Command {
	o := NewCredentialOptions(f.Streams)
	c := &cobra.Command{
		Use:   "credential NAME",
		Short: "Print an ExecCredential for a cluster (used by kubeconfigs written with --exec)",
		Long: `Print a client.authentication.k8s.io/v1 ExecCredential with a fresh client certificate for the
cluster. kubectl runs it from the user entry 'kubectl hikube kubeconfig NAME --exec' writes, so
no key is stored in the kubeconfig. Not meant to be run by hand.

kubectl runs it for every command, so the certificate is cached (mode 0600, in
kubectl-hikube/credentials under the user's cache directory, one file per cluster and
identity) and reused until 5 minutes before it expires; --no-cache asks for a new one.`,
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE:              runE(f, o),
	}
	c.Flags().BoolVar(&o.Viewer, "viewer", false, "read-only access")
	c.Flags().DurationVar(&o.Expiration, "expiration", 0, "lifetime of the certificate")
	c.Flags().BoolVar(&o.NoCache, "no-cache", false, "neither use nor store the cached certificate")
	return c
}

// Complete takes the name, makes the client and finds the cache entry.
func (o *CredentialOptions) Complete(f *Factory, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	var err error
	if o.Namespace, err = f.Namespace(); err != nil {
		return err
	}
	if o.Issue, err = f.KubeconfigIssuer(); err != nil {
		return err
	}
	if o.NoCache {
		return nil
	}
	dir, err := credcache.DefaultDir()
	if err != nil {
		// No cache directory (no $HOME): work, only slower.
		return nil
	}
	o.Cache = &credcache.Cache{Dir: dir}
	o.CacheKey, err = f.credentialCacheKey(o.Namespace, o.Name, o.Viewer, o.Expiration)
	return err
}

// credentialCacheKey is the cache entry of a cluster for the identity the
// kubeconfig selects: the host API server, context, user entry, kubeconfig
// file and impersonation all make a different credential.
func (f *Factory) credentialCacheKey(ns, name string, viewer bool, expiration time.Duration) (string, error) {
	cfg, err := f.RESTConfig()
	if err != nil {
		return "", err
	}
	raw, err := f.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return "", fmt.Errorf("reading the kubeconfig: %w", err)
	}
	ctxName := raw.CurrentContext
	if c := f.ConfigFlags.Context; c != nil && *c != "" {
		ctxName = *c
	}
	authInfo := ""
	if c := raw.Contexts[ctxName]; c != nil {
		authInfo = c.AuthInfo
	}
	if u := f.ConfigFlags.AuthInfoName; u != nil && *u != "" {
		authInfo = *u
	}
	kubeconfigFile := ""
	if kc := f.ConfigFlags.KubeConfig; kc != nil {
		kubeconfigFile = *kc
	}
	return credcache.Key(ns, name, cfg.Host, ctxName, authInfo, kubeconfigFile, os.Getenv("KUBECONFIG"),
		cfg.Impersonate.UserName, strings.Join(cfg.Impersonate.Groups, ","),
		fmt.Sprint(viewer), expiration.String()), nil
}

// Validate refuses a negative lifetime.
func (o *CredentialOptions) Validate() error {
	if o.Expiration < 0 {
		return exitcode.UsageErrorf("--expiration must be positive")
	}
	return nil
}

// Run prints the cached certificate while it is fresh, else issues a new
// one (and caches it), as an ExecCredential.
func (o *CredentialOptions) Run(ctx context.Context) error {
	if o.Cache != nil {
		if e, ok := o.Cache.Get(o.CacheKey); ok {
			return printExecCredential(o.Out, *e)
		}
	}
	issued, err := o.Issue(ctx, o.Namespace, o.Name, o.Expiration, o.Viewer)
	if err != nil {
		return err
	}
	_, _, user, err := kubeconfig.Incoming(issued.Config)
	if err != nil {
		return err
	}
	e := credcache.Entry{
		Expires:               issued.Expires,
		ClientCertificateData: string(user.ClientCertificateData),
		ClientKeyData:         string(user.ClientKeyData),
	}
	if o.Cache != nil && !e.Expires.IsZero() {
		if err := o.Cache.Put(o.CacheKey, e); err != nil {
			// The credential is good; only the next run is slower.
			fmt.Fprintf(o.ErrOut, "Warning: the certificate was not cached: %v\n", err)
		}
	}
	return printExecCredential(o.Out, e)
}

func printExecCredential(out io.Writer, e credcache.Entry) error {
	cred := clientauthv1.ExecCredential{
		TypeMeta: metav1.TypeMeta{APIVersion: "client.authentication.k8s.io/v1", Kind: "ExecCredential"},
		Status: &clientauthv1.ExecCredentialStatus{
			ClientCertificateData: e.ClientCertificateData,
			ClientKeyData:         e.ClientKeyData,
		},
	}
	if !e.Expires.IsZero() {
		// Renew a minute early so a request never carries an expired certificate.
		t := metav1.NewTime(e.Expires.Add(-time.Minute))
		cred.Status.ExpirationTimestamp = &t
	}
	return json.NewEncoder(out).Encode(cred)
}
