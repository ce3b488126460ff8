package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	typedv1alpha1 "github.com/hikube/hikube/pkg/generated/clientset/versioned/typed/apps/v1alpha1"
	"github.com/hikube/hikube/plugin/pkg/clusterspec"
	"github.com/hikube/hikube/plugin/pkg/edit"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
	"github.com/hikube/hikube/plugin/pkg/progress"
)

const createLong = `Create a cluster from flags, or from a file with the native object (-f).

A --node-group is a comma-separated list of key=value:
  name=<group>            required
  instance-type=<type>    from 'kubectl hikube instance-types' (default s1.medium)
  min=<n>,max=<n>         autoscaler bounds (default 0 and 10); 0 <= min <= max
  roles=<role>[;<role>]   node-role labels: ingress-nginx, monitoring, storage (or repeat roles=)
  gpus=<model>[:<count>]  GPUs per node, such as nvidia.com/L40S:2 (u1 and m1 families only)
  storage-class=<class>   root disks: local, replicated, replicated-async
  ephemeral-storage=<q>   root disk size (default 20Gi)
  cpu=<n>,memory=<q>      override the instance type's size (both or neither)

The object is checked with the API's own validation before it is sent. It is written with
server-side apply (field manager kubectl-hikube); an existing cluster is never overwritten.
--dry-run=client prints the object without contacting the server (pipe -o yaml to
'kubectl apply -f -' to get the same cluster); --dry-run=server has it validated and admitted
(quota, GPU capacity) by the server without storing it.`

const createExample = `  # The seed's web cluster
  kubectl hikube create cluster web --version v1.37 \
    --node-group name=web,instance-type=s1.large,min=2,max=10,roles=ingress-nginx \
    --addon cert-manager --addon ingress-nginx --ingress-host app.example.ch

  # A GPU cluster, waiting until it is Ready
  kubectl hikube create cluster ml --node-group name=ml,instance-type=u1.xlarge,min=1,max=5,gpus=nvidia.com/L40S \
    --addon gpu-operator --wait

  # Print the object instead of creating it
  kubectl hikube create cluster web --node-group name=web,min=2 --dry-run=client -o yaml

  # From a file
  kubectl hikube create cluster -f artifacts/examples/prod.yaml`

// CreateOptions are the options of `create cluster`.
type CreateOptions struct {
	genericiooptions.IOStreams
	Spec   clusterspec.Options // from the flags
	File   string              // -f, instead of the flags
	DryRun string              // none, client or server
	Output *OutputFlags
	Wait   WaitFlags

	// Set by Complete (or by a test).
	Cluster  *v1alpha1.Cluster
	Clusters typedv1alpha1.ClusterInterface // not needed with --dry-run=client
}

// NewCreateOptions returns the options of `create cluster` with their defaults.
func NewCreateOptions(streams genericiooptions.IOStreams) *CreateOptions {
	return &CreateOptions{IOStreams: streams, Output: newOutputFlags("created"), DryRun: "none"}
}

func newCreateCmd(f *Factory) *cobra.Command {
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a cluster",
	}
	create.AddCommand(newCreateClusterCmd(f))
	return create
}

func newCreateClusterCmd(f *Factory) *cobra.Command {
	o := NewCreateOptions(f.Streams)
	c := &cobra.Command{
		Use:               "cluster NAME [flags]",
		Aliases:           []string{"clusters"},
		Short:             "Create a cluster from flags or a file",
		Long:              createLong,
		Example:           createExample,
		ValidArgsFunction: noCompletion,
		RunE:              runE(f, o),
	}
	fl := c.Flags()
	fl.StringVar(&o.Spec.Version, "version", "", "Kubernetes minor, such as v1.37 (default: the newest; see 'kubectl hikube versions')")
	fl.Int32Var(&o.Spec.ControlPlaneReplicas, "control-plane-replicas", 0, "control-plane replicas, spread over the datacenters (default 2)")
	fl.StringVar(&o.Spec.ControlPlanePreset, "control-plane-preset", "", "size of each control-plane replica: nano, micro, small, medium, large, xlarge, 2xlarge (default small)")
	fl.StringVar(&o.Spec.StorageClass, "storage-class", "", "default StorageClass inside the cluster: local, replicated, replicated-async (default replicated)")
	fl.StringArrayVar(&o.Spec.NodeGroups, "node-group", nil, "a node group, name=<group>,instance-type=<type>,min=<n>,max=<n>,... (repeatable; see above)")
	fl.StringArrayVar(&o.Spec.GPUs, "gpu", nil, "GPUs of a node group, <group>=<model>[:<count>] such as ml=nvidia.com/L40S:2 (repeatable)")
	fl.StringSliceVar(&o.Spec.Addons, "addon", nil, "enable an add-on (NAME or NAME=false): "+joinAddons())
	fl.StringSliceVar(&o.Spec.IngressHosts, "ingress-host", nil, "host names routed to the ingress-nginx add-on (repeatable)")
	fl.StringVar(&o.Spec.IngressExpose, "ingress-expose", "", "how ingress traffic arrives: Proxied (default) or LoadBalancer")
	fl.StringVarP(&o.File, "filename", "f", "", "the Cluster object as YAML or JSON ('-' for stdin) instead of flags")
	fl.StringVar(&o.DryRun, "dry-run", o.DryRun, `"client" prints the object without sending it, "server" has the server check it without storing it`)
	fl.Lookup("dry-run").NoOptDefVal = "client"
	addWaitFlags(c, &o.Wait, 10*time.Minute)
	o.Output.AddFlags(c)
	registerCreateCompletions(f, c)
	return c
}

