package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	typedv1alpha1 "github.com/hikube/hikube/pkg/generated/clientset/versioned/typed/apps/v1alpha1"
	"github.com/hikube/hikube/plugin/pkg/edit"
)

// editOptions are what every verb that changes a cluster shares: -o,
// --dry-run=server, --wait/--timeout, and the clusters client of the
// namespace. The verbs embed it.
type editOptions struct {
	genericiooptions.IOStreams
	Output *OutputFlags
	Wait   WaitFlags
	DryRun bool

	// Set by complete (or by a test).
	Namespace string
	Clusters  typedv1alpha1.ClusterInterface
}

func newEditOptions(streams genericiooptions.IOStreams, operation string) editOptions {
	return editOptions{IOStreams: streams, Output: newOutputFlags(operation)}
}

func (o *editOptions) addFlags(c *cobra.Command, wait bool) {
	o.Output.AddFlags(c)
	c.Flags().BoolVar(&o.DryRun, "dry-run", false, "have the server check the change without storing it")
	if wait {
		addWaitFlags(c, &o.Wait, 10*time.Minute)
	}
}

// complete reads the namespace and makes the clusters client.
func (o *editOptions) complete(f *Factory) error {
	var err error
	o.Namespace, o.Clusters, err = f.NamespacedClusters()
	return err
}

// validate refuses an unknown -o before anything is sent.
func (o *editOptions) validate() error {
	return o.Output.Validate()
}

// get reads the cluster the verb is about.
func (o *editOptions) get(ctx context.Context, name string) (*v1alpha1.Cluster, error) {
	return o.Clusters.Get(ctx, name, metav1.GetOptions{})
}

// run reads the cluster, applies the edits and prints and waits as asked.
func (o *editOptions) run(ctx context.Context, name string, describe func(before, after *v1alpha1.Cluster) string, edits ...edit.Edit) error {
	if o.DryRun {
		o.Output.Print.Complete("%s (server dry run)") //nolint:errcheck
	}
	live, err := o.get(ctx, name)
	if err != nil {
		return err
	}
	after, err := edit.Run(ctx, o.Clusters, live, edit.Options{DryRun: o.DryRun}, edits...)
	if err != nil {
		return err
	}
	setClusterKind(after)
	if o.Output.Format() == "" {
		if msg := describe(live, after); msg != "" {
			suffix := ""
			if o.DryRun {
				suffix = " (server dry run)"
			}
			fmt.Fprintf(o.Out, "cluster.apps.hikube.io/%s %s%s\n", after.Name, msg, suffix)
		}
	} else if err := o.Output.PrintObjects(o.Out, after); err != nil {
		return err
	}
	if o.Wait.Wait && !o.DryRun {
		return waitReady(ctx, o.ErrOut, o.Clusters, after, o.Wait.Timeout)
	}
	return nil
}

// group returns a node group of a cluster, or a zero one.
func group(c *v1alpha1.Cluster, name string) v1alpha1.NodeGroup {
	return c.Spec.NodeGroups[name]
}

func bound(p *int32) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}
