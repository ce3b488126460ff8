package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

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

// ScaleOptions are the options of `scale`.
type ScaleOptions struct {
	editOptions
	Name      string
	NodeGroup string
	// MinReplicas and MaxReplicas are nil when not given: only the bounds
	// given change.
	MinReplicas *int32
	MaxReplicas *int32
}

// NewScaleOptions returns the options of `scale` with their defaults.
func NewScaleOptions(streams genericiooptions.IOStreams) *ScaleOptions {
	return &ScaleOptions{editOptions: newEditOptions(streams, "scaled")}
}

func newScaleCmd(f *Factory) *cobra.Command {
	o := NewScaleOptions(f.Streams)
	c := &cobra.Command{
		Use:               "scale NAME --node-group GROUP [--min N] [--max N]",
		Short:             "Set the autoscaler bounds (min..max) of a node group",
		Long:              scaleLong,
		Example:           "  kubectl hikube scale web --node-group web --min 0 --max 20\n  kubectl hikube scale web --node-group web --min 3 --max 3 --wait",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE:              runE(f, o),
	}
	c.Flags().StringVar(&o.NodeGroup, "node-group", "", "the node group to scale (required)")
	c.Flags().Var(optionalInt32{&o.MinReplicas}, "min", "lower bound of the autoscaler (0 allowed)")
	c.Flags().Var(optionalInt32{&o.MaxReplicas}, "max", "upper bound of the autoscaler")
	o.addFlags(c, true)
	c.RegisterFlagCompletionFunc("node-group", completeNodeGroups(f)) //nolint:errcheck
	return c
}

// Complete takes the cluster name and makes the clusters client.
func (o *ScaleOptions) Complete(f *Factory, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	return o.complete(f)
}

// Validate refuses bounds the API would refuse, before anything is sent.
func (o *ScaleOptions) Validate() error {
	if err := validateScale(o.NodeGroup, o.MinReplicas, o.MaxReplicas); err != nil {
		return err
	}
	return o.validate()
}

// Run applies the bounds.
func (o *ScaleOptions) Run(ctx context.Context) error {
	return o.run(ctx, o.Name, func(before, after *v1alpha1.Cluster) string {
		b, a := group(before, o.NodeGroup), group(after, o.NodeGroup)
		return fmt.Sprintf("node group %s scaled: min %s -> %s, max %s -> %s", o.NodeGroup, bound(b.MinReplicas), bound(a.MinReplicas), bound(b.MaxReplicas), bound(a.MaxReplicas))
	}, edit.Scale(o.NodeGroup, o.MinReplicas, o.MaxReplicas))
}

func validateScale(group string, lower, upper *int32) error {
	switch {
	case group == "":
		return exitcode.UsageErrorf("--node-group is required: which group to scale")
	case lower == nil && upper == nil:
		return exitcode.UsageErrorf("give --min, --max or both")
	case lower != nil && *lower < 0:
		return exitcode.UsageErrorf("--min %d: must be 0 or more", *lower)
	case upper != nil && *upper < 0:
		return exitcode.UsageErrorf("--max %d: must be 0 or more", *upper)
	case upper != nil && *upper > catalog.MaxReplicasPerGroup:
		return exitcode.UsageErrorf("--max %d: a node group has at most %d nodes", *upper, catalog.MaxReplicasPerGroup)
	case lower != nil && upper != nil && *lower > *upper:
		return exitcode.UsageErrorf("--min %d is greater than --max %d", *lower, *upper)
	}
	return nil
}
