package cmd

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/plugin/pkg/edit"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
)

const scaleLong = `Set the autoscaler bounds of a node group.

The platform's autoscaler owns the node count between --min and --max: it adds nodes when
pods cannot be scheduled for lack of CPU, memory or GPUs on the group, and removes nodes that
stayed empty for a while, never going below --min. So you do not set a count; you set the
bounds. --min 0 lets an idle group shrink to no nodes; --min equal to --max pins the count.
Only the fields given change (server-side apply, field manager kubectl-hikube).`

func newScaleCmd(f *Factory) *cobra.Command {
	o := newEditOptions(f, "scaled")
	var groupName string
	var min, max int32
	c := &cobra.Command{
		Use:               "scale NAME --node-group GROUP [--min N] [--max N]",
		Short:             "Set the autoscaler bounds (min..max) of a node group",
		Long:              scaleLong,
		Example:           "  kubectl hikube scale web --node-group web --min 0 --max 20\n  kubectl hikube scale web --node-group web --min 3 --max 3 --wait",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE: func(c *cobra.Command, args []string) error {
			var minP, maxP *int32
			if c.Flags().Changed("min") {
				minP = ptr.To(min)
			}
			if c.Flags().Changed("max") {
				maxP = ptr.To(max)
			}
			if err := validateScale(groupName, minP, maxP); err != nil {
				return err
			}
			return o.run(args[0], func(before, after *v1alpha1.Cluster) string {
				b, a := group(before, groupName), group(after, groupName)
				return fmt.Sprintf("node group %s scaled: min %s -> %s, max %s -> %s", groupName, bound(b.MinReplicas), bound(a.MinReplicas), bound(b.MaxReplicas), bound(a.MaxReplicas))
			}, edit.Scale(groupName, minP, maxP))
		},
	}
	c.Flags().StringVar(&groupName, "node-group", "", "the node group to scale (required)")
	c.Flags().Int32Var(&min, "min", 0, "lower bound of the autoscaler (0 allowed)")
	c.Flags().Int32Var(&max, "max", 0, "upper bound of the autoscaler")
	o.addFlags(c, true)
	c.RegisterFlagCompletionFunc("node-group", completeNodeGroups(f)) //nolint:errcheck
	return c
}

func validateScale(group string, min, max *int32) error {
	switch {
	case group == "":
		return exitcode.UsageErrorf("--node-group is required: which group to scale")
	case min == nil && max == nil:
		return exitcode.UsageErrorf("give --min, --max or both")
	case min != nil && *min < 0:
		return exitcode.UsageErrorf("--min %d: must be 0 or more", *min)
	case max != nil && *max < 0:
		return exitcode.UsageErrorf("--max %d: must be 0 or more", *max)
	case max != nil && *max > catalog.MaxReplicasPerGroup:
		return exitcode.UsageErrorf("--max %d: a node group has at most %d nodes", *max, catalog.MaxReplicasPerGroup)
	case min != nil && max != nil && *min > *max:
		return exitcode.UsageErrorf("--min %d is greater than --max %d", *min, *max)
	}
	return nil
}
