package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"

	typedv1alpha1 "github.com/hikube/hikube/pkg/generated/clientset/versioned/typed/apps/v1alpha1"
	"github.com/hikube/hikube/plugin/pkg/credcache"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
	"github.com/hikube/hikube/plugin/pkg/kubeconfig"
	"github.com/hikube/hikube/plugin/pkg/printers"
	"github.com/hikube/hikube/plugin/pkg/progress"
)

func newDeleteCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{Use: "delete", Short: "Delete a cluster"}
	c.AddCommand(newDeleteClusterCmd(f))
	return c
}

// DeleteClusterOptions are the options of `delete cluster`.
type DeleteClusterOptions struct {
	genericiooptions.IOStreams
	Name        string
	Yes         bool // do not ask
	KeepContext bool
	Wait        WaitFlags

	// Set by Complete (or by a test).
	Namespace string
	Clusters  typedv1alpha1.ClusterInterface
	// Context is the kubeconfig context shown in the confirmation.
	Context string
	// Ref and ConfigAccess find the contexts `kubeconfig` merged for the
	// cluster; a nil ConfigAccess leaves the kubeconfig alone.
	Ref          kubeconfig.ClusterRef
	ConfigAccess clientcmd.ConfigAccess
	// CredentialCache holds the certificates `credential` cached for the
	// cluster; they go with it. nil: none.
	CredentialCache *credcache.Cache
}

// NewDeleteClusterOptions returns the options of `delete cluster` with their defaults.
func NewDeleteClusterOptions(streams genericiooptions.IOStreams) *DeleteClusterOptions {
	return &DeleteClusterOptions{IOStreams: streams, Wait: WaitFlags{Timeout: 5 * time.Minute}}
}

func newDeleteClusterCmd(f *Factory) *cobra.Command {
	o := NewDeleteClusterOptions(f.Streams)
	c := &cobra.Command{
		Use:     "cluster NAME",
		Aliases: []string{"clusters"},
		Short:   "Delete a cluster, its nodes and its data (asks for confirmation)",
		Long: `Delete a cluster with its control plane, node groups, disks and data.

It shows what is deleted (context, namespace, cluster, node groups) and asks for the cluster
name on a terminal. Without a terminal it refuses unless --yes is given. The kubeconfig
contexts 'kubectl hikube kubeconfig' added for the cluster are removed too.`,
		Example:           "  kubectl hikube delete cluster web\n  kubectl hikube delete cluster web --yes --wait",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE:              runE(f, o),
	}
	c.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation (needed without a TTY)")
	c.Flags().BoolVar(&o.KeepContext, "keep-context", false, "keep the kubeconfig contexts added for the cluster")
	c.Flags().BoolVar(&o.Wait.Wait, "wait", false, "wait until the cluster is gone")
	c.Flags().DurationVar(&o.Wait.Timeout, "timeout", o.Wait.Timeout, "how long --wait waits")
	return c
}

// Complete takes the name, makes the client and finds the kubeconfig.
func (o *DeleteClusterOptions) Complete(f *Factory, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	var err error
	if o.Namespace, o.Clusters, err = f.NamespacedClusters(); err != nil {
		return err
	}
	loader := f.ConfigFlags.ToRawKubeConfigLoader()
	raw, _ := loader.RawConfig()
	o.Context = raw.CurrentContext
	if f.ConfigFlags.Context != nil && *f.ConfigFlags.Context != "" {
		o.Context = *f.ConfigFlags.Context
	}
	if o.Ref, err = f.Ref(o.Namespace, o.Name); err != nil {
		return err
	}
	o.ConfigAccess = loader.ConfigAccess()
	if dir, err := credcache.DefaultDir(); err == nil {
		o.CredentialCache = &credcache.Cache{Dir: dir}
	}
	return nil
}

// Validate has nothing to check: the name is the only input.
func (o *DeleteClusterOptions) Validate() error { return nil }

