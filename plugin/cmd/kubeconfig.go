package cmd

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
	"github.com/hikube/hikube/plugin/pkg/kubeconfig"
)

// KubeconfigOptions are the options of `kubeconfig`.
type KubeconfigOptions struct {
	genericiooptions.IOStreams
	Name        string
	Merge       bool
	Print       bool
	ContextName string
	Switch      bool
	Expiration  time.Duration
	Viewer      bool
	Exec        bool

	// Set by Complete (or by a test).
	Namespace string
	Issue     IssueFunc
	Ref       kubeconfig.ClusterRef
	// ConfigAccess is the kubeconfig merged into.
	ConfigAccess clientcmd.ConfigAccess
	// HostContext and KubeconfigFile are what the --exec user entry passes
	// back to the plugin, so it reaches this very API server.
	HostContext    string
	KubeconfigFile string
}

// NewKubeconfigOptions returns the options of `kubeconfig` with their defaults.
func NewKubeconfigOptions(streams genericiooptions.IOStreams) *KubeconfigOptions {
	return &KubeconfigOptions{IOStreams: streams}
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
	o := NewKubeconfigOptions(f.Streams)
	c := &cobra.Command{
		Use:               "kubeconfig NAME",
		Short:             "Merge (or print) a kubeconfig for a cluster",
		Long:              kubeconfigLong,
		Example:           "  kubectl hikube kubeconfig web --merge --switch && kubectl get nodes\n  kubectl hikube kubeconfig web --print --expiration 8h > web.kubeconfig\n  kubectl hikube kubeconfig web --exec --context-name web",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE:              runE(f, o),
	}
	fl := c.Flags()
	fl.BoolVar(&o.Merge, "merge", false, "merge into your kubeconfig (the default)")
	fl.BoolVar(&o.Print, "print", false, "print a standalone kubeconfig to stdout")
	fl.StringVar(&o.ContextName, "context-name", "", "name of the context (default <namespace>-<name>)")
	fl.BoolVar(&o.Switch, "switch", false, "make it the current context")
	fl.DurationVar(&o.Expiration, "expiration", 0, "lifetime of the client certificate (server default 1h, between 10m and 24h)")
	fl.BoolVar(&o.Viewer, "viewer", false, "a read-only kubeconfig (clusters/viewerkubeconfig)")
	fl.BoolVar(&o.Exec, "exec", false, "store an exec credential (kubectl-hikube credential) instead of a key")
	return c
}

// Complete takes the name and reads what the kubeconfig says.
func (o *KubeconfigOptions) Complete(f *Factory, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	var err error
	if o.Namespace, err = f.Namespace(); err != nil {
		return err
	}
	if o.Issue, err = f.KubeconfigIssuer(); err != nil {
		return err
	}
	if o.Ref, err = f.Ref(o.Namespace, o.Name); err != nil {
		return err
	}
	loader := f.ConfigFlags.ToRawKubeConfigLoader()
	o.ConfigAccess = loader.ConfigAccess()
	if o.Exec {
		raw, err := loader.RawConfig()
		if err != nil {
			return err
		}
		o.HostContext = raw.CurrentContext
		if f.ConfigFlags.Context != nil && *f.ConfigFlags.Context != "" {
			o.HostContext = *f.ConfigFlags.Context
		}
		if kc := f.ConfigFlags.KubeConfig; kc != nil && *kc != "" {
			if o.KubeconfigFile, err = filepath.Abs(*kc); err != nil {
				return err
			}
		}
	}
	return nil
}

// Validate refuses flags that do not go together.
func (o *KubeconfigOptions) Validate() error {
	if o.Merge && o.Print {
		return exitcode.UsageErrorf("--merge and --print do not mix")
	}
	if o.Print && o.Switch {
		return exitcode.UsageErrorf("--switch needs --merge")
	}
	if o.Expiration < 0 {
		return exitcode.UsageErrorf("--expiration must be positive")
	}
	return nil
}

// Issued is a kubeconfig the server issued for the caller, and when its
// client certificate expires.
type Issued struct {
	Config  *clientcmdapi.Config
	Expires time.Time
}

// IssueFunc asks the server for a kubeconfig of cluster ns/name: a client
// certificate of the given lifetime (0: the server's default), read-only with viewer.
type IssueFunc func(ctx context.Context, ns, name string, expiration time.Duration, viewer bool) (*Issued, error)

