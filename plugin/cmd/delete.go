package cmd

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

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

func newDeleteClusterCmd(f *Factory) *cobra.Command {
	var yes, keepContext bool
	var w WaitFlags
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
		RunE: func(c *cobra.Command, args []string) error {
			name := args[0]
			ns, clusters, err := f.NamespacedClusters()
			if err != nil {
				return err
			}
			ctx, cancel := Context()
			defer cancel()
			cl, err := clusters.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			raw, _ := f.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
			ctxName := raw.CurrentContext
			if f.ConfigFlags.Context != nil && *f.ConfigFlags.Context != "" {
				ctxName = *f.ConfigFlags.Context
			}
			ready, desired := printers.Nodes(cl)
			e := f.Streams.ErrOut
			fmt.Fprintf(e, "About to delete:\n  context:     %s\n  namespace:   %s\n  cluster:     %s (%s, %s, %d/%d nodes)\n", ctxName, ns, name, cl.Spec.Version, cl.Status.Phase, ready, desired)
			for _, g := range printers.SortedGroups(cl) {
				st := cl.Status.NodeGroups[g]
				fmt.Fprintf(e, "  node group:  %s (%s, %d node(s))\n", g, cl.Spec.NodeGroups[g].InstanceType, st.Replicas)
			}
			if err := confirm(f, yes, false, fmt.Sprintf("Type the cluster name (%s) to delete it:", name), name); err != nil {
				return err
			}
			uid := cl.UID
			if err := clusters.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}); err != nil {
				return err
			}
			fmt.Fprintf(f.Streams.Out, "cluster.apps.hikube.io/%s deleted\n", name)
			if !keepContext {
				if err := removeContexts(f, ns, name); err != nil {
					fmt.Fprintf(e, "Warning: the kubeconfig contexts of %s were not removed: %v\n", name, err)
				}
			}
			if !w.Wait {
				return nil
			}
			_, err = f.Waiter(clusters, ns, name).Wait(ctx, progress.Deleted, 0, w.Timeout)
			return err
		},
	}
	c.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (needed without a TTY)")
	c.Flags().BoolVar(&keepContext, "keep-context", false, "keep the kubeconfig contexts added for the cluster")
	c.Flags().BoolVar(&w.Wait, "wait", false, "wait until the cluster is gone")
	c.Flags().DurationVar(&w.Timeout, "timeout", 5*time.Minute, "how long --wait waits")
	return c
}

// removeContexts removes the contexts kubectl hikube kubeconfig added for the cluster.
func removeContexts(f *Factory, ns, name string) error {
	ref, err := f.Ref(ns, name)
	if err != nil {
		return err
	}
	access := f.ConfigFlags.ToRawKubeConfigLoader().ConfigAccess()
	cfg, err := access.GetStartingConfig()
	if err != nil {
		return err
	}
	removed := kubeconfig.Remove(cfg, ref)
	if len(removed) == 0 {
		return nil
	}
	if err := clientcmd.ModifyConfig(access, *cfg, true); err != nil {
		return err
	}
	for _, r := range removed {
		fmt.Fprintf(f.Streams.ErrOut, "Removed context %q from the kubeconfig.\n", r)
	}
	return nil
}

func newWaitCmd(f *Factory) *cobra.Command {
	var forWhat string
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "wait NAME [--for ready|delete] [--timeout 10m]",
		Short: "Wait until a cluster is Ready (or deleted), with progress on stderr",
		Long: `Wait until a cluster is Ready for its latest spec (or gone, with --for delete), printing the
phase, the control plane, each node group's ready/desired nodes and the add-ons on stderr
whenever they change. On timeout it says what exists and what to run next (exit code 6).`,
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE: func(c *cobra.Command, args []string) error {
			f2 := progress.For(forWhat)
			if f2 != progress.Ready && f2 != progress.Deleted {
				return exitcode.UsageErrorf("--for must be ready or delete, not %q", forWhat)
			}
			ns, clusters, err := f.NamespacedClusters()
			if err != nil {
				return err
			}
			ctx, cancel := Context()
			defer cancel()
			start := time.Now()
			cl, err := f.Waiter(clusters, ns, args[0]).Wait(ctx, f2, 0, timeout)
			if err != nil {
				return err
			}
			if cl != nil {
				fmt.Fprintf(f.Streams.Out, "cluster.apps.hikube.io/%s is Ready (%.1fs)\n", cl.Name, time.Since(start).Seconds())
			}
			return nil
		},
	}
	c.Flags().StringVar(&forWhat, "for", "ready", "ready or delete")
	c.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "how long to wait")
	c.RegisterFlagCompletionFunc("for", fixedCompletion("ready", "delete")) //nolint:errcheck
	return c
}
