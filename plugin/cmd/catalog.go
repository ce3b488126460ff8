package cmd

import (
	"github.com/spf13/cobra"

	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
	"github.com/hikube/hikube/plugin/pkg/printers"
)

func newInstanceTypesCmd(f *Factory) *cobra.Command {
	var family string
	c := &cobra.Command{
		Use:     "instance-types",
		Aliases: []string{"instancetypes", "it"},
		Short:   "List the instance types (S1 standard, U1 universal, M1 memory) with vCPU and memory",
		Args:    exactArgs(),
		RunE: func(c *cobra.Command, args []string) error {
			if family != "" {
				ok := false
				for _, fam := range catalog.Families {
					ok = ok || fam.Name == family
				}
				if !ok {
					return exitcode.UsageErrorf("--family %q: one of s1, u1, m1", family)
				}
			}
			return printers.InstanceTypesTable(f.Streams.Out, catalog.InstanceTypes(), family)
		},
	}
	c.Flags().StringVar(&family, "family", "", "only this family: s1, u1 or m1")
	c.RegisterFlagCompletionFunc("family", fixedCompletion("s1", "u1", "m1")) //nolint:errcheck
	return c
}

func newVersionsCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "versions",
		Short: "List the supported Kubernetes minors (the default is marked)",
		Args:  exactArgs(),
		RunE: func(c *cobra.Command, args []string) error {
			return printers.VersionsTable(f.Streams.Out, catalog.SupportedVersions, catalog.NewestVersion())
		},
	}
}
