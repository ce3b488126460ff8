package kubevirt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	kubevirtv1 "kubevirt.io/api/core/v1"
	cdiv1beta1 "kubevirt.io/containerized-data-importer-api/pkg/apis/core/v1beta1"

	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/clusterpki"
	"github.com/hikube/hikube/pkg/naming"
	"github.com/hikube/hikube/pkg/provider"
)

// GroupVersionResources of the host objects the node part reads and writes.
var (
	GVRVirtualMachine         = kubevirtv1.SchemeGroupVersion.WithResource("virtualmachines")
	GVRVirtualMachineInstance = kubevirtv1.SchemeGroupVersion.WithResource("virtualmachineinstances")
	GVRDataVolume             = cdiv1beta1.SchemeGroupVersion.WithResource("datavolumes")
)

const (
	// LabelInstanceType is the instance type a node group's nodes are made of.
	LabelInstanceType = "node.kubernetes.io/instance-type"
	// labelMachine marks host objects made for one machine.
	labelMachine = "apps.hikube.io/machine"
)

// NodesOptions configure the node part.
type NodesOptions struct {
	// FieldManager owns what server-side apply writes.
	FieldManager string
	// Image is the node OS image of a Kubernetes minor ("%s" is the minor,
	// such as v1.37): its kubelet must match the control plane.
	Image string
	// StorageClasses maps the tenant-facing storage classes of the catalog
	// (local, replicated, replicated-async) to the host's; an absent entry
	// means the same name.
	StorageClasses map[string]string
	// TokenTTL bounds how long a node may take to join.
	TokenTTL time.Duration
	// DrainTimeout bounds how long a removed node's pods are evicted before
	// its VM is deleted anyway.
	DrainTimeout time.Duration
}

// Tenant is what the node part needs of a cluster's control plane, whichever
// provider runs it.
type Tenant interface {
	// Client is a cluster-admin client of the tenant cluster.
	Client(ctx context.Context, c provider.ClusterRef) (kubernetes.Interface, error)
	// Join is the tenant API endpoint as VMs reach it (host:port), the CA
	// that serves it (PEM), and the minor it runs.
	Join(ctx context.Context, c provider.ClusterRef) (endpoint string, caPEM []byte, minor string, err error)
}

// TenantOf is the Tenant of clusters whose control planes cp runs.
func TenantOf(cp provider.ControlPlanes) Tenant { return cpTenant{cp} }

type cpTenant struct{ cp provider.ControlPlanes }

func (t cpTenant) Client(ctx context.Context, c provider.ClusterRef) (kubernetes.Interface, error) {
	cfg, err := t.cp.AdminConfig(ctx, c)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

func (t cpTenant) Join(ctx context.Context, c provider.ClusterRef) (string, []byte, string, error) {
	return t.cp.JoinEndpoint(ctx, c)
}

// Nodes runs worker nodes as KubeVirt VirtualMachines in the cluster's host
// namespace. It decides nothing about counts, names or placement: it makes
// the host match the core's list and reports where each node stands.
type Nodes struct {
	host   kubernetes.Interface
	dyn    dynamic.Interface
	tenant Tenant
	opts   NodesOptions
	now    func() time.Time
}

// NewNodes returns the node part.
func NewNodes(host kubernetes.Interface, dyn dynamic.Interface, tenant Tenant, opts NodesOptions) *Nodes {
	if opts.TokenTTL == 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = 5 * time.Minute
	}
	return &Nodes{host: host, dyn: dyn, tenant: tenant, opts: opts, now: time.Now}
}

// HostNamespace is the host namespace of a tenant cluster's machines and
// control plane (tenants have no RBAC there), named by pkg/naming.
func HostNamespace(c provider.ClusterRef) string {
	return naming.HostNamespace(c.Namespace, c.Name, c.UID)
}

func clusterLabels(c provider.ClusterRef) map[string]string {
	return map[string]string{
		clusterpki.LabelClusterNamespace: c.Namespace,
		clusterpki.LabelClusterName:      c.Name,
		clusterpki.LabelClusterUID:       c.UID,
	}
}