// Run shows what goes, asks for confirmation, deletes, and removes the
// contexts merged for the cluster.
func (o *DeleteClusterOptions) Run(ctx context.Context) error {
	cl, err := o.Clusters.Get(ctx, o.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	ready, desired := printers.Nodes(cl)
	e := o.ErrOut
	fmt.Fprintf(e, "About to delete:\n  context:     %s\n  namespace:   %s\n  cluster:     %s (%s, %s, %d/%d nodes)\n", o.Context, o.Namespace, o.Name, cl.Spec.Version, cl.Status.Phase, ready, desired)
	for _, g := range printers.SortedGroups(cl) {
		st := cl.Status.NodeGroups[g]
		fmt.Fprintf(e, "  node group:  %s (%s, %d node(s))\n", g, cl.Spec.NodeGroups[g].InstanceType, st.Replicas)
	}
	if err := confirm(o.IOStreams, o.Yes, false, fmt.Sprintf("Type the cluster name (%s) to delete it:", o.Name), o.Name); err != nil {
		return err
	}
	// The UID precondition: never delete a cluster re-created under the
	// same name after the confirmation was given for the old one.
	uid := cl.UID
	if err := o.Clusters.Delete(ctx, o.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "cluster.apps.hikube.io/%s deleted\n", o.Name)
	if !o.KeepContext && o.ConfigAccess != nil {
		if err := o.removeContexts(); err != nil {
			fmt.Fprintf(e, "Warning: the kubeconfig contexts of %s were not removed: %v\n", o.Name, err)
		}
	}
	if o.CredentialCache != nil {
		if err := o.CredentialCache.RemoveCluster(o.Namespace, o.Name); err != nil {
			fmt.Fprintf(e, "Warning: the cached certificates of %s were not removed: %v\n", o.Name, err)
		}
	}
	if !o.Wait.Wait {
		return nil
	}
	w := &progress.Waiter{Client: o.Clusters, Namespace: o.Namespace, Name: o.Name, Out: o.ErrOut}
	_, err = w.Wait(ctx, progress.Deleted, 0, o.Wait.Timeout)
	return err
}

// removeContexts removes the contexts kubectl hikube kubeconfig added for the cluster.
func (o *DeleteClusterOptions) removeContexts() error {
	cfg, err := o.ConfigAccess.GetStartingConfig()
	if err != nil {
		return err
	}
	removed := kubeconfig.Remove(cfg, o.Ref)
	if len(removed) == 0 {
		return nil
	}
	if err := clientcmd.ModifyConfig(o.ConfigAccess, *cfg, true); err != nil {
		return err
	}
	for _, r := range removed {
		fmt.Fprintf(o.ErrOut, "Removed context %q from the kubeconfig.\n", r)
	}
	return nil
}

// WaitOptions are the options of `wait`.
type WaitOptions struct {
	genericiooptions.IOStreams
	Name    string
	For     string // ready or delete
	Timeout time.Duration

	// Set by Complete (or by a test).
	Namespace string
	Clusters  typedv1alpha1.ClusterInterface
}

// NewWaitOptions returns the options of `wait` with their defaults.
func NewWaitOptions(streams genericiooptions.IOStreams) *WaitOptions {
	return &WaitOptions{IOStreams: streams, For: string(progress.Ready), Timeout: 10 * time.Minute}
}

func newWaitCmd(f *Factory) *cobra.Command {
	o := NewWaitOptions(f.Streams)
	c := &cobra.Command{
		Use:   "wait NAME [--for ready|delete] [--timeout 10m]",
		Short: "Wait until a cluster is Ready (or deleted), with progress on stderr",
		Long: `Wait until a cluster is Ready for its latest spec (or gone, with --for delete), printing the
phase, the control plane, each node group's ready/desired nodes and the add-ons on stderr
whenever they change. On timeout it says what exists and what to run next (exit code 6).`,
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE:              runE(f, o),
	}
	c.Flags().StringVar(&o.For, "for", o.For, "ready or delete")
	c.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "how long to wait")
	c.RegisterFlagCompletionFunc("for", fixedCompletion("ready", "delete")) //nolint:errcheck
	return c
}

// Complete takes the name and makes the clusters client.
func (o *WaitOptions) Complete(f *Factory, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	var err error
	o.Namespace, o.Clusters, err = f.NamespacedClusters()
	return err
}

// Validate refuses an unknown --for.
func (o *WaitOptions) Validate() error {
	if f := progress.For(o.For); f != progress.Ready && f != progress.Deleted {
		return exitcode.UsageErrorf("--for must be ready or delete, not %q", o.For)
	}
	return nil
}

// Run waits, with progress on stderr.
func (o *WaitOptions) Run(ctx context.Context) error {
	start := time.Now()
	w := &progress.Waiter{Client: o.Clusters, Namespace: o.Namespace, Name: o.Name, Out: o.ErrOut}
	cl, err := w.Wait(ctx, progress.For(o.For), 0, o.Timeout)
	if err != nil {
		return err
	}
	if cl != nil {
		fmt.Fprintf(o.Out, "cluster.apps.hikube.io/%s is Ready (%.1fs)\n", cl.Name, time.Since(start).Seconds())
	}
	return nil
}
