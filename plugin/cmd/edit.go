package cmd

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/plugin/pkg/edit"
)

// editOptions are what every verb that changes a cluster shares: the
// cluster, -o, --dry-run=server and --wait/--timeout.
type editOptions struct {
	f      *Factory
	output *OutputFlags
	wait   WaitFlags
	dryRun bool
}

func newEditOptions(f *Factory, operation string) *editOptions {
	return &editOptions{f: f, output: newOutputFlags(operation)}
}

func (o *editOptions) addFlags(c *cobra.Command, wait bool) {
	o.output.AddFlags(c, false)
	c.Flags().BoolVar(&o.dryRun, "dry-run", false, "have the server check the change without storing it")
	if wait {
		addWaitFlags(c, &o.wait, 10*time.Minute)
	}
}

// run reads the cluster, applies the edits and prints and waits as asked.
func (o *editOptions) run(name string, describe func(before, after *v1alpha1.Cluster) string, edits ...edit.Edit) error {
	if err := o.output.Validate(); err != nil {
		return err
	}
	if o.dryRun {
		o.output.Print.Complete("%s (server dry run)") //nolint:errcheck
	}
	ns, err := o.f.Namespace()
	if err != nil {
		return err
	}
	clusters, err := o.f.Clusters(ns)
	if err != nil {
		return err
	}
	ctx, cancel := Context()
	defer cancel()
	live, err := clusters.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	after, err := edit.Run(ctx, clusters, live, edit.Options{DryRun: o.dryRun}, edits...)
	if err != nil {
		return err
	}
	setClusterKind(after)
	if o.output.Format() == "" {
		if msg := describe(live, after); msg != "" {
			suffix := ""
			if o.dryRun {
				suffix = " (server dry run)"
			}
			fmt.Fprintf(o.f.Streams.Out, "cluster.apps.hikube.io/%s %s%s\n", after.Name, msg, suffix)
		}
	} else if err := o.output.PrintObjects(o.f.Streams.Out, after); err != nil {
		return err
	}
	if o.wait.Wait && !o.dryRun {
		return waitReady(o.f, clusters, after, o.wait.Timeout)
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