func clusterSelector(c provider.ClusterRef) string {
	return labels.SelectorFromSet(labels.Set{clusterpki.LabelClusterUID: c.UID}).String()
}

// Name is the provider half's name.
func (n *Nodes) Name() string { return "kubevirt" }

// EnsureNodes is Ensure, as provider.Workers.
func (n *Nodes) EnsureNodes(ctx context.Context, c provider.ClusterRef, nodes []provider.NodeSpec) ([]provider.NodeStatus, error) {
	return n.Ensure(ctx, c, nodes)
}

// DeleteNodes is Delete, as provider.Workers.
func (n *Nodes) DeleteNodes(ctx context.Context, c provider.ClusterRef) (bool, error) {
	return n.Delete(ctx, c)
}

// ListNodes reports every VM of the cluster, Ready when its Node has joined
// and is Ready.
func (n *Nodes) ListNodes(ctx context.Context, c provider.ClusterRef) ([]provider.NodeStatus, error) {
	vms, err := n.machines(ctx, c)
	if err != nil {
		return nil, err
	}
	if len(vms) == 0 {
		return nil, nil
	}
	tenant, err := n.tenant.Client(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("tenant client: %w", err)
	}
	nodes, err := tenant.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing tenant nodes: %w", err)
	}
	ready := map[string]bool{}
	for i := range nodes.Items {
		ready[nodes.Items[i].Name] = provider.NodeReady(&nodes.Items[i])
	}
	out := make([]provider.NodeStatus, 0, len(vms))
	for _, name := range slices.Sorted(maps.Keys(vms)) {
		l := vms[name].GetLabels()
		out = append(out, provider.NodeStatus{Name: name, Group: l[provider.LabelNodeGroup], Zone: l[labelZone], Ready: ready[name],
			Removing: vms[name].GetDeletionTimestamp() != nil})
	}
	return out, nil
}

var _ provider.Workers = (*Nodes)(nil)

// EnsureNamespace creates the cluster's host namespace.
func (n *Nodes) EnsureNamespace(ctx context.Context, c provider.ClusterRef) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: HostNamespace(c), Labels: clusterLabels(c)}}
	_, err := n.host.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{FieldManager: n.opts.FieldManager})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating host namespace %s: %w", ns.Name, err)
	}
	return nil
}

// MachineFor turns the core's node into a machine: the instance type's
// cluster instancetype, or cpu and memory when the group overrides them; one
// passed-through device per GPU; the root disk on the host class.
func (n *Nodes) MachineFor(c provider.ClusterRef, spec provider.NodeSpec, minor string) (Machine, error) {
	m := Machine{
		Name: spec.Name, Namespace: HostNamespace(c), Zone: spec.Zone,
		StorageClass:   n.hostStorageClass(spec.StorageClass),
		Image:          fmt.Sprintf(n.opts.Image, minor),
		UserDataSecret: spec.Name + "-userdata",
		Labels:         maps.Clone(clusterLabels(c)),
	}
	m.Labels[provider.LabelNodeGroup] = spec.Group
	m.Labels[labelMachine] = spec.Name
	m.Labels[labelZone] = spec.Zone
	if disk, ok := spec.Capacity[corev1.ResourceEphemeralStorage]; ok {
		m.RootDisk = disk
	} else {
		m.RootDisk = resource.MustParse("20Gi")
	}
	cpu, mem := spec.Capacity[corev1.ResourceCPU], spec.Capacity[corev1.ResourceMemory]
	it, known := catalog.LookupInstanceType(spec.Labels[LabelInstanceType])
	switch {
	case known && cpu.Value() == int64(it.CPU) && mem.Value() == int64(it.MemoryGiB)<<30:
		m.InstanceType = InstancetypeName(it)
	case !cpu.IsZero() && !mem.IsZero():
		m.CPU, m.Memory = ptr.To(cpu.DeepCopy()), ptr.To(mem.DeepCopy())
	default:
		return Machine{}, fmt.Errorf("node %s: neither a catalog instance type nor cpu and memory", spec.Name)
	}
	for name, q := range spec.Capacity {
		gpu, ok := catalog.LookupGPU(string(name))
		if !ok {
			continue
		}
		for range q.Value() {
			m.GPUDevices = append(m.GPUDevices, gpu.DeviceResource)
		}
	}
	return m, nil
}

