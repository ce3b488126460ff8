package cmd

import (
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

type createOptions struct {
	f      *Factory
	spec   clusterspec.Options
	file   string
	dryRun string
	output *OutputFlags
	wait   WaitFlags

	cluster *v1alpha1.Cluster
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
	o := &createOptions{f: f, output: newOutputFlags("created")}
	c := &cobra.Command{
		Use:               "cluster NAME [flags]",
		Aliases:           []string{"clusters"},
		Short:             "Create a cluster from flags or a file",
		Long:              createLong,
		Example:           createExample,
		ValidArgsFunction: noCompletion,
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.spec.Version, "version", "", "Kubernetes minor, such as v1.37 (default: the newest; see 'kubectl hikube versions')")
	fl.Int32Var(&o.spec.ControlPlaneReplicas, "control-plane-replicas", 0, "control-plane replicas, spread over the datacenters (default 2)")
	fl.StringVar(&o.spec.ControlPlanePreset, "control-plane-preset", "", "size of each control-plane replica: nano, micro, small, medium, large, xlarge, 2xlarge (default small)")
	fl.StringVar(&o.spec.StorageClass, "storage-class", "", "default StorageClass inside the cluster: local, replicated, replicated-async (default replicated)")
	fl.StringArrayVar(&o.spec.NodeGroups, "node-group", nil, "a node group, name=<group>,instance-type=<type>,min=<n>,max=<n>,... (repeatable; see above)")
	fl.StringArrayVar(&o.spec.GPUs, "gpu", nil, "GPUs of a node group, <group>=<model>[:<count>] such as ml=nvidia.com/L40S:2 (repeatable)")
	fl.StringSliceVar(&o.spec.Addons, "addon", nil, "enable an add-on (NAME or NAME=false): "+joinAddons())
	fl.StringSliceVar(&o.spec.IngressHosts, "ingress-host", nil, "host names routed to the ingress-nginx add-on (repeatable)")
	fl.StringVar(&o.spec.IngressExpose, "ingress-expose", "", "how ingress traffic arrives: Proxied (default) or LoadBalancer")
	fl.StringVarP(&o.file, "filename", "f", "", "the Cluster object as YAML or JSON ('-' for stdin) instead of flags")
	fl.StringVar(&o.dryRun, "dry-run", "none", `"client" prints the object without sending it, "server" has the server check it without storing it`)
	fl.Lookup("dry-run").NoOptDefVal = "client"
	addWaitFlags(c, &o.wait, 10*time.Minute)
	o.output.AddFlags(c, false)
	registerCreateCompletions(f, c)
	return c
}

func (o *createOptions) Complete(args []string) error {
	ns, err := o.f.Namespace()
	if err != nil {
		return err
	}
	o.spec.Namespace = ns
	switch {
	case o.file != "":
		if len(args) > 1 {
			return exitcode.UsageErrorf("create cluster -f takes at most the cluster NAME")
		}
		if len(o.spec.NodeGroups)+len(o.spec.GPUs)+len(o.spec.Addons)+len(o.spec.IngressHosts) > 0 || o.spec.Version != "" ||
			o.spec.ControlPlaneReplicas != 0 || o.spec.ControlPlanePreset != "" || o.spec.StorageClass != "" {
			return exitcode.UsageErrorf("-f and the cluster flags (--node-group, --version, ...) do not mix: edit the file, or use the flags alone")
		}
		c, err := readClusterFile(o.file, o.f.Streams.In)
		if err != nil {
			return err
		}
		if len(args) == 1 && args[0] != c.Name {
			if c.Name != "" {
				return exitcode.UsageErrorf("NAME %q differs from metadata.name %q in %s", args[0], c.Name, o.file)
			}
			c.Name = args[0]
		}
		if c.Namespace != "" && o.f.ConfigFlags.Namespace != nil && *o.f.ConfigFlags.Namespace != "" && *o.f.ConfigFlags.Namespace != c.Namespace {
			return exitcode.UsageErrorf("the namespace of %s (%s) does not match -n %s", o.file, c.Namespace, *o.f.ConfigFlags.Namespace)
		}
		if c.Namespace == "" {
			c.Namespace = ns
		}
		o.cluster = c
	default:
		if len(args) != 1 {
			return exitcode.UsageErrorf("create cluster needs the cluster NAME (or -f FILE)\nSee 'kubectl hikube create cluster --help' for usage.")
		}
		o.spec.Name = args[0]
		c, err := clusterspec.Build(o.spec)
		if err != nil {
			return exitcode.Wrap(exitcode.Usage, err)
		}
		o.cluster = c
	}
	switch o.dryRun {
	case "client":
		o.output.Print.Complete("%s (dry run)") //nolint:errcheck
	case "server":
		o.output.Print.Complete("%s (server dry run)") //nolint:errcheck
	}
	return nil
}

func (o *createOptions) Validate() error {
	if o.dryRun != "none" && o.dryRun != "client" && o.dryRun != "server" {
		return exitcode.UsageErrorf(`--dry-run must be "none", "client" or "server", not %q`, o.dryRun)
	}
	if o.dryRun != "none" && o.wait.Wait {
		return exitcode.UsageErrorf("--wait has nothing to wait for with --dry-run")
	}
	if err := o.output.Validate(); err != nil {
		return err
	}
	if err := clusterspec.Validate(o.cluster, nil); err != nil {
		return exitcode.Wrap(exitcode.Usage, err)
	}
	return nil
}

func (o *createOptions) Run() error {
	body := applyBody(o.cluster)
	if o.dryRun == "client" {
		for _, w := range clusterspec.Warnings(o.cluster) {
			fmt.Fprintf(o.f.Streams.ErrOut, "Warning: %s\n", w)
		}
		return o.output.PrintObjects(o.f.Streams.Out, &unstructured.Unstructured{Object: body})
	}
	ctx, cancel := Context()
	defer cancel()
	clusters, err := o.f.Clusters(o.cluster.Namespace)
	if err != nil {
		return err
	}
	// Apply would update an existing cluster; create never does.
	if _, err := clusters.Get(ctx, o.cluster.Name, metav1.GetOptions{}); err == nil {
		return exitcode.New(exitcode.Conflict, "cluster %s/%s already exists; change it with `kubectl hikube scale|nodegroup|gpu|addon|upgrade`, or see it with `kubectl hikube status %s -n %s`",
			o.cluster.Namespace, o.cluster.Name, o.cluster.Name, o.cluster.Namespace)
	} else if !apierrors.IsNotFound(err) {
		return err
	}
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	opts := metav1.PatchOptions{FieldManager: edit.FieldManager}
	if o.dryRun == "server" {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	created, err := clusters.Patch(ctx, o.cluster.Name, types.ApplyPatchType, data, opts)
	if err != nil {
		return err
	}
	setClusterKind(created)
	if err := o.output.PrintObjects(o.f.Streams.Out, created); err != nil {
		return err
	}
	if o.dryRun == "server" || !o.wait.Wait {
		if o.dryRun == "none" && !o.wait.Wait {
			fmt.Fprintf(o.f.Streams.ErrOut, "Provisioning; follow it with `kubectl hikube wait %s -n %s` or `kubectl hikube status %s -n %s`.\n", created.Name, created.Namespace, created.Name, created.Namespace)
		}
		return nil
	}
	return waitReady(o.f, clusters, created, o.wait.Timeout)
}

// waitReady waits for the cluster at the written generation and says how to use it.
func waitReady(f *Factory, clusters typedv1alpha1.ClusterInterface, c *v1alpha1.Cluster, timeout time.Duration) error {
	ctx, cancel := Context()
	defer cancel()
	start := time.Now()
	if _, err := f.Waiter(clusters, c.Namespace, c.Name).Wait(ctx, progress.Ready, c.Generation, timeout); err != nil {
		return err
	}
	fmt.Fprintf(f.Streams.ErrOut, "cluster %s/%s is Ready (%.1fs). Next: kubectl hikube kubeconfig %s -n %s --merge --switch\n",
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
