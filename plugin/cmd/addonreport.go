package cmd

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/addons/catalog"
	"github.com/hikube/hikube/pkg/addons/helm"
	typedv1alpha1 "github.com/hikube/hikube/pkg/generated/clientset/versioned/typed/apps/v1alpha1"
	"github.com/hikube/hikube/plugin/pkg/clusterspec"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
)

// AddonListOptions are the options of `addon list`.
type AddonListOptions struct {
	genericiooptions.IOStreams
	Name     string
	Clusters typedv1alpha1.ClusterInterface
}

func newAddonListCmd(f *Factory) *cobra.Command {
	o := &AddonListOptions{IOStreams: f.Streams}
	return &cobra.Command{
		Use:               "list NAME",
		Aliases:           []string{"ls"},
		Short:             "List a cluster's add-ons: enabled, state, Helm release, chart version, revision",
		Example:           "  kubectl hikube addon list web",
		ValidArgsFunction: completeClusters(f),
		RunE:              runE(f, o),
	}
}

// Complete takes the cluster name.
func (o *AddonListOptions) Complete(f *Factory, _ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return exitcode.UsageErrorf("addon list needs the cluster NAME")
	}
	o.Name = args[0]
	ns, err := f.Namespace()
	if err != nil {
		return err
	}
	o.Clusters, err = f.Clusters(ns)
	return err
}

// Validate has nothing to check.
func (o *AddonListOptions) Validate() error { return nil }

// Run prints one line per release of every add-on of the catalog.
func (o *AddonListOptions) Run(ctx context.Context) error {
	cl, err := o.Clusters.Get(ctx, o.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	return printAddons(o.Out, cl)
}

func printAddons(out io.Writer, cl *v1alpha1.Cluster) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ADDON\tENABLED\tSTATE\tRELEASE\tCHART\tVERSION\tREVISION\tMESSAGE")
	for _, a := range catalog.Addons {
		spec := catalog.Spec(&cl.Spec.Addons, a.Key)
		enabled := spec != nil && spec.Enabled
		st := cl.Status.Addons[a.Key]
		state := string(st.State)
		if state == "" {
			state = "-"
		}
		msg := st.Message
		if st.Reason != "" && st.State != v1alpha1.AddonReady {
			msg = st.Reason + ": " + msg
		}
		for _, r := range a.Releases {
			version, revision, release := r.Version, "-", a.Namespace+"/"+r.Name
			for _, got := range st.Releases {
				if got.Name == r.Name {
					revision = fmt.Sprintf("%d (%s)", got.Revision, got.Status)
					if got.ChartVersion != "" {
						version = got.ChartVersion
					}
				}
			}
			fmt.Fprintf(w, "%s\t%t\t%s\t%s\t%s\t%s\t%s\t%s\n", clusterspec.AddonFlagName(a.Key), enabled, state, release, r.Chart, version, revision, oneLine(msg))
		}
	}
	return w.Flush()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// AddonValuesOptions are the options of `addon values`.
type AddonValuesOptions struct {
	genericiooptions.IOStreams
	Name, Addon string
	Namespace   string
	Issue       IssueFunc
	key         string
}

func newAddonValuesCmd(f *Factory) *cobra.Command {
	o := &AddonValuesOptions{IOStreams: f.Streams}
	return &cobra.Command{
		Use:   "values NAME ADDON",
		Short: "Print the effective Helm values of an add-on's releases, read from the tenant cluster",
		Long: "Print the values each release of the add-on runs with: the chart's defaults, the platform's values,\n" +
			"the cluster's valuesOverride and the values hikube enforces, as Helm coalesced them. It reads the\n" +
			"release from the tenant cluster with a kubeconfig issued for you (the kubeconfig subresource).",
		Example:           "  kubectl hikube addon values web ingress-nginx",
		ValidArgsFunction: completeClusterThenAddons(f),
		RunE:              runE(f, o),
	}
}

// Complete takes the cluster and the add-on.
func (o *AddonValuesOptions) Complete(f *Factory, _ *cobra.Command, args []string) error {
	if len(args) != 2 {
		return exitcode.UsageErrorf("addon values needs the cluster NAME and one ADDON (%s)", joinAddons())
	}
	o.Name, o.Addon = args[0], args[1]
	var err error
	if o.Namespace, err = f.Namespace(); err != nil {
		return err
	}
	o.Issue, err = f.KubeconfigIssuer()
	return err
}

// Validate resolves the add-on.
func (o *AddonValuesOptions) Validate() error {
	key, err := clusterspec.AddonKey(o.Addon)
	if err != nil {
		return exitcode.Wrap(exitcode.Usage, err)
	}
	o.key = key
	return nil
}

// Run prints each release's revision and values as YAML.
func (o *AddonValuesOptions) Run(ctx context.Context) error {
	a, _ := catalog.Lookup(o.key)
	issued, err := o.Issue(ctx, o.Namespace, o.Name, 0, false)
	if err != nil {
		return err
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*issued.Config, nil).ClientConfig()
	if err != nil {
		return fmt.Errorf("the kubeconfig of %s: %w", o.Name, err)
	}
	client := helm.NewClient(cfg, nil)
	for _, r := range a.Releases {
		rel, vals, err := client.Values(r.Name, a.Namespace)
		if err != nil {
			return err
		}
		if rel == nil {
			fmt.Fprintf(o.Out, "# %s/%s: not installed\n", a.Namespace, r.Name)
			continue
		}
		version := ""
		if rel.Chart != nil && rel.Chart.Metadata != nil {
			version = rel.Chart.Metadata.Version
		}
		status := ""
		if rel.Info != nil {
			status = string(rel.Info.Status)
		}
		b, err := yaml.Marshal(vals)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "# %s/%s: chart %s %s, revision %d, %s\n%s", a.Namespace, r.Name, r.Chart, version, rel.Version, status, b)
	}
	return nil
}