func (n *Nodes) hostStorageClass(tenantClass string) string {
	if c, ok := n.opts.StorageClasses[tenantClass]; ok {
		return c
	}
	return tenantClass
}

// Ensure makes the cluster's VMs exactly nodes and reports each of them.
func (n *Nodes) Ensure(ctx context.Context, c provider.ClusterRef, nodes []provider.NodeSpec) ([]provider.NodeStatus, error) {
	if err := n.EnsureNamespace(ctx, c); err != nil {
		return nil, err
	}
	tenant, err := n.tenant.Client(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("tenant client: %w", err)
	}
	existing, err := n.machines(ctx, c)
	if err != nil {
		return nil, err
	}
	want := map[string]provider.NodeSpec{}
	var missing []provider.NodeSpec
	for _, spec := range nodes {
		want[spec.Name] = spec
		if _, ok := existing[spec.Name]; !ok {
			missing = append(missing, spec) // a VM's user data matters only at its first boot
		}
	}
	var errs []error
	var target joinTarget
	if len(missing) > 0 {
		if target, err = n.joinTarget(ctx, c); err != nil {
			return nil, err
		}
		if err := EnsureTenantBootstrap(ctx, tenant, "https://"+target.endpoint, target.caPEM, n.opts.FieldManager); err != nil {
			return nil, fmt.Errorf("preparing the tenant for joining nodes: %w", err)
		}
	}
	for _, spec := range missing {
		if err := n.create(ctx, c, tenant, target, spec); err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w", spec.Name, err))
		}
	}
	for name := range existing {
		if _, ok := want[name]; !ok {
			if err := n.remove(ctx, c, tenant, name); err != nil {
				errs = append(errs, fmt.Errorf("removing node %s: %w", name, err))
			}
		}
	}
	statuses, err := n.observe(ctx, c, tenant, nodes)
	if err != nil {
		errs = append(errs, err)
	}
	return statuses, errors.Join(errs...)
}

// machines lists the cluster's VMs by name.
func (n *Nodes) machines(ctx context.Context, c provider.ClusterRef) (map[string]*unstructured.Unstructured, error) {
	return n.byName(ctx, GVRVirtualMachine, c, clusterSelector(c))
}

// joinTarget is what new machines of a cluster join: read once per Ensure
// for all of them.
type joinTarget struct {
	endpoint, minor string
	caPEM           []byte
	caHash          string
}

func (n *Nodes) joinTarget(ctx context.Context, c provider.ClusterRef) (joinTarget, error) {
	endpoint, caPEM, minor, err := n.tenant.Join(ctx, c)
	if err != nil {
		return joinTarget{}, fmt.Errorf("tenant endpoint: %w", err)
	}
	hash, err := CACertHash(caPEM)
	if err != nil {
		return joinTarget{}, err
	}
	return joinTarget{endpoint: endpoint, minor: minor, caPEM: caPEM, caHash: hash}, nil
}