// Complete builds the cluster from the flags or reads it from -f, and makes
// the clusters client of its namespace.
func (o *CreateOptions) Complete(f *Factory, _ *cobra.Command, args []string) error {
	ns, err := f.Namespace()
	if err != nil {
		return err
	}
	explicitNS := ""
	if f.ConfigFlags.Namespace != nil {
		explicitNS = *f.ConfigFlags.Namespace
	}
	if err := o.complete(ns, explicitNS, args); err != nil {
		return err
	}
	if o.DryRun != "none" && o.DryRun != "server" {
		return nil // nothing is sent (or Validate refuses --dry-run)
	}
	o.Clusters, err = f.Clusters(o.Cluster.Namespace)
	return err
}

// complete builds o.Cluster in namespace ns (explicitNS: what -n says, if anything).
func (o *CreateOptions) complete(ns, explicitNS string, args []string) error {
	o.Spec.Namespace = ns
	switch {
	case o.File != "":
		if len(args) > 1 {
			return exitcode.UsageErrorf("create cluster -f takes at most the cluster NAME")
		}
		if len(o.Spec.NodeGroups)+len(o.Spec.GPUs)+len(o.Spec.Addons)+len(o.Spec.IngressHosts) > 0 || o.Spec.Version != "" ||
			o.Spec.ControlPlaneReplicas != 0 || o.Spec.ControlPlanePreset != "" || o.Spec.StorageClass != "" {
			return exitcode.UsageErrorf("-f and the cluster flags (--node-group, --version, ...) do not mix: edit the file, or use the flags alone")
		}
		c, err := readClusterFile(o.File, o.In)
		if err != nil {
			return err
		}
		if len(args) == 1 && args[0] != c.Name {
			if c.Name != "" {
				return exitcode.UsageErrorf("NAME %q differs from metadata.name %q in %s", args[0], c.Name, o.File)
			}
			c.Name = args[0]
		}
		if c.Namespace != "" && explicitNS != "" && explicitNS != c.Namespace {
			return exitcode.UsageErrorf("the namespace of %s (%s) does not match -n %s", o.File, c.Namespace, explicitNS)
		}
		if c.Namespace == "" {
			c.Namespace = ns
		}
		o.Cluster = c
	default:
		if len(args) != 1 {
			return exitcode.UsageErrorf("create cluster needs the cluster NAME (or -f FILE)\nSee 'kubectl hikube create cluster --help' for usage.")
		}
		o.Spec.Name = args[0]
		c, err := clusterspec.Build(o.Spec)
		if err != nil {
			return exitcode.Wrap(exitcode.Usage, err)
		}
		o.Cluster = c
	}
	switch o.DryRun {
	case "client":
		o.Output.Print.Complete("%s (dry run)") //nolint:errcheck
	case "server":
		o.Output.Print.Complete("%s (server dry run)") //nolint:errcheck
	}
	return nil
}

// Validate refuses flags that do not go together and a cluster the API would
// refuse for its shape.
func (o *CreateOptions) Validate() error {
	if o.DryRun != "none" && o.DryRun != "client" && o.DryRun != "server" {
		return exitcode.UsageErrorf(`--dry-run must be "none", "client" or "server", not %q`, o.DryRun)
	}
	if o.DryRun != "none" && o.Wait.Wait {
		return exitcode.UsageErrorf("--wait has nothing to wait for with --dry-run")
	}
	if err := o.Output.Validate(); err != nil {
		return err
	}
	if err := clusterspec.Validate(o.Cluster, nil); err != nil {
		return exitcode.Wrap(exitcode.Usage, err)
	}
	return nil
}

