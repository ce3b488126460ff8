package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/plugin/pkg/clusterspec"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
)

const completionLong = `Print a shell completion script for kubectl-hikube.

Completion is dynamic: cluster names, node groups, instance types, GPU models, versions and
add-ons are completed (clusters and node groups are read from the server).

For 'kubectl hikube <TAB>' (kubectl v1.26+), put the kubectl_complete-hikube script shipped
with the plugin (krew installs it) on your PATH: kubectl then asks the plugin itself.

  bash:        source <(kubectl hikube completion bash)
  zsh:         kubectl hikube completion zsh > "${fpath[1]}/_kubectl-hikube"
  fish:        kubectl hikube completion fish | source
  powershell:  kubectl hikube completion powershell | Out-String | Invoke-Expression`

// CompletionOptions are the options of `completion`.
type CompletionOptions struct {
	genericiooptions.IOStreams
	Shell string
	Root  *cobra.Command // the tree the script completes
}

// NewCompletionOptions returns the options of `completion` for the tree of root.
func NewCompletionOptions(streams genericiooptions.IOStreams, root *cobra.Command) *CompletionOptions {
	return &CompletionOptions{IOStreams: streams, Root: root}
}

func newCompletionCmd(f *Factory, root *cobra.Command) *cobra.Command {
	root.CompletionOptions.DisableDefaultCmd = true
	o := NewCompletionOptions(f.Streams, root)
	return &cobra.Command{
		Use:       "completion bash|zsh|fish|powershell",
		Short:     "Print a shell completion script",
		Long:      completionLong,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      exactArgs("SHELL"),
		RunE:      runE(f, o),
	}
}

// Complete takes the shell.
func (o *CompletionOptions) Complete(_ *Factory, _ *cobra.Command, args []string) error {
	o.Shell = args[0]
	return nil
}

// Validate refuses an unknown shell.
func (o *CompletionOptions) Validate() error {
	switch o.Shell {
	case "bash", "zsh", "fish", "powershell":
		return nil
	}
	return exitcode.UsageErrorf("unknown shell %q: bash, zsh, fish or powershell", o.Shell)
}

// Run prints the script.
func (o *CompletionOptions) Run(context.Context) error {
	switch o.Shell {
	case "bash":
		return o.Root.GenBashCompletionV2(o.Out, true)
	case "zsh":
		return o.Root.GenZshCompletion(o.Out)
	case "fish":
		return o.Root.GenFishCompletion(o.Out, true)
	default:
		return o.Root.GenPowerShellCompletionWithDesc(o.Out)
	}
}

type completeFunc = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)

func noCompletion(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveNoFileComp
}

func fixedCompletion(values ...string) completeFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

func clusterNames(f *Factory) []string {
	_, clusters, err := f.NamespacedClusters()
	if err != nil {
		return nil
	}
	ctx, cancel := Context()
	defer cancel()
	list, err := clusters.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil
	}
	var out []string
	for _, c := range list.Items {
		out = append(out, fmt.Sprintf("%s\t%s %s", c.Name, c.Spec.Version, c.Status.Phase))
	}
	return out
}

func completeClusters(f *Factory) completeFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return clusterNames(f), cobra.ShellCompDirectiveNoFileComp
	}
}

func groupNames(f *Factory, cluster string) []string {
	c, err := getCluster(f, cluster)
	if err != nil {
		return nil
	}
	var out []string
	for n, g := range c.Spec.NodeGroups {
		out = append(out, fmt.Sprintf("%s\t%s %d..%d", n, g.InstanceType, ptrOr(g.MinReplicas), ptrOr(g.MaxReplicas)))
	}
	return out
}

func completeNodeGroups(f *Factory) completeFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return groupNames(f, args[0]), cobra.ShellCompDirectiveNoFileComp
	}
}

func completeClusterThenGroup(f *Factory) completeFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		switch len(args) {
		case 0:
			return clusterNames(f), cobra.ShellCompDirectiveNoFileComp
		case 1:
			return groupNames(f, args[0]), cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
}

func completeClusterThenAddons(f *Factory) completeFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return clusterNames(f), cobra.ShellCompDirectiveNoFileComp
		}
		return clusterspec.AddonFlagNames(), cobra.ShellCompDirectiveNoFileComp
	}
}

func completeGPUModels(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	var out []string
	for _, m := range catalog.GPUModels() {
		out = append(out, fmt.Sprintf("%s\t%s %s %dGB", m.ShortName, m.Vendor, m.Model, m.MemoryGB))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func completeVersions(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return catalog.SupportedVersions, cobra.ShellCompDirectiveNoFileComp
}

func instanceTypeCompletions() []string {
	var out []string
	for _, it := range catalog.InstanceTypes() {
		out = append(out, fmt.Sprintf("%s\t%d vCPU, %d GiB", it.Name, it.CPU, it.MemoryGiB))
	}
	return out
}

// completeNodeGroupSpec completes the key=value list of --node-group: keys
// after a comma, catalog values after instance-type=, gpus=, storage-class=, roles=.
func completeNodeGroupSpec(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	prefix, last := "", toComplete
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		prefix, last = toComplete[:i+1], toComplete[i+1:]
	}
	key, _, hasValue := strings.Cut(last, "=")
	var out []string
	if !hasValue {
		for _, k := range clusterspec.NodeGroupKeys {
			out = append(out, prefix+k+"=")
		}
		return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
	}
	var values []string
	switch key {
	case "instance-type":
		values = catalog.InstanceTypeNames()
	case "gpus":
		values = catalog.GPUNames()
	case "storage-class":
		values = catalog.StorageClasses
	case "roles":
		values = []string{"ingress-nginx", "monitoring", "storage"}
	}
	for _, v := range values {
		out = append(out, prefix+key+"="+v)
	}
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

func registerNodeGroupSpecCompletion(c *cobra.Command) {
	c.RegisterFlagCompletionFunc("node-group", completeNodeGroupSpec) //nolint:errcheck
}

func registerCreateCompletions(_ *Factory, c *cobra.Command) {
	registerNodeGroupSpecCompletion(c)
	c.RegisterFlagCompletionFunc("version", completeVersions)                                                                        //nolint:errcheck
	c.RegisterFlagCompletionFunc("storage-class", fixedCompletion(catalog.StorageClasses...))                                        //nolint:errcheck
	c.RegisterFlagCompletionFunc("control-plane-preset", fixedCompletion(catalog.ControlPlanePresets...))                            //nolint:errcheck
	c.RegisterFlagCompletionFunc("addon", fixedCompletion(clusterspec.AddonFlagNames()...))                                          //nolint:errcheck
	c.RegisterFlagCompletionFunc("ingress-expose", fixedCompletion("Proxied", "LoadBalancer"))                                       //nolint:errcheck
	c.RegisterFlagCompletionFunc("dry-run", fixedCompletion("none", "client", "server"))                                             //nolint:errcheck
	c.RegisterFlagCompletionFunc("gpu", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) { //nolint:errcheck
		group, _, ok := strings.Cut(toComplete, "=")
		if !ok {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
		}
		var out []string
		for _, m := range catalog.GPUNames() {
			out = append(out, group+"="+m)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
}

func registerGlobalCompletions(f *Factory, root *cobra.Command) {
	root.RegisterFlagCompletionFunc("context", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) { //nolint:errcheck
		raw, err := f.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for n := range raw.Contexts {
			out = append(out, n)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	root.RegisterFlagCompletionFunc("namespace", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) { //nolint:errcheck
		ns, err := f.Namespace()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return []string{ns}, cobra.ShellCompDirectiveNoFileComp
	})
}
