package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/plugin/pkg/clusterspec"
	"github.com/hikube/hikube/plugin/pkg/edit"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
	"github.com/hikube/hikube/plugin/pkg/printers"
)

func newUpgradeCmd(f *Factory) *cobra.Command {
	o := newEditOptions(f, "configured")
	var version string
	var yes bool
	c := &cobra.Command{
		Use:   "upgrade NAME [--version v1.NN] [--yes]",
		Short: "Show the upgrade plan of a cluster; apply it with --yes",
		Long: `Upgrade a cluster's Kubernetes minor, one minor at a time (never down).

Without --yes, prints the plan and changes nothing. --version defaults to the next minor.`,
		Example:           "  kubectl hikube upgrade prod\n  kubectl hikube upgrade prod --version v1.37 --yes --wait",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := getCluster(f, args[0])
			if err != nil {
				return err
			}
			target, err := upgradeTarget(cl.Spec.Version, version)
			if err != nil {
				return err
			}
			if target == "" {
				fmt.Fprintf(f.Streams.ErrOut, "cluster %s/%s runs %s, the newest supported minor; nothing to upgrade.\n", cl.Namespace, cl.Name, cl.Spec.Version)
				return nil
			}
			printPlan(f, cl, target)
			if !yes {
				fmt.Fprintf(f.Streams.ErrOut, "Nothing changed. Apply the plan: kubectl hikube upgrade %s -n %s --version %s --yes\n", cl.Name, cl.Namespace, target)
				return nil
			}
			return o.run(cl.Name, func(before, after *v1alpha1.Cluster) string {
				return fmt.Sprintf("upgrading: %s -> %s", before.Spec.Version, after.Spec.Version)
			}, edit.SetVersion(target))
		},
	}
	c.Flags().StringVar(&version, "version", "", "target minor (default: the next one)")
	c.Flags().BoolVarP(&yes, "yes", "y", false, "apply the plan")
	o.addFlags(c, true)
	c.RegisterFlagCompletionFunc("version", completeVersions) //nolint:errcheck
	return c
}

// upgradeTarget is the minor to go to: asked, or the next; "" when current
// is the newest.
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

func printPlan(f *Factory, c *v1alpha1.Cluster, target string) {
	out := f.Streams.Out
	fmt.Fprintf(out, "Upgrade plan for cluster %s/%s\n", c.Namespace, c.Name)
	fmt.Fprintf(out, "  Kubernetes:     %s -> %s\n", c.Spec.Version, target)
	fmt.Fprintf(out, "  1. control plane: %d replica(s) replaced one at a time; the API stays served\n", ptrOr(c.Spec.ControlPlane.Replicas))
	for i, n := range printers.SortedGroups(c) {
		st := c.Status.NodeGroups[n]
		fmt.Fprintf(out, "  %d. node group %s: %d node(s) moved to %s\n", i+2, n, st.Replicas, target)
	}
	fmt.Fprintf(out, "  Add-ons stay as they are. Phase goes Upgrading, then Ready.\n")
}