// Run prints (client dry run) or applies the cluster, and waits if asked.
func (o *CreateOptions) Run(ctx context.Context) error {
	body := applyBody(o.Cluster)
	if o.DryRun == "client" {
		for _, w := range clusterspec.Warnings(o.Cluster) {
			fmt.Fprintf(o.ErrOut, "Warning: %s\n", w)
		}
		return o.Output.PrintObjects(o.Out, &unstructured.Unstructured{Object: body})
	}
	clusters := o.Clusters
	// Apply would update an existing cluster; create never does.
	if _, err := clusters.Get(ctx, o.Cluster.Name, metav1.GetOptions{}); err == nil {
		return exitcode.New(exitcode.Conflict, "cluster %s/%s already exists; change it with `kubectl hikube scale|nodegroup|gpu|addon|upgrade`, or see it with `kubectl hikube status %s -n %s`",
			o.Cluster.Namespace, o.Cluster.Name, o.Cluster.Name, o.Cluster.Namespace)
	} else if !apierrors.IsNotFound(err) {
		return err
	}
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	opts := metav1.PatchOptions{FieldManager: edit.FieldManager}
	if o.DryRun == "server" {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	created, err := clusters.Patch(ctx, o.Cluster.Name, types.ApplyPatchType, data, opts)
	if err != nil {
		return err
	}
	setClusterKind(created)
	if err := o.Output.PrintObjects(o.Out, created); err != nil {
		return err
	}
	if o.DryRun == "server" || !o.Wait.Wait {
		if o.DryRun == "none" && !o.Wait.Wait {
			fmt.Fprintf(o.ErrOut, "Provisioning; follow it with `kubectl hikube wait %s -n %s` or `kubectl hikube status %s -n %s`.\n", created.Name, created.Namespace, created.Name, created.Namespace)
		}
		return nil
	}
	return waitReady(ctx, o.ErrOut, clusters, created, o.Wait.Timeout)
}

// waitReady waits for the cluster at the written generation and says how to use it.
func waitReady(ctx context.Context, errOut io.Writer, clusters typedv1alpha1.ClusterInterface, c *v1alpha1.Cluster, timeout time.Duration) error {
	warnings.flush() // the write succeeded: its advice comes before the wait
	start := time.Now()
	w := &progress.Waiter{Client: clusters, Namespace: c.Namespace, Name: c.Name, Out: errOut}
	if _, err := w.Wait(ctx, progress.Ready, c.Generation, timeout); err != nil {
		return err
	}
	fmt.Fprintf(errOut, "cluster %s/%s is Ready (%.1fs). Next: kubectl hikube kubeconfig %s -n %s --merge --switch\n",
		c.Namespace, c.Name, time.Since(start).Seconds(), c.Name, c.Namespace)
	return nil
}

// applyBody is the object as sent and printed: what the user asked for,
// without the empty status and creationTimestamp a typed object carries.
func applyBody(c *v1alpha1.Cluster) map[string]any {
	cp := c.DeepCopy()
	setClusterKind(cp)
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cp)
	if err != nil {
		panic(err) // a typed Cluster always converts
	}
	delete(obj, "status")
	unstructured.RemoveNestedField(obj, "metadata", "creationTimestamp")
	if cp, ok, _ := unstructured.NestedMap(obj, "spec", "controlPlane"); ok && len(cp) == 0 {
		unstructured.RemoveNestedField(obj, "spec", "controlPlane")
	}
	if a, ok, _ := unstructured.NestedMap(obj, "spec", "addons"); ok && len(a) == 0 {
		unstructured.RemoveNestedField(obj, "spec", "addons")
	}
	return obj
}

// readClusterFile decodes a Cluster strictly: an unknown field is an error.
func readClusterFile(path string, stdin io.Reader) (*v1alpha1.Cluster, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, exitcode.Wrap(exitcode.Usage, fmt.Errorf("reading %s: %w", path, err))
	}
	c := &v1alpha1.Cluster{}
	if err := yaml.UnmarshalStrict(data, c); err != nil {
		return nil, exitcode.Wrap(exitcode.Usage, fmt.Errorf("decoding %s: %w", path, err))
	}
	if c.Kind != "Cluster" || c.APIVersion != v1alpha1.SchemeGroupVersion.String() {
		return nil, exitcode.UsageErrorf("%s holds %s %s; want kind Cluster of %s", path, c.APIVersion, c.Kind, v1alpha1.SchemeGroupVersion)
	}
	c.Status = v1alpha1.ClusterStatus{}
	return c, nil
}

func addWaitFlags(c *cobra.Command, w *WaitFlags, def time.Duration) {
	c.Flags().BoolVar(&w.Wait, "wait", false, "wait until the cluster is Ready, with progress on stderr")
	c.Flags().DurationVar(&w.Timeout, "timeout", def, "how long --wait waits")
}
