package cmd

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"path/filepath"
	"sigs.k8s.io/yaml"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
	"github.com/hikube/hikube/plugin/pkg/kubeconfig"
)

type kubeconfigOptions struct {
	f           *Factory
	merge       bool
	print       bool
	contextName string
	switchTo    bool
	expiration  time.Duration
	viewer      bool
	exec        bool
}

const kubeconfigLong = `Get a kubeconfig for a cluster: a short-lived client certificate signed for you (your user
name and groups), never a shared admin secret.

By default (or with --merge) it is merged into your kubeconfig (the file --kubeconfig or
KUBECONFIG names) as context <namespace>-<name>. Nothing else in the file changes; merging the
same cluster again refreshes the entries it wrote; a name already used by something else gets
a -2, -3... suffix. --print writes a standalone kubeconfig to stdout instead.

--exec stores no key at all: the user entry runs 'kubectl-hikube credential', which fetches a
fresh certificate whenever kubectl needs one (like gardenlogin). 'kubectl hikube delete
cluster' removes the contexts added here.`

func newKubeconfigCmd(f *Factory) *cobra.Command {
	o := &kubeconfigOptions{f: f}
	c := &cobra.Command{
		Use:               "kubeconfig NAME",
		Short:             "Merge (or print) a kubeconfig for a cluster",
		Long:              kubeconfigLong,
		Example:           "  kubectl hikube kubeconfig web --merge --switch && kubectl get nodes\n  kubectl hikube kubeconfig web --print --expiration 8h > web.kubeconfig\n  kubectl hikube kubeconfig web --exec --context-name web",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE: func(c *cobra.Command, args []string) error {
			if o.merge && o.print {
				return exitcode.UsageErrorf("--merge and --print do not mix")
			}
			if o.print && o.switchTo {
				return exitcode.UsageErrorf("--switch needs --merge")
			}
			if o.expiration < 0 {
				return exitcode.UsageErrorf("--expiration must be positive")
			}
			return o.Run(args[0])
		},
	}
	fl := c.Flags()
	fl.BoolVar(&o.merge, "merge", false, "merge into your kubeconfig (the default)")
	fl.BoolVar(&o.print, "print", false, "print a standalone kubeconfig to stdout")
	fl.StringVar(&o.contextName, "context-name", "", "name of the context (default <namespace>-<name>)")
	fl.BoolVar(&o.switchTo, "switch", false, "make it the current context")
	fl.DurationVar(&o.expiration, "expiration", 0, "lifetime of the client certificate (server default 1h, between 10m and 24h)")
	fl.BoolVar(&o.viewer, "viewer", false, "a read-only kubeconfig (clusters/viewerkubeconfig)")
	fl.BoolVar(&o.exec, "exec", false, "store an exec credential (kubectl-hikube credential) instead of a key")
	return c
}

// fetchKubeconfig GETs the kubeconfig subresource.
func fetchKubeconfig(ctx context.Context, f *Factory, ns, name string, expiration time.Duration, viewer bool) (*clientcmdapi.Config, []byte, error) {
	cs, err := f.Hikube()
	if err != nil {
		return nil, nil, err
	}
	sub := "kubeconfig"
	if viewer {
		sub = "viewerkubeconfig"
	}
	req := cs.AppsV1alpha1().RESTClient().Get().
		AbsPath("/apis", v1alpha1.SchemeGroupVersion.Group, v1alpha1.SchemeGroupVersion.Version, "namespaces", ns, "clusters", name, sub)
	if expiration > 0 {
		req = req.Param("expirationSeconds", fmt.Sprint(int64(expiration.Seconds())))
	}
	data, err := req.Do(ctx).Raw()
	if err != nil {
		return nil, nil, statusOf(data, err)
	}
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return nil, nil, fmt.Errorf("decoding the kubeconfig of %s/%s: %w", ns, name, err)
	}
	return cfg, data, nil
}

// certExpiry is when the client certificate of the kubeconfig expires.
func certExpiry(cfg *clientcmdapi.Config) time.Time {
	_, _, user, err := kubeconfig.Incoming(cfg)
	if err != nil {
		return time.Time{}
	}
	block, _ := pem.Decode(user.ClientCertificateData)
	if block == nil {
		return time.Time{}
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return time.Time{}
	}
	return cert.NotAfter
}

