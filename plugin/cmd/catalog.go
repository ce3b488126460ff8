package cmd

import (
	"context"
	"slices"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
	"github.com/hikube/hikube/plugin/pkg/printers"
)

// InstanceTypesOptions are the options of `instance-types`.
type InstanceTypesOptions struct {
	genericiooptions.IOStreams
	Family string // "" for all
}

// NewInstanceTypesOptions returns the options of `instance-types` with their defaults.
func NewInstanceTypesOptions(streams genericiooptions.IOStreams) *InstanceTypesOptions {
	return &InstanceTypesOptions{IOStreams: streams}
}

func newInstanceTypesCmd(f *Factory) *cobra.Command {
	o := NewInstanceTypesOptions(f.Streams)
	c := &cobra.Command{
		Use:     "instance-types",
		Aliases: []string{"instancetypes", "it"},
		Short:   "List the instance types (S1 standard, U1 universal, M1 memory) with vCPU and memory",
		Args:    exactArgs(),
		RunE:    runE(f, o),
	}
	c.Flags().StringVar(&o.Family, "family", "", "only this family: s1, u1 or m1")
	c.RegisterFlagCompletionFunc("family", fixedCompletion("s1", "u1", "m1")) //nolint:errcheck
	return c
}

// Complete needs nothing: the table is the plugin's catalog.
func (o *InstanceTypesOptions) Complete(*Factory, *cobra.Command, []string) error { return nil }

// Validate refuses an unknown family.
func (o *InstanceTypesOptions) Validate() error {
	if o.Family == "" {
		return nil
	}
	if !slices.ContainsFunc(catalog.Families, func(fam catalog.Family) bool { return fam.Name == o.Family }) {
		return exitcode.UsageErrorf("--family %q: one of s1, u1, m1", o.Family)
	}
	return nil
}

// Run prints the table.
func (o *InstanceTypesOptions) Run(context.Context) error {
	return printers.InstanceTypesTable(o.Out, catalog.InstanceTypes(), o.Family)
}

// VersionsOptions are the options of `versions`.
type VersionsOptions struct {
	genericiooptions.IOStreams
}

// NewVersionsOptions returns the options of `versions`.
func NewVersionsOptions(streams genericiooptions.IOStreams) *VersionsOptions {
	return &VersionsOptions{IOStreams: streams}
}

func newVersionsCmd(f *Factory) *cobra.Command {
	o := NewVersionsOptions(f.Streams)
	return &cobra.Command{
		Use:   "versions",
		Short: "List the supported Kubernetes minors (the default is marked)",
		Args:  exactArgs(),
		RunE:  runE(f, o),
	}
}

// Complete needs nothing: the table is the plugin's catalog.
func (o *VersionsOptions) Complete(*Factory, *cobra.Command, []string) error { return nil }

// Validate has nothing to check.
func (o *VersionsOptions) Validate() error { return nil }

// Run prints the table.
func (o *VersionsOptions) Run(context.Context) error {
	return printers.VersionsTable(o.Out, catalog.SupportedVersions, catalog.NewestVersion())
}
