package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
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

func newNodeGroupListCmd(f *Factory) *cobra.Command {
	output := newOutputFlags("")
	c := &cobra.Command{
		Use:               "list NAME",
		Aliases:           []string{"ls"},
		Short:             "List the node groups of a cluster with ready/desired, bounds, type, GPUs and zones",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE: func(c *cobra.Command, args []string) error {
			if err := output.Validate(); err != nil {
				return err
			}
			cl, err := getCluster(f, args[0])
			if err != nil {
				return err
			}
			if output.Format() == "" || output.Format() == "wide" {
				return printers.NodeGroupsTable(f.Streams.Out, cl)
			}
			setClusterKind(cl)
			return output.PrintObjects(f.Streams.Out, cl)
		},
	}
	output.AddFlags(c, true)
	return c
}

func newNodeGroupAddCmd(f *Factory) *cobra.Command {
	o := newEditOptions(f, "configured")
	var specs []string
	c := &cobra.Command{
		Use:               "add NAME --node-group name=GROUP,instance-type=TYPE,min=N,max=N,...",
		Short:             "Add node groups to a cluster",
		Long:              "Add node groups to a cluster. The --node-group spec is that of 'kubectl hikube create cluster --help'.",
		Example:           "  kubectl hikube nodegroup add prod --node-group name=batch,instance-type=m1.2xlarge,min=0,max=4",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE: func(c *cobra.Command, args []string) error {
			if len(specs) == 0 {
				return exitcode.UsageErrorf("give at least one --node-group name=GROUP,...")
			}
			var edits []edit.Edit
			var names []string
			for _, s := range specs {
				ng, err := clusterspec.ParseNodeGroup(s)
				if err != nil {
					return exitcode.Wrap(exitcode.Usage, err)
				}
				edits = append(edits, edit.AddNodeGroup(ng.Name, ng.Group))
				names = append(names, ng.Name)
			}
			return o.run(args[0], func(_, _ *v1alpha1.Cluster) string {
				return "node group(s) " + strings.Join(names, ", ") + " added"
			}, edits...)
		},
	}
	c.Flags().StringArrayVar(&specs, "node-group", nil, "a node group spec (repeatable)")
	o.addFlags(c, true)
	registerNodeGroupSpecCompletion(c)
	return c
}

func newNodeGroupDeleteCmd(f *Factory) *cobra.Command {
	o := newEditOptions(f, "configured")
	var yes bool
	c := &cobra.Command{
		Use:               "delete NAME GROUP",
		Aliases:           []string{"rm"},
		Short:             "Delete a node group and its nodes (asks for confirmation)",
		Args:              exactArgs("NAME", "GROUP"),
		ValidArgsFunction: completeClusterThenGroup(f),
		RunE: func(c *cobra.Command, args []string) error {
			name, groupName := args[0], args[1]
			cl, err := getCluster(f, name)
			if err != nil {
				return err
			}
			g, ok := cl.Spec.NodeGroups[groupName]
			if !ok {
				return exitcode.New(exitcode.NotFound, "cluster %s has no node group %q", name, groupName)
			}
			st := cl.Status.NodeGroups[groupName]
			fmt.Fprintf(f.Streams.ErrOut, "Node group %s of cluster %s/%s: %s, %d..%d nodes, %d running, GPUs %s.\nIts nodes are drained and removed; pods that fit nowhere else stay Pending.\n",
				groupName, cl.Namespace, name, g.InstanceType, ptrOr(g.MinReplicas), ptrOr(g.MaxReplicas), st.Replicas, clusterspec.FormatGPUs(g.GPUs))
			if err := confirm(f, yes, o.dryRun, fmt.Sprintf("Type the node group name (%s) to delete it:", groupName), groupName); err != nil {
				return err
			}
			return o.run(name, func(_, _ *v1alpha1.Cluster) string { return "node group " + groupName + " deleted" }, edit.DeleteNodeGroup(groupName))
		},
	}
	c.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (needed without a TTY)")
	o.addFlags(c, true)
	return c
}

// confirm asks on a TTY; without one it refuses unless --yes.
func confirm(f *Factory, yes, dryRun bool, question, expected string) error {
	if yes || dryRun {
		return nil
	}
	if !term.IsTerminal(f.Streams.In) {
		return exitcode.UsageErrorf("refusing to delete without confirmation: stdin is not a terminal; pass --yes to confirm")
	}
	ok, err := term.Confirm(f.Streams.In, f.Streams.ErrOut, question, expected)
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

func getCluster(f *Factory, name string) (*v1alpha1.Cluster, error) {
	_, clusters, err := f.NamespacedClusters()
	if err != nil {
		return nil, err
	}
	ctx, cancel := Context()
	defer cancel()
	return clusters.Get(ctx, name, metav1.GetOptions{})
}
