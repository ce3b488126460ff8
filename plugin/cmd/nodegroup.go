package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	typedv1alpha1 "github.com/hikube/hikube/pkg/generated/clientset/versioned/typed/apps/v1alpha1"
	"github.com/hikube/hikube/plugin/pkg/clusterspec"
	"github.com/hikube/hikube/plugin/pkg/edit"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
	"github.com/hikube/hikube/plugin/pkg/printers"
	"github.com/hikube/hikube/plugin/pkg/term"
)

func newNodeGroupCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:     "nodegroup",
		Aliases: []string{"nodegroups", "ng"},
		Short:   "Add, delete and list the node groups of a cluster",
	}
	c.AddCommand(newNodeGroupListCmd(f), newNodeGroupAddCmd(f), newNodeGroupDeleteCmd(f))
	return c
}

// NodeGroupListOptions are the options of `nodegroup list`.
type NodeGroupListOptions struct {
	genericiooptions.IOStreams
	Output *OutputFlags
	Name   string

	// Set by Complete (or by a test).
	Clusters typedv1alpha1.ClusterInterface
}

// NewNodeGroupListOptions returns the options of `nodegroup list` with their defaults.
func NewNodeGroupListOptions(streams genericiooptions.IOStreams) *NodeGroupListOptions {
	return &NodeGroupListOptions{IOStreams: streams, Output: newTableOutputFlags()}
}

func newNodeGroupListCmd(f *Factory) *cobra.Command {
	o := NewNodeGroupListOptions(f.Streams)
	c := &cobra.Command{
		Use:               "list NAME",
		Aliases:           []string{"ls"},
		Short:             "List the node groups of a cluster with ready/desired, bounds, type, GPUs and zones",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE:              runE(f, o),
	}
	o.Output.AddFlags(c)
	return c
}

// Complete takes the cluster name and makes the clusters client.
func (o *NodeGroupListOptions) Complete(f *Factory, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	var err error
	_, o.Clusters, err = f.NamespacedClusters()
	return err
}

// Validate refuses an unknown -o.
func (o *NodeGroupListOptions) Validate() error { return o.Output.Validate() }

