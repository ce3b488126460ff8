package cmd

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/generated/clientset/versioned/scheme"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
	"github.com/hikube/hikube/plugin/pkg/printers"
)

// OutputFlags is cli-runtime's PrintFlags plus the human formats (the
// default table, wide and custom-columns) that live in kubectl itself.
type OutputFlags struct {
	Print *genericclioptions.PrintFlags
	human bool
}

// newOutputFlags are the machine formats only; operation is the verb of
// -o name ("created").
func newOutputFlags(operation string) *OutputFlags {
	return &OutputFlags{Print: genericclioptions.NewPrintFlags(operation).WithTypeSetter(scheme.Scheme)}
}

// newTableOutputFlags are the machine formats plus our tables (the default),
// wide and custom-columns.
func newTableOutputFlags() *OutputFlags {
	o := newOutputFlags("")
	o.human = true
	return o
}

// AddFlags adds -o and the template flags.
func (o *OutputFlags) AddFlags(c *cobra.Command) {
	o.Print.AddFlags(c)
	formats := o.Print.AllowedFormats()
	if o.human {
		formats = append(formats, "wide", "custom-columns")
	}
	c.Flags().Lookup("output").Usage = "Output format. One of: (" + strings.Join(formats, ", ") + ")."
	c.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) { //nolint:errcheck
		return formats, cobra.ShellCompDirectiveNoFileComp
	})
}

// Format is the -o value.
func (o *OutputFlags) Format() string {
	if o.Print.OutputFormat == nil {
		return ""
	}
	return *o.Print.OutputFormat
}

// Human says whether the output is for people (table, wide, custom-columns).
func (o *OutputFlags) Human() bool {
	f := o.Format()
	return o.human && (f == "" || f == "wide" || strings.HasPrefix(f, "custom-columns="))
}

// Validate refuses an unknown -o before anything is sent.
func (o *OutputFlags) Validate() error {
	if o.Human() {
		if f := o.Format(); f == "custom-columns" {
			return exitcode.UsageErrorf("-o custom-columns needs a spec: -o custom-columns=NAME:.metadata.name,PHASE:.status.phase")
		}
		return nil
	}
	if _, err := o.Print.ToPrinter(); err != nil {
		return exitcode.Wrap(exitcode.Usage, err)
	}
	return nil
}

// PrintObjects prints objects in a machine format (or custom-columns).
func (o *OutputFlags) PrintObjects(out io.Writer, objs ...runtime.Object) error {
	if f := o.Format(); strings.HasPrefix(f, "custom-columns=") {
		return printers.CustomColumns(out, strings.TrimPrefix(f, "custom-columns="), objs)
	}
	p, err := o.Print.ToPrinter()
	if err != nil {
		return exitcode.Wrap(exitcode.Usage, err)
	}
	for _, obj := range objs {
		if err := p.PrintObj(obj, out); err != nil {
			return err
		}
	}
	return nil
}

// clusterList wraps clusters as a List for json/yaml, with their kinds set.
func clusterList(items []v1alpha1.Cluster) runtime.Object {
	list := &v1alpha1.ClusterList{Items: items}
	for i := range list.Items {
		setClusterKind(&list.Items[i])
	}
	return list
}

func setClusterKind(c *v1alpha1.Cluster) {
	c.APIVersion = v1alpha1.SchemeGroupVersion.String()
	c.Kind = "Cluster"
}

// objects turns clusters into print arguments (custom-columns wants items).
func clusterObjects(items []v1alpha1.Cluster) []runtime.Object {
	out := make([]runtime.Object, len(items))
	for i := range items {
		setClusterKind(&items[i])
		out[i] = &items[i]
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
