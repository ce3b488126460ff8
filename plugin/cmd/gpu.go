package cmd

import (
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/plugin/pkg/clusterspec"
	"github.com/hikube/hikube/plugin/pkg/edit"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
	"github.com/hikube/hikube/plugin/pkg/printers"
)

func newGPUCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:     "gpu",
		Aliases: []string{"gpus"},
		Short:   "List GPU models and attach or detach GPUs of a node group",
	}
	c.AddCommand(newGPUListCmd(f), newGPUAttachCmd(f, true), newGPUAttachCmd(f, false))
	return c
}

func newGPUListCmd(f *Factory) *cobra.Command {
	output := newOutputFlags("")
	c := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls", "models"},
		Short:   "List GPU models with free/capacity per datacenter",
		Args:    exactArgs(),
		RunE: func(c *cobra.Command, args []string) error {
			if err := output.Validate(); err != nil {
				return err
			}
			cs, err := f.Hikube()
			if err != nil {
				return err
			}
			ctx, cancel := Context()
			defer cancel()
			list, err := cs.AppsV1alpha1().GPUModels().List(ctx, metav1.ListOptions{})
			if err != nil {
				return err
			}
			sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
			if output.Human() && output.Format() == "" || output.Format() == "wide" {
				return printers.GPUModelsTable(f.Streams.Out, list.Items)
			}
			for i := range list.Items {
				list.Items[i].APIVersion, list.Items[i].Kind = v1alpha1.SchemeGroupVersion.String(), "GPUModel"
			}
			return output.PrintObjects(f.Streams.Out, list)
		},
	}
	output.AddFlags(c, true)
	return c
}

const gpuAttachLong = `Attach GPUs to every node of a node group: --count GPUs of --model per node.

The model comes from the catalog ('kubectl hikube gpu list'; short name such as nvidia.com/L40S
or device name), 1 to %d per node, one model per group, and only on the u1 and m1 families (s1
is shared). All of this is checked before anything is sent. The platform reserves
count x maxReplicas GPUs of the model; it refuses a reservation beyond the free capacity.`

func newGPUAttachCmd(f *Factory, attach bool) *cobra.Command {
	o := newEditOptions(f, "configured")
	var groupName, model, spec string
	var count int
	use, short := "attach", "Attach GPUs to the nodes of a node group"
	if !attach {
		use, short = "detach", "Detach GPUs from the nodes of a node group (all, or --count of them)"
	}
	c := &cobra.Command{
		Use:               use + " NAME --node-group GROUP --model MODEL [--count N]",
		Short:             short,
		Long:              fmt.Sprintf(gpuAttachLong, catalog.MaxGPUsPerNode),
		Example:           "  kubectl hikube gpu attach ml --node-group ml --model nvidia.com/L40S --count 2\n  kubectl hikube gpu attach ml --node-group ml --gpu nvidia.com/H100:1\n  kubectl hikube gpu detach ml --node-group ml",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE: func(c *cobra.Command, args []string) error {
			if groupName == "" {
				return exitcode.UsageErrorf("--node-group is required")
			}
			if spec != "" && (model != "" || c.Flags().Changed("count")) {
				return exitcode.UsageErrorf("--gpu MODEL:COUNT and --model/--count do not mix")
			}
			if spec == "" && model != "" {
				spec = fmt.Sprintf("%s:%d", model, count)
			}
			cl, err := getCluster(f, args[0])
			if err != nil {
				return err
			}
			g, ok := cl.Spec.NodeGroups[groupName]
			if !ok {
				return exitcode.New(exitcode.NotFound, "cluster %s has no node group %q", cl.Name, groupName)
			}
			var gpus []v1alpha1.GPU
			if attach {
				gpus, err = attachGPUs(g, spec)
			} else {
				gpus, err = detachGPUs(g, spec, c.Flags().Changed("count") || spec != "")
			}
			if err != nil {
				return exitcode.Wrap(exitcode.Usage, err)
			}
			return o.run(cl.Name, func(before, after *v1alpha1.Cluster) string {
				return fmt.Sprintf("node group %s GPUs per node: %s -> %s", groupName,
					clusterspec.FormatGPUs(group(before, groupName).GPUs), clusterspec.FormatGPUs(group(after, groupName).GPUs))
			}, edit.SetGPUs(groupName, gpus))
		},
	}
	c.Flags().StringVar(&groupName, "node-group", "", "the node group (required)")
	c.Flags().StringVar(&model, "model", "", "GPU model, such as nvidia.com/L40S")
	c.Flags().IntVar(&count, "count", 1, "GPUs per node")
	c.Flags().StringVar(&spec, "gpu", "", "model and count as MODEL[:COUNT], such as nvidia.com/L40S:2")
	o.addFlags(c, true)
	c.RegisterFlagCompletionFunc("node-group", completeNodeGroups(f)) //nolint:errcheck
	c.RegisterFlagCompletionFunc("model", completeGPUModels)          //nolint:errcheck
	c.RegisterFlagCompletionFunc("gpu", completeGPUModels)            //nolint:errcheck
	return c
}

// attachGPUs is the group's GPU list after attaching spec: the given count
// of the model per node (replacing the count if the model is there).
func attachGPUs(g v1alpha1.NodeGroup, spec string) ([]v1alpha1.GPU, error) {
	if spec == "" {
		return nil, fmt.Errorf("--model (or --gpu MODEL:COUNT) is required")
	}
	gs, err := clusterspec.ParseGPU(spec)
	if err != nil {
		return nil, fmt.Errorf("--gpu %v", err)
	}
	for m := range clusterspec.CountGPUs(g.GPUs) {
		if want, _ := catalog.LookupGPU(gs.Model); m != want.ShortName {
			return nil, fmt.Errorf("the group already carries %s and a group has one model; detach it first (kubectl hikube gpu detach)", m)
		}
	}
	if err := clusterspec.CheckGPUFamily(g.InstanceType, gs.Model); err != nil {
		return nil, err
	}
	return gs.Entries(), nil
}

// detachGPUs is the group's GPU list after detaching: all of them, or count
// of the model.
func detachGPUs(g v1alpha1.NodeGroup, spec string, partial bool) ([]v1alpha1.GPU, error) {
	if len(g.GPUs) == 0 {
		return nil, fmt.Errorf("the node group has no GPUs")
	}
	if !partial {
		return nil, nil
	}
	if spec == "" {
		return nil, fmt.Errorf("--count needs --model")
	}
	gs, err := clusterspec.ParseGPU(spec)
	if err != nil {
		return nil, fmt.Errorf("--gpu %v", err)
	}
	want, _ := catalog.LookupGPU(gs.Model)
	have := clusterspec.CountGPUs(g.GPUs)[want.ShortName]
	if have == 0 {
		return nil, fmt.Errorf("the node group carries %s, not %s", clusterspec.FormatGPUs(g.GPUs), want.ShortName)
	}
	if gs.Count > have {
		return nil, fmt.Errorf("--count %d is more than the %d GPUs per node the group has", gs.Count, have)
	}
	left := v1alpha1.GPU{Name: g.GPUs[0].Name}
	out := make([]v1alpha1.GPU, have-gs.Count)
	for i := range out {
		out[i] = left
	}
	return out, nil
}
