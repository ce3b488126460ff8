package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/plugin/pkg/clusterspec"
	"github.com/hikube/hikube/plugin/pkg/edit"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
)

func joinAddons() string { return strings.Join(clusterspec.AddonFlagNames(), ", ") }

func newAddonCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:     "addon",
		Aliases: []string{"addons"},
		Short:   "List, enable, disable the add-ons of a cluster and show their Helm values (" + joinAddons() + ")",
	}
	c.AddCommand(newAddonListCmd(f), newAddonSwitchCmd(f, true), newAddonSwitchCmd(f, false), newAddonValuesCmd(f))
	return c
}

// AddonOptions are the options of `addon enable` and `addon disable`.
type AddonOptions struct {
	editOptions
	Enable bool
	Name   string
	Addons []string // as typed: flag names (cert-manager) or spec keys (certManager)

	keys []string // spec keys, set by Validate
}

// NewAddonOptions returns the options of `addon enable` (enable) or `addon disable`.
func NewAddonOptions(streams genericiooptions.IOStreams, enable bool) *AddonOptions {
	return &AddonOptions{editOptions: newEditOptions(streams, "configured"), Enable: enable}
}

func (o *AddonOptions) verb() string {
	if o.Enable {
		return "enable"
	}
	return "disable"
}

func newAddonSwitchCmd(f *Factory, enable bool) *cobra.Command {
	o := NewAddonOptions(f.Streams, enable)
	verb := o.verb()
	c := &cobra.Command{
		Use:               verb + " NAME ADDON...",
		Short:             strings.ToUpper(verb[:1]) + verb[1:] + " add-ons: " + joinAddons(),
		Example:           fmt.Sprintf("  kubectl hikube addon %s web cert-manager ingress-nginx", verb),
		ValidArgsFunction: completeClusterThenAddons(f),
		RunE:              runE(f, o),
	}
	o.addFlags(c, true)
	return c
}

// Complete takes the cluster name and the add-ons.
func (o *AddonOptions) Complete(f *Factory, _ *cobra.Command, args []string) error {
	if len(args) < 2 {
		return exitcode.UsageErrorf("addon %s needs the cluster NAME and at least one ADDON (%s)", o.verb(), joinAddons())
	}
	o.Name, o.Addons = args[0], args[1:]
	return o.complete(f)
}

// Validate refuses an unknown add-on.
func (o *AddonOptions) Validate() error {
	if len(o.Addons) == 0 {
		return exitcode.UsageErrorf("addon %s needs at least one ADDON (%s)", o.verb(), joinAddons())
	}
	o.keys = o.keys[:0]
	for _, a := range o.Addons {
		key, err := clusterspec.AddonKey(a)
		if err != nil {
			return exitcode.Wrap(exitcode.Usage, err)
		}
		o.keys = append(o.keys, key)
	}
	return o.validate()
}

// Run switches the add-ons.
func (o *AddonOptions) Run(ctx context.Context) error {
	var edits []edit.Edit
	for _, key := range o.keys {
		edits = append(edits, edit.SetAddon(key, o.Enable))
	}
	return o.run(ctx, o.Name, func(_, _ *v1alpha1.Cluster) string {
		return fmt.Sprintf("add-on(s) %s %sd", strings.Join(o.Addons, ", "), o.verb())
	}, edits...)
}