// create makes one node: a bootstrap token in the tenant, the user data
// that uses it, then the VM, which owns the user data. Each write is
// idempotent, so a crash in between is repaired by the next call.
func (n *Nodes) create(ctx context.Context, c provider.ClusterRef, tenant kubernetes.Interface, target joinTarget, spec provider.NodeSpec) error {
	m, err := n.MachineFor(c, spec, target.minor)
	if err != nil {
		return err
	}
	// Tokens of an earlier, interrupted attempt are never used: drop them.
	if err := n.deleteTokens(ctx, tenant, spec.Name); err != nil {
		return err
	}
	tok, err := NewBootstrapToken(n.now(), n.opts.TokenTTL)
	if err != nil {
		return err
	}
	if _, err := tenant.CoreV1().Secrets(metav1.NamespaceSystem).Create(ctx, BootstrapTokenSecret(tok, spec.Name), metav1.CreateOptions{FieldManager: n.opts.FieldManager}); err != nil {
		return fmt.Errorf("creating its bootstrap token: %w", err)
	}
	userData, err := UserData(Join{NodeName: spec.Name, APIServerEndpoint: target.endpoint, Token: tok, CACertHash: target.caHash, Labels: spec.Labels, Taints: spec.Taints})
	if err != nil {
		return err
	}
	if err := n.applySecret(ctx, UserDataSecret(m.Namespace, m.UserDataSecret, m.Labels, userData)); err != nil {
		return fmt.Errorf("writing its user data: %w", err)
	}
	vm, err := VirtualMachine(m)
	if err != nil {
		return err
	}
	applied, err := n.apply(ctx, GVRVirtualMachine, vm)
	if err != nil {
		return fmt.Errorf("applying its VM: %w", err)
	}
	// The VM owns its user data, so whatever deletes the VM deletes it too.
	owner := metav1.OwnerReference{APIVersion: kubevirtv1.SchemeGroupVersion.String(), Kind: "VirtualMachine", Name: applied.GetName(), UID: applied.GetUID()}
	patch := fmt.Sprintf(`{"metadata":{"ownerReferences":[{"apiVersion":%q,"kind":%q,"name":%q,"uid":%q}]}}`, owner.APIVersion, owner.Kind, owner.Name, owner.UID)
	if _, err := n.host.CoreV1().Secrets(m.Namespace).Patch(ctx, m.UserDataSecret, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: n.opts.FieldManager}); err != nil {
		return fmt.Errorf("making the VM own its user data: %w", err)
	}
	klog.FromContext(ctx).V(2).Info("Created worker VM", "vm", klog.KRef(m.Namespace, m.Name), "zone", m.Zone, "instancetype", m.InstanceType, "gpus", len(m.GPUDevices))
	return nil
}

func (n *Nodes) apply(ctx context.Context, gvr schema.GroupVersionResource, obj runtime.Object) (*unstructured.Unstructured, error) {
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: raw}
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	return n.dyn.Resource(gvr).Namespace(u.GetNamespace()).Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: n.opts.FieldManager, Force: true})
}

func (n *Nodes) applySecret(ctx context.Context, s *corev1.Secret) error {
	_, err := n.host.CoreV1().Secrets(s.Namespace).Create(ctx, s, metav1.CreateOptions{FieldManager: n.opts.FieldManager})
	if apierrors.IsAlreadyExists(err) {
		_, err = n.host.CoreV1().Secrets(s.Namespace).Update(ctx, s, metav1.UpdateOptions{FieldManager: n.opts.FieldManager})
	}
	return err
}

func (n *Nodes) deleteTokens(ctx context.Context, tenant kubernetes.Interface, node string) error {
	sel := labels.SelectorFromSet(labels.Set{LabelBootstrapNode: node}).String()
	err := tenant.CoreV1().Secrets(metav1.NamespaceSystem).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: sel})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting the bootstrap tokens of %s: %w", node, err)
	}
	return nil
}

// remove cordons and drains the node in the tenant, then deletes its VM
// (its disk and user data go with it), its tokens and its Node.
func (n *Nodes) remove(ctx context.Context, c provider.ClusterRef, tenant kubernetes.Interface, name string) error {
	logger := klog.FromContext(ctx)
	node, err := tenant.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return err
	default:
		drained, err := n.drain(ctx, tenant, node)
		if err != nil {
			return err
		}
		if !drained {
			logger.V(2).Info("Draining node before deleting its VM", "node", name)
			return nil // called again soon; the VM stays until its pods left or the timeout passed
		}
	}
	err = n.dyn.Resource(GVRVirtualMachine).Namespace(HostNamespace(c)).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if err := n.deleteTokens(ctx, tenant, name); err != nil {
		return err
	}
	err = tenant.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	logger.V(2).Info("Removed worker VM", "vm", klog.KRef(HostNamespace(c), name))
	return nil
}