// Run prints the node groups.
func (o *NodeGroupListOptions) Run(ctx context.Context) error {
	cl, err := o.Clusters.Get(ctx, o.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if o.Output.Format() == "" || o.Output.Format() == "wide" {
		return printers.NodeGroupsTable(o.Out, cl)
	}
	setClusterKind(cl)
	return o.Output.PrintObjects(o.Out, cl)
}

// NodeGroupAddOptions are the options of `nodegroup add`.
type NodeGroupAddOptions struct {
	editOptions
	Name       string
	NodeGroups []string // --node-group specs

	groups []clusterspec.NodeGroupSpec // parsed by Validate
}

// NewNodeGroupAddOptions returns the options of `nodegroup add` with their defaults.
func NewNodeGroupAddOptions(streams genericiooptions.IOStreams) *NodeGroupAddOptions {
	return &NodeGroupAddOptions{editOptions: newEditOptions(streams, "configured")}
}

func newNodeGroupAddCmd(f *Factory) *cobra.Command {
	o := NewNodeGroupAddOptions(f.Streams)
	c := &cobra.Command{
		Use:               "add NAME --node-group name=GROUP,instance-type=TYPE,min=N,max=N,...",
		Short:             "Add node groups to a cluster",
		Long:              "Add node groups to a cluster. The --node-group spec is that of 'kubectl hikube create cluster --help'.",
		Example:           "  kubectl hikube nodegroup add prod --node-group name=batch,instance-type=m1.2xlarge,min=0,max=4",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE:              runE(f, o),
	}
	c.Flags().StringArrayVar(&o.NodeGroups, "node-group", nil, "a node group spec (repeatable)")
	o.addFlags(c, true)
	registerNodeGroupSpecCompletion(c)
	return c
}

// Complete takes the cluster name and makes the clusters client.
func (o *NodeGroupAddOptions) Complete(f *Factory, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	return o.complete(f)
}

// Validate parses the specs; a bad one is refused with the part at fault.
func (o *NodeGroupAddOptions) Validate() error {
	if len(o.NodeGroups) == 0 {
		return exitcode.UsageErrorf("give at least one --node-group name=GROUP,...")
	}
	o.groups = o.groups[:0]
	for _, s := range o.NodeGroups {
		ng, err := clusterspec.ParseNodeGroup(s)
		if err != nil {
			return exitcode.Wrap(exitcode.Usage, err)
		}
		o.groups = append(o.groups, ng)
	}
	return o.validate()
}

// Run adds the groups.
func (o *NodeGroupAddOptions) Run(ctx context.Context) error {
	var edits []edit.Edit
	var names []string
	for _, ng := range o.groups {
		edits = append(edits, edit.AddNodeGroup(ng.Name, ng.Group))
		names = append(names, ng.Name)
	}
	return o.run(ctx, o.Name, func(_, _ *v1alpha1.Cluster) string {
		return "node group(s) " + strings.Join(names, ", ") + " added"
	}, edits...)
}

// NodeGroupDeleteOptions are the options of `nodegroup delete`.
type NodeGroupDeleteOptions struct {
	editOptions
	Name      string
	NodeGroup string
	Yes       bool // do not ask
}

// NewNodeGroupDeleteOptions returns the options of `nodegroup delete` with their defaults.
func NewNodeGroupDeleteOptions(streams genericiooptions.IOStreams) *NodeGroupDeleteOptions {
	return &NodeGroupDeleteOptions{editOptions: newEditOptions(streams, "configured")}
}

func newNodeGroupDeleteCmd(f *Factory) *cobra.Command {
	o := NewNodeGroupDeleteOptions(f.Streams)
	c := &cobra.Command{
		Use:               "delete NAME GROUP",
		Aliases:           []string{"rm"},
		Short:             "Delete a node group and its nodes (asks for confirmation)",
		Args:              exactArgs("NAME", "GROUP"),
		ValidArgsFunction: completeClusterThenGroup(f),
		RunE:              runE(f, o),
	}
	c.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation (needed without a TTY)")
	o.addFlags(c, true)
	return c
}

// Complete takes the cluster and group names and makes the clusters client.
func (o *NodeGroupDeleteOptions) Complete(f *Factory, _ *cobra.Command, args []string) error {
	o.Name, o.NodeGroup = args[0], args[1]
	return o.complete(f)
}

// Validate refuses an unknown -o.
func (o *NodeGroupDeleteOptions) Validate() error { return o.validate() }

// Run shows what goes, asks for confirmation, and removes the group.
func (o *NodeGroupDeleteOptions) Run(ctx context.Context) error {
	cl, err := o.get(ctx, o.Name)
	if err != nil {
		return err
	}
	g, ok := cl.Spec.NodeGroups[o.NodeGroup]
	if !ok {
		return exitcode.New(exitcode.NotFound, "cluster %s has no node group %q", o.Name, o.NodeGroup)
	}
	st := cl.Status.NodeGroups[o.NodeGroup]
	fmt.Fprintf(o.ErrOut, "Node group %s of cluster %s/%s: %s, %d..%d nodes, %d running, GPUs %s.\nIts nodes are drained and removed; pods that fit nowhere else stay Pending.\n",
		o.NodeGroup, cl.Namespace, o.Name, g.InstanceType, ptrOr(g.MinReplicas), ptrOr(g.MaxReplicas), st.Replicas, clusterspec.FormatGPUs(g.GPUs))
	if err := confirm(o.IOStreams, o.Yes, o.DryRun, fmt.Sprintf("Type the node group name (%s) to delete it:", o.NodeGroup), o.NodeGroup); err != nil {
		return err
	}
	return o.run(ctx, o.Name, func(_, _ *v1alpha1.Cluster) string { return "node group " + o.NodeGroup + " deleted" }, edit.DeleteNodeGroup(o.NodeGroup))
}

// confirm asks on a TTY; without one it refuses unless --yes.
func confirm(streams genericiooptions.IOStreams, yes, dryRun bool, question, expected string) error {
	if yes || dryRun {
		return nil
	}
	if !term.IsTerminal(streams.In) {
		return exitcode.UsageErrorf("refusing to delete without confirmation: stdin is not a terminal; pass --yes to confirm")
	}
	ok, err := term.Confirm(streams.In, streams.ErrOut, question, expected)
	if err != nil {
		return err
	}
	if !ok {
		return exitcode.New(exitcode.Failure, "aborted: the confirmation did not match %q; nothing was deleted", expected)
	}
	return nil
}

func ptrOr(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// getCluster reads a cluster of the command's namespace (for completion).
func getCluster(f *Factory, name string) (*v1alpha1.Cluster, error) {
	_, clusters, err := f.NamespacedClusters()
	if err != nil {
		return nil, err
	}
	ctx, cancel := Context()
	defer cancel()
	return clusters.Get(ctx, name, metav1.GetOptions{})
}
