package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

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
		Short:   "Enable or disable the add-ons of a cluster (" + joinAddons() + ")",
	}
	c.AddCommand(newAddonSwitchCmd(f, true), newAddonSwitchCmd(f, false))
	return c
}

func newAddonSwitchCmd(f *Factory, enable bool) *cobra.Command {
	o := newEditOptions(f, "configured")
	verb := "enable"
	if !enable {
		verb = "disable"
	}
	c := &cobra.Command{
		Use:               verb + " NAME ADDON...",
		Short:             strings.ToUpper(verb[:1]) + verb[1:] + " add-ons: " + joinAddons(),
		Example:           fmt.Sprintf("  kubectl hikube addon %s web cert-manager ingress-nginx", verb),
		ValidArgsFunction: completeClusterThenAddons(f),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) < 2 {
				return exitcode.UsageErrorf("addon %s needs the cluster NAME and at least one ADDON (%s)", verb, joinAddons())
			}
			var edits []edit.Edit
			for _, a := range args[1:] {
				key, err := clusterspec.AddonKey(a)
				if err != nil {
					return exitcode.Wrap(exitcode.Usage, err)
				}
				edits = append(edits, edit.SetAddon(key, enable))
			}
			return o.run(args[0], func(_, _ *v1alpha1.Cluster) string {
				return fmt.Sprintf("add-on(s) %s %sd", strings.Join(args[1:], ", "), verb)
			}, edits...)
		},
	}
	o.addFlags(c, true)
	return c
}
