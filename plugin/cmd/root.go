// Package cmd holds the cobra verbs of kubectl-hikube. Each verb is an
// Options struct (NewXOptions(streams), the k8s.io/sample-cli-plugin shape)
// and a thin cobra command that binds its flags: Complete (read the
// arguments and the kubeconfig, make the clients), Validate (refuse bad
// input before anything is sent), Run(ctx) (call the logic in plugin/pkg and
// print). Tests build the Options directly, with fake clients.
package cmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"

	"github.com/hikube/hikube/plugin/pkg/exitcode"
)

const rootLong = `kubectl hikube manages Hikube clusters: managed Kubernetes clusters with node groups,
GPUs and add-ons, spread over the geneva, lucerne and gland datacenters.

It talks to the Hikube API with your kubeconfig (--kubeconfig, --context, -n; the namespace is
your tenant, taken from the context when -n is absent). Data goes to stdout; progress,
warnings and errors go to stderr. Colour only on a terminal, never with NO_COLOR set.

Quick start:
  kubectl hikube create cluster web --node-group name=web,instance-type=s1.large,min=2,max=10 --wait
  kubectl hikube status web
  kubectl hikube kubeconfig web --merge --switch && kubectl get nodes

` + exitcode.Table

// NewRootCmd builds the kubectl-hikube command tree on streams.
func NewRootCmd(streams genericiooptions.IOStreams) *cobra.Command {
	f := &Factory{
		ConfigFlags: genericclioptions.NewConfigFlags(true),
		Streams:     streams,
	}
	root := &cobra.Command{
		Use:           "kubectl-hikube",
		Short:         "Create and run Hikube Kubernetes clusters",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
		// kubectl runs the plugin as `kubectl hikube`; help shows that name.
		Annotations: map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl hikube"},
		PersistentPreRun: func(*cobra.Command, []string) {
			warnings.reset(streams.ErrOut)
			rest.SetDefaultWarningHandler(warnings)
		},
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	f.ConfigFlags.AddFlags(root.PersistentFlags())
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exitcode.Wrap(exitcode.Usage, fmt.Errorf("%w\nSee '%s --help' for usage.", err, c.CommandPath()))
	})
	registerGlobalCompletions(f, root)

	root.AddGroup(
		&cobra.Group{ID: "clusters", Title: "Clusters:"},
		&cobra.Group{ID: "groups", Title: "Node groups, GPUs and add-ons:"},
		&cobra.Group{ID: "access", Title: "Access:"},
		&cobra.Group{ID: "catalog", Title: "Catalog and quota:"},
	)
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("clusters", newCreateCmd(f), newGetCmd(f), newStatusCmd(f), newEventsCmd(f), newWaitCmd(f), newUpgradeCmd(f), newDeleteCmd(f))
	add("groups", newScaleCmd(f), newNodeGroupCmd(f), newGPUCmd(f), newAddonCmd(f))
	add("access", newKubeconfigCmd(f), newConnectCmd(f), newCredentialCmd(f))
	add("catalog", newInstanceTypesCmd(f), newVersionsCmd(f), newQuotaCmd(f))
	root.AddCommand(newCompletionCmd(f, root))
	return root
}

// Execute runs the command line and returns the exit code; the error, if
// any, is printed as one line on stderr.
func Execute(root *cobra.Command, streams genericiooptions.IOStreams) int {
	err := root.Execute()
	if err == nil {
		warnings.flush()
		return exitcode.OK
	}
	warnings.drop()
	code := exitcode.Code(err)
	var coded *exitcode.Error
	if code == exitcode.Failure && !errors.As(err, &coded) && isCobraUsage(err) {
		code = exitcode.Usage
	}
	fmt.Fprintf(streams.ErrOut, "error: %s\n", exitcode.Message(err))
	return code
}

func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// exactArgs is cobra.ExactArgs with a usage exit code and names.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return exitcode.UsageErrorf("%s needs %s (got %d argument(s))\nSee '%s --help' for usage.", c.CommandPath(), strings.Join(names, " "), len(args), c.CommandPath())
		}
		return nil
	}
}