// annotationDrainStarted remembers on the Node when its drain began, so a
// restarted controller keeps the same deadline.
const annotationDrainStarted = provider.AnnotationDrainStarted

// drain cordons the node and evicts its pods (DaemonSet pods stay, as
// kubectl drain leaves them). It reports true once no evictable pod is left
// or the drain timeout passed.
func (n *Nodes) drain(ctx context.Context, tenant kubernetes.Interface, node *corev1.Node) (bool, error) {
	started, err := time.Parse(time.RFC3339, node.Annotations[annotationDrainStarted])
	if !node.Spec.Unschedulable || err != nil {
		started = n.now().UTC()
		patch := fmt.Sprintf(`{"spec":{"unschedulable":true},"metadata":{"annotations":{%q:%q}}}`, annotationDrainStarted, started.Format(time.RFC3339))
		if _, err := tenant.CoreV1().Nodes().Patch(ctx, node.Name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return false, fmt.Errorf("cordoning %s: %w", node.Name, err)
		}
	}
	pods, err := tenant.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node.Name})
	if err != nil {
		return false, fmt.Errorf("listing the pods of %s: %w", node.Name, err)
	}
	left := 0
	for _, p := range pods.Items {
		if daemonSetPod(&p) || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		left++
		ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace}}
		if err := tenant.PolicyV1().Evictions(p.Namespace).Evict(ctx, ev); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsTooManyRequests(err) {
			return false, fmt.Errorf("evicting %s/%s: %w", p.Namespace, p.Name, err)
		}
	}
	return left == 0 || n.now().Sub(started) > n.opts.DrainTimeout, nil
}

func daemonSetPod(p *corev1.Pod) bool {
	for _, o := range p.OwnerReferences {
		if o.Kind == "DaemonSet" {
			return true
		}
	}
	return false
}

// Stage is where a node stands, in the order a node goes through them.
type Stage int

// The stages of a node.
const (
	StageVMCreated Stage = iota
	StageDiskImporting
	StageScheduling
	StageBooting // VMI running, Node not registered yet
	StageJoined  // Node registered, not Ready
	StageReady
)

var stageText = map[Stage]string{
	StageVMCreated:     "waiting for its VM",
	StageDiskImporting: "waiting for its disk",
	StageScheduling:    "scheduling",
	StageBooting:       "booting",
	StageJoined:        "joined, not Ready",
	StageReady:         "Ready",
}

// observe reads the VM, VMI, DataVolume and Node of each wanted node.
func (n *Nodes) observe(ctx context.Context, c provider.ClusterRef, tenant kubernetes.Interface, nodes []provider.NodeSpec) ([]provider.NodeStatus, error) {
	vmis, err := n.byName(ctx, GVRVirtualMachineInstance, c, "")
	if err != nil {
		return nil, err
	}
	dvs, err := n.byName(ctx, GVRDataVolume, c, "")
	if err != nil {
		return nil, err
	}
	tenantNodes, err := tenant.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing tenant nodes: %w", err)
	}
	byName := map[string]*corev1.Node{}
	for i := range tenantNodes.Items {
		byName[tenantNodes.Items[i].Name] = &tenantNodes.Items[i]
	}
	var out []provider.NodeStatus
	for _, spec := range nodes {
		stage := stageOf(vmis[spec.Name], dvs[RootDataVolumeName(spec.Name)], byName[spec.Name])
		if node := byName[spec.Name]; node != nil {
			if err := n.labelLater(ctx, tenant, node, spec); err != nil {
				return nil, err
			}
		}
		st := provider.NodeStatus{Name: spec.Name, Group: spec.Group, Zone: spec.Zone, Ready: stage == StageReady}
		if !st.Ready {
			st.Progress = stageText[stage]
		}
		out = append(out, st)
	}
	return out, nil
}