// KubeconfigIssuer is the IssueFunc of the selected context: it POSTs a
// KubeconfigRequest to the kubeconfig (or viewerkubeconfig) subresource,
// whose answer carries the kubeconfig and the expiry of its certificate.
func (f *Factory) KubeconfigIssuer() (IssueFunc, error) {
	cs, err := f.Hikube()
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, ns, name string, expiration time.Duration, viewer bool) (*Issued, error) {
		sub := "kubeconfig"
		if viewer {
			sub = "viewerkubeconfig"
		}
		in := &v1alpha1.KubeconfigRequest{TypeMeta: metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: "KubeconfigRequest"}}
		if expiration > 0 {
			in.Spec.ExpirationSeconds = ptr.To(int64(expiration.Seconds()))
		}
		out := &v1alpha1.KubeconfigRequest{}
		err := cs.AppsV1alpha1().RESTClient().Post().
			Namespace(ns).Resource("clusters").Name(name).SubResource(sub).
			Body(in).Do(ctx).Into(out)
		if err != nil {
			return nil, err
		}
		cfg, err := clientcmd.Load(out.Status.Kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("decoding the kubeconfig of %s/%s: %w", ns, name, err)
		}
		return &Issued{Config: cfg, Expires: out.Status.ExpirationTimestamp.Time}, nil
	}, nil
}

// Run issues the kubeconfig and merges or prints it.
func (o *KubeconfigOptions) Run(ctx context.Context) error {
	ns, name := o.Namespace, o.Name
	issued, err := o.Issue(ctx, ns, name, o.Expiration, o.Viewer)
	if err != nil {
		return err
	}
	cfg, ref := issued.Config, o.Ref
	var authInfo *clientcmdapi.AuthInfo
	if o.Exec {
		authInfo = o.execAuthInfo()
	}
	if o.Print {
		out, err := kubeconfig.Standalone(cfg, ref, o.ContextName, authInfo)
		if err != nil {
			return err
		}
		data, err := clientcmd.Write(*out)
		if err != nil {
			return err
		}
		_, err = o.Out.Write(data)
		return err
	}
	access := o.ConfigAccess
	start, err := access.GetStartingConfig()
	if err != nil {
		return fmt.Errorf("reading your kubeconfig: %w", err)
	}
	ctxName, err := kubeconfig.Merge(start, cfg, ref, kubeconfig.MergeOptions{ContextName: o.ContextName, Switch: o.Switch, AuthInfo: authInfo})
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
	fmt.Fprintf(o.Out, "Context %q for cluster %s/%s merged into %s", ctxName, ns, name, file)
	if o.Switch {
		fmt.Fprintf(o.Out, " (now the current context)")
	}
	fmt.Fprintln(o.Out)
	if o.Exec {
		fmt.Fprintf(o.ErrOut, "The context holds no key: kubectl runs `kubectl-hikube credential` for a fresh certificate.\n")
	} else if !issued.Expires.IsZero() {
		fmt.Fprintf(o.ErrOut, "The client certificate expires at %s; run this command again to refresh it, or use --exec.\n", issued.Expires.Local().Format(time.RFC3339))
	}
	if !o.Switch {
		fmt.Fprintf(o.ErrOut, "Use it: kubectl --context %s get nodes\n", ctxName)
	}
	return nil
}

// execAuthInfo is the user entry of the --exec mode: it names the host
// context explicitly, so it keeps working after --switch.
func (o *KubeconfigOptions) execAuthInfo() *clientcmdapi.AuthInfo {
	args := []string{"credential", o.Name, "--namespace", o.Namespace}
	if o.HostContext != "" {
		args = append(args, "--context", o.HostContext)
	}
	if o.KubeconfigFile != "" {
		args = append(args, "--kubeconfig", o.KubeconfigFile)
	}
	if o.Expiration > 0 {
		args = append(args, "--expiration", o.Expiration.String())
	}
	if o.Viewer {
		args = append(args, "--viewer")
	}
	return &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{
		APIVersion:      "client.authentication.k8s.io/v1",
		Command:         "kubectl-hikube",
		Args:            args,
		InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
		InstallHint:     "kubectl-hikube must be on PATH: kubectl krew install hikube (or make build)",
	}}
}
