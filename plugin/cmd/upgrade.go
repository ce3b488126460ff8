package cmd

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/plugin/pkg/clusterspec"
	"github.com/hikube/hikube/plugin/pkg/edit"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
	"github.com/hikube/hikube/plugin/pkg/printers"
)

// UpgradeOptions are the options of `upgrade`.
type UpgradeOptions struct {
	editOptions
	Name    string
	Version string // target minor; "" for the next one
	Yes     bool   // apply the plan; without it only print it
}

// NewUpgradeOptions returns the options of `upgrade` with their defaults.
func NewUpgradeOptions(streams genericiooptions.IOStreams) *UpgradeOptions {
	return &UpgradeOptions{editOptions: newEditOptions(streams, "configured")}
}

func newUpgradeCmd(f *Factory) *cobra.Command {
	o := NewUpgradeOptions(f.Streams)
	c := &cobra.Command{
		Use:   "upgrade NAME [--version v1.NN] [--yes]",
		Short: "Show the upgrade plan of a cluster; apply it with --yes",
		Long: `Upgrade a cluster's Kubernetes minor, one minor at a time (never down).

Without --yes, prints the plan and changes nothing. --version defaults to the next minor.`,
		Example:           "  kubectl hikube upgrade prod\n  kubectl hikube upgrade prod --version v1.37 --yes --wait",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE:              runE(f, o),
	}
	c.Flags().StringVar(&o.Version, "version", "", "target minor (default: the next one)")
	c.Flags().BoolVarP(&o.Yes, "yes", "y", false, "apply the plan")
	o.addFlags(c, true)
	c.RegisterFlagCompletionFunc("version", completeVersions) //nolint:errcheck
	return c
}

// Complete takes the cluster name and makes the clusters client.
func (o *UpgradeOptions) Complete(f *Factory, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	return o.complete(f)
}

// Validate checks the output flags; the target is checked against the
// cluster's version in Run.
func (o *UpgradeOptions) Validate() error { return o.validate() }

// Run prints the plan and, with --yes, applies it.
func (o *UpgradeOptions) Run(ctx context.Context) error {
	cl, err := o.get(ctx, o.Name)
	if err != nil {
		return err
	}
	target, err := upgradeTarget(cl.Spec.Version, o.Version)
	if err != nil {
		return err
	}
	if target == "" {
		minor, _ := catalog.ParseMinor(cl.Spec.Version)
		fmt.Fprintf(o.ErrOut, "cluster %s/%s runs %s, the newest minor this plugin knows; nothing to upgrade. If the platform offers a newer one, name it: --version v1.%d\n", cl.Namespace, cl.Name, cl.Spec.Version, minor+1)
		return nil
	}
	printPlan(o.Out, cl, target)
	if !o.Yes {
		fmt.Fprintf(o.ErrOut, "Nothing changed. Apply the plan: kubectl hikube upgrade %s -n %s --version %s --yes\n", cl.Name, cl.Namespace, target)
		return nil
	}
	return o.run(ctx, cl.Name, func(before, after *v1alpha1.Cluster) string {
		return fmt.Sprintf("upgrading: %s -> %s", before.Spec.Version, after.Spec.Version)
	}, edit.SetVersion(target))
}

// upgradeTarget is the minor to go to: asked, or the next; "" when nothing
// is asked and the plugin knows no newer minor. An asked minor is checked
// for the upgrade rules only (one up, never down): whether the platform
// offers it is the server's to say, so a newer server's minors work.
func upgradeTarget(current, asked string) (string, error) {
	cur, err := catalog.ParseMinor(current)
	if err != nil {
		return "", err
	}
	if asked == "" {
		next := fmt.Sprintf("v1.%d", cur+1)
		if !catalog.IsSupportedVersion(next) {
			return "", nil
		}
		return next, nil
	}
	target, err := clusterspec.NormalizeVersion(asked)
	if err != nil {
		return "", exitcode.Wrap(exitcode.Usage, err)
	}
	t, _ := catalog.ParseMinor(target)
	switch {
	case t == cur:
		return "", exitcode.UsageErrorf("the cluster already runs %s", current)
	case t < cur:
		return "", exitcode.UsageErrorf("%s -> %s is a downgrade; Kubernetes minors only go up", current, target)
	case t > cur+1:
		return "", exitcode.UsageErrorf("%s -> %s skips a minor; upgrade one minor at a time: first --version v1.%d", current, target, cur+1)
	}
	return target, nil
}

func printPlan(out io.Writer, c *v1alpha1.Cluster, target string) {
	fmt.Fprintf(out, "Upgrade plan for cluster %s/%s\n", c.Namespace, c.Name)
	fmt.Fprintf(out, "  Kubernetes:     %s -> %s\n", c.Spec.Version, target)
	fmt.Fprintf(out, "  1. control plane: %d replica(s) replaced one at a time; the API stays served\n", ptrOr(c.Spec.ControlPlane.Replicas))
	for i, n := range printers.SortedGroups(c) {
		st := c.Status.NodeGroups[n]
		fmt.Fprintf(out, "  %d. node group %s: %d node(s) moved to %s\n", i+2, n, st.Replicas, target)
	}
	fmt.Fprintf(out, "  Add-ons stay as they are. Phase goes Upgrading, then Ready.\n")
}
