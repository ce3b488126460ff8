package cmd

import (
	"context"
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/catalog"
	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
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

// GPUListOptions are the options of `gpu list`.
type GPUListOptions struct {
	genericiooptions.IOStreams
	Output *OutputFlags

	// Set by Complete (or by a test).
	Hikube clientset.Interface
}

// NewGPUListOptions returns the options of `gpu list` with their defaults.
func NewGPUListOptions(streams genericiooptions.IOStreams) *GPUListOptions {
	return &GPUListOptions{IOStreams: streams, Output: newTableOutputFlags()}
}

func newGPUListCmd(f *Factory) *cobra.Command {
	o := NewGPUListOptions(f.Streams)
	c := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls", "models"},
		Short:   "List GPU models with free/capacity per datacenter",
		Args:    exactArgs(),
		RunE:    runE(f, o),
	}
	o.Output.AddFlags(c)
	return c
}

// Complete makes the client.
func (o *GPUListOptions) Complete(f *Factory, _ *cobra.Command, _ []string) error {
	var err error
	o.Hikube, err = f.Hikube()
	return err
}

// Validate refuses an unknown -o.
func (o *GPUListOptions) Validate() error { return o.Output.Validate() }

// Run lists the GPU models the server serves, with their capacity.
func (o *GPUListOptions) Run(ctx context.Context) error {
	list, err := o.Hikube.AppsV1alpha1().GPUModels().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	if o.Output.Human() && o.Output.Format() == "" || o.Output.Format() == "wide" {
		return printers.GPUModelsTable(o.Out, list.Items)
	}
	for i := range list.Items {
		list.Items[i].APIVersion, list.Items[i].Kind = v1alpha1.SchemeGroupVersion.String(), "GPUModel"
	}
	return o.Output.PrintObjects(o.Out, list)
}

const gpuAttachLong = `Attach GPUs to every node of a node group: --count GPUs of --model per node.

The model comes from the catalog ('kubectl hikube gpu list'; short name such as nvidia.com/L40S
or device name), 1 to %d per node, one model per group, and only on the u1 and m1 families (s1
is shared). The count and the one model per group are checked before anything is sent; the
model and the instance family are checked by the server against its catalog (--dry-run asks
it without changing anything). The platform reserves count x maxReplicas GPUs of the model;
it refuses a reservation beyond the free capacity.`

// GPUAttachOptions are the options of `gpu attach` and `gpu detach`.
type GPUAttachOptions struct {
	editOptions
	Attach    bool // attach; false detaches
	Name      string
	NodeGroup string
	Model     string
	Count     *int32 // GPUs per node; nil: 1 to attach, all to detach
	GPU       string // MODEL[:COUNT], instead of Model and Count
}

// NewGPUAttachOptions returns the options of `gpu attach` (attach) or `gpu detach`.
func NewGPUAttachOptions(streams genericiooptions.IOStreams, attach bool) *GPUAttachOptions {
	return &GPUAttachOptions{editOptions: newEditOptions(streams, "configured"), Attach: attach}
}

func newGPUAttachCmd(f *Factory, attach bool) *cobra.Command {
	o := NewGPUAttachOptions(f.Streams, attach)
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
		RunE:              runE(f, o),
	}
	c.Flags().StringVar(&o.NodeGroup, "node-group", "", "the node group (required)")
	c.Flags().StringVar(&o.Model, "model", "", "GPU model, such as nvidia.com/L40S")
	c.Flags().Var(optionalInt32{&o.Count}, "count", "GPUs per node (default 1 to attach; all to detach)")
	c.Flags().StringVar(&o.GPU, "gpu", "", "model and count as MODEL[:COUNT], such as nvidia.com/L40S:2")
	o.addFlags(c, true)
	c.RegisterFlagCompletionFunc("node-group", completeNodeGroups(f)) //nolint:errcheck
	c.RegisterFlagCompletionFunc("model", completeGPUModels)          //nolint:errcheck
	c.RegisterFlagCompletionFunc("gpu", completeGPUModels)            //nolint:errcheck
	return c
}

// Complete takes the cluster name and makes the clusters client.
func (o *GPUAttachOptions) Complete(f *Factory, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	return o.complete(f)
}

// Validate refuses flags that do not go together.
func (o *GPUAttachOptions) Validate() error {
	if o.NodeGroup == "" {
		return exitcode.UsageErrorf("--node-group is required")
	}
	if o.GPU != "" && (o.Model != "" || o.Count != nil) {
		return exitcode.UsageErrorf("--gpu MODEL:COUNT and --model/--count do not mix")
	}
	return o.validate()
}

// spec is the GPU spec asked for, MODEL:COUNT, or "" when none.
func (o *GPUAttachOptions) spec() string {
	if o.GPU != "" || o.Model == "" {
		return o.GPU
	}
	count := int32(1)
	if o.Count != nil {
		count = *o.Count
	}
	return fmt.Sprintf("%s:%d", o.Model, count)
}

// Run checks the change against the cluster's node group and applies it.
func (o *GPUAttachOptions) Run(ctx context.Context) error {
	cl, err := o.get(ctx, o.Name)
	if err != nil {
		return err
	}
	g, ok := cl.Spec.NodeGroups[o.NodeGroup]
	if !ok {
		return exitcode.New(exitcode.NotFound, "cluster %s has no node group %q", cl.Name, o.NodeGroup)
	}
	var gpus []v1alpha1.GPU
	if o.Attach {
		gpus, err = attachGPUs(g, o.spec())
	} else {
		gpus, err = detachGPUs(g, o.spec(), o.Count != nil || o.spec() != "")
	}
	if err != nil {
		return exitcode.Wrap(exitcode.Usage, err)
	}
	return o.run(ctx, cl.Name, func(before, after *v1alpha1.Cluster) string {
		return fmt.Sprintf("node group %s GPUs per node: %s -> %s", o.NodeGroup,
			clusterspec.FormatGPUs(group(before, o.NodeGroup).GPUs), clusterspec.FormatGPUs(group(after, o.NodeGroup).GPUs))
	}, edit.SetGPUs(o.NodeGroup, gpus))
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
	// One model per group is the API's shape; whether the model exists and
	// fits the instance type is the server's catalog to say.
	for m := range clusterspec.CountGPUs(g.GPUs) {
		if m != clusterspec.GPUModelName(gs.Model) {
			return nil, fmt.Errorf("the group already carries %s and a group has one model; detach it first (kubectl hikube gpu detach)", m)
		}
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
	want := clusterspec.GPUModelName(gs.Model)
	have := clusterspec.CountGPUs(g.GPUs)[want]
	if have == 0 {
		return nil, fmt.Errorf("the node group carries %s, not %s", clusterspec.FormatGPUs(g.GPUs), want)
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