func (o *kubeconfigOptions) Run(name string) error {
	ns, err := o.f.Namespace()
	if err != nil {
		return err
	}
	ctx, cancel := Context()
	defer cancel()
	cfg, _, err := fetchKubeconfig(ctx, o.f, ns, name, o.expiration, o.viewer)
	if err != nil {
		return err
	}
	ref, err := o.f.Ref(ns, name)
	if err != nil {
		return err
	}
	var authInfo *clientcmdapi.AuthInfo
	if o.exec {
		if authInfo, err = o.execAuthInfo(ns, name); err != nil {
			return err
		}
	}
	if o.print {
		out, err := kubeconfig.Standalone(cfg, ref, o.contextName, authInfo)
		if err != nil {
			return err
		}
		data, err := clientcmd.Write(*out)
		if err != nil {
			return err
		}
		_, err = o.f.Streams.Out.Write(data)
		return err
	}
	access := o.f.ConfigFlags.ToRawKubeConfigLoader().ConfigAccess()
	start, err := access.GetStartingConfig()
	if err != nil {
		return fmt.Errorf("reading your kubeconfig: %w", err)
	}
	ctxName, err := kubeconfig.Merge(start, cfg, ref, kubeconfig.MergeOptions{ContextName: o.contextName, Switch: o.switchTo, AuthInfo: authInfo})
	if err != nil {
		return exitcode.Wrap(exitcode.Conflict, err)
	}
	if err := clientcmd.ModifyConfig(access, *start, true); err != nil {
		return fmt.Errorf("writing your kubeconfig: %w", err)
	}
	file := access.GetDefaultFilename()
	if access.IsExplicitFile() {
		file = access.GetExplicitFile()
	}
	fmt.Fprintf(o.f.Streams.Out, "Context %q for cluster %s/%s merged into %s", ctxName, ns, name, file)
	if o.switchTo {
		fmt.Fprintf(o.f.Streams.Out, " (now the current context)")
	}
	fmt.Fprintln(o.f.Streams.Out)
	if o.exec {
		fmt.Fprintf(o.f.Streams.ErrOut, "The context holds no key: kubectl runs `kubectl-hikube credential` for a fresh certificate.\n")
	} else if exp := certExpiry(cfg); !exp.IsZero() {
		fmt.Fprintf(o.f.Streams.ErrOut, "The client certificate expires at %s; run this command again to refresh it, or use --exec.\n", exp.Local().Format(time.RFC3339))
	}
	if !o.switchTo {
		fmt.Fprintf(o.f.Streams.ErrOut, "Use it: kubectl --context %s get nodes\n", ctxName)
	}
	return nil
}

// execAuthInfo is the user entry of the --exec mode: it names the host
// context explicitly, so it keeps working after --switch.
func (o *kubeconfigOptions) execAuthInfo(ns, name string) (*clientcmdapi.AuthInfo, error) {
	raw, err := o.f.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil, err
	}
	hostCtx := raw.CurrentContext
	if o.f.ConfigFlags.Context != nil && *o.f.ConfigFlags.Context != "" {
		hostCtx = *o.f.ConfigFlags.Context
	}
	args := []string{"credential", name, "--namespace", ns}
	if hostCtx != "" {
		args = append(args, "--context", hostCtx)
	}
	if kc := o.f.ConfigFlags.KubeConfig; kc != nil && *kc != "" {
		abs, err := filepath.Abs(*kc)
		if err != nil {
			return nil, err
		}
		args = append(args, "--kubeconfig", abs)
	}
	if o.expiration > 0 {
		args = append(args, "--expiration", o.expiration.String())
	}
	if o.viewer {
		args = append(args, "--viewer")
	}
	return &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{
		APIVersion:      "client.authentication.k8s.io/v1",
		Command:         "kubectl-hikube",
		Args:            args,
		InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
		InstallHint:     "kubectl-hikube must be on PATH: kubectl krew install hikube (or make build)",
	}}, nil
}

// statusOf turns the body of a failed subresource GET back into the server's
// Status: the client cannot decode it for an endpoint that produces YAML and
// would report "unknown" instead of the 403's "User \"bob\" cannot get ...".
func statusOf(body []byte, err error) error {
	var st metav1.Status
	if len(body) == 0 || yaml.Unmarshal(body, &st) != nil || st.Message == "" || st.Kind != "Status" {
		return err
	}
	return apierrors.FromObject(&st)
}