// byName lists objects of gvr in the cluster's host namespace, by name.
func (n *Nodes) byName(ctx context.Context, gvr schema.GroupVersionResource, c provider.ClusterRef, selector string) (map[string]*unstructured.Unstructured, error) {
	list, err := n.dyn.Resource(gvr).Namespace(HostNamespace(c)).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("listing %s of %s: %w", gvr.Resource, c, err)
	}
	out := map[string]*unstructured.Unstructured{}
	for i := range list.Items {
		out[list.Items[i].GetName()] = &list.Items[i]
	}
	return out, nil
}

func stageOf(vmi, dv *unstructured.Unstructured, node *corev1.Node) Stage {
	if node != nil {
		if provider.NodeReady(node) {
			return StageReady
		}
		return StageJoined
	}
	if vmi != nil {
		phase, _, _ := unstructured.NestedString(vmi.Object, "status", "phase")
		if kubevirtv1.VirtualMachineInstancePhase(phase) == kubevirtv1.Running {
			return StageBooting
		}
		return StageScheduling
	}
	if dv != nil {
		phase, _, _ := unstructured.NestedString(dv.Object, "status", "phase")
		if cdiv1beta1.DataVolumePhase(phase) != cdiv1beta1.Succeeded {
			return StageDiskImporting
		}
		return StageScheduling
	}
	return StageVMCreated
}

// StageSummary is "2/3 Ready, 1 waiting for its disk": counts per stage,
// the furthest first.
func StageSummary(stages []Stage) string {
	count := map[Stage]int{}
	for _, s := range stages {
		count[s]++
	}
	keys := slices.Collect(maps.Keys(count))
	sort.Slice(keys, func(i, j int) bool { return keys[i] > keys[j] })
	parts := []string{fmt.Sprintf("%d/%d Ready", count[StageReady], len(stages))}
	for _, s := range keys {
		if s != StageReady {
			parts = append(parts, fmt.Sprintf("%d %s", count[s], stageText[s]))
		}
	}
	return strings.Join(parts, ", ")
}

// labelLater sets on a registered Node the labels its kubelet could not
// set itself (node-role.kubernetes.io/…).
func (n *Nodes) labelLater(ctx context.Context, tenant kubernetes.Interface, node *corev1.Node, spec provider.NodeSpec) error {
	_, later := SplitKubeletLabels(spec.Labels)
	missing := map[string]string{}
	for k, v := range later {
		if cur, ok := node.Labels[k]; !ok || cur != v {
			missing[k] = v
		}
	}
	if len(missing) == 0 {
		return nil
	}
	data, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": missing}})
	if err != nil {
		return err
	}
	if _, err := tenant.CoreV1().Nodes().Patch(ctx, node.Name, types.MergePatchType, data, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("labelling node %s: %w", node.Name, err)
	}
	return nil
}

// Delete removes every VM of the cluster (their disks and user data with
// them), waits until none is left, then removes the host namespace, unless
// the cluster's control plane runs there too.
func (n *Nodes) Delete(ctx context.Context, c provider.ClusterRef) (bool, error) {
	ns := HostNamespace(c)
	err := n.dyn.Resource(GVRVirtualMachine).Namespace(ns).DeleteCollection(ctx,
		metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationForeground)},
		metav1.ListOptions{LabelSelector: clusterSelector(c)})
	if err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("deleting the VMs of %s: %w", c, err)
	}
	left, err := n.machines(ctx, c)
	if err != nil {
		return false, err
	}
	if len(left) > 0 {
		return false, nil
	}
	// With a kubevirt control plane the namespace is shared: its half
	// removes it after its own workloads.
	if cp, err := runsControlPlane(ctx, n.host, c); err != nil || cp {
		return cp, err
	}
	return removeHostNamespace(ctx, n.host, c, n.now())
}
