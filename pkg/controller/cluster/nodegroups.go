package cluster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/autoscaler"
	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/naming"
	"github.com/hikube/hikube/pkg/provider"
	"github.com/hikube/hikube/pkg/quota"
)

// Labels and taints the core puts on worker nodes.
const (
	LabelInstanceType = "node.kubernetes.io/instance-type"
	LabelZone         = "topology.kubernetes.io/zone"
	LabelRegion       = "topology.kubernetes.io/region"
	LabelGPUProduct   = "nvidia.com/gpu.product"
	// TaintGPU keeps pods that do not ask for a GPU off GPU nodes; GPU pods
	// tolerate it the way the NVIDIA operator's pods do.
	TaintGPU = "nvidia.com/gpu"
	// region is where the three datacenters are.
	region = "ch"
	// podsPerNode is the kubelet's default max-pods.
	podsPerNode = 110
)

// nodeGroupsReconciler decides the node count of every group
// (pkg/autoscaler) from the tenant's nodes and pending pods, names and places
// the nodes, has the provider make them so, and reports.
type nodeGroupsReconciler struct {
	provider provider.Provider
	// configMaps reads the GPU inventory in the host cluster.
	configMaps corev1client.ConfigMapsGetter
	recorder   record.EventRecorder
	now        func() time.Time
	// scaleDownGrace is how long a node must stay empty before it is removed.
	scaleDownGrace time.Duration
	// resyncProgressing is how soon to look again while nodes converge.
	resyncProgressing time.Duration
	empty             *emptyNodes
}

func (r *nodeGroupsReconciler) reconcile(ctx context.Context, s *state) (reconcileStatus, error) {
	nodes, pods, err := s.tenant.nodesAndPods(ctx)
	if err != nil {
		return reconcileStop, err
	}
	now := r.now()
	busy, pending := classifyPods(pods)
	used := requestedPerNode(pods)
	gpuZones, err := r.gpuZones(ctx, s)
	if err != nil {
		return reconcileStop, err
	}
	// Machines that exist but have not joined yet (a VM still booting) count
	// too: asking for them again would make a second machine.
	machines, err := r.provider.ListNodes(ctx, s.ref)
	if err != nil {
		setCondition(s, v1alpha1.ConditionNodeGroupsReady, metav1.ConditionFalse, v1alpha1.ReasonProviderError, err.Error())
		return reconcileStop, fmt.Errorf("nodes of %s: %w", s.ref, err)
	}
	groups := r.empty.autoscalerGroups(s, nodes, machines, busy, gpuZones, now)
	addFreeRoom(groups, nodes, used)
	r.requeueAtDeadlines(s, groups, nodes, now)
	decisions := autoscaler.Decide(autoscaler.Input{Now: now, Groups: groups, PendingPods: pending, ScaleDownGrace: r.scaleDownGrace})

	specs := desiredNodes(s, groups, decisions)
	observed, err := r.provider.EnsureNodes(ctx, s.ref, specs)
	if err != nil {
		setCondition(s, v1alpha1.ConditionNodeGroupsReady, metav1.ConditionFalse, v1alpha1.ReasonProviderError, err.Error())
		return reconcileStop, fmt.Errorf("nodes of %s: %w", s.ref, err)
	}
	for _, d := range decisions {
		typ := corev1.EventTypeNormal
		if d.EventReason == autoscaler.ReasonScaleUpLimited {
			typ = corev1.EventTypeWarning
		}
		r.recorder.Event(s.cluster, typ, d.EventReason, d.Reason)
		scaleDecisions.WithLabelValues(d.EventReason).Inc()
	}
	if !reportNodeGroups(s, specs, observed) {
		s.requeueAfter(r.resyncProgressing)
	}
	return reconcileContinue, nil
}

// requeueAtDeadlines asks to look again when a decision may change by the
// clock alone, which no tenant event announces: a node that has been Ready
// for less than nodeSettle starts to count as Ready, an empty node reaches
// the scale-down grace in a group above its minimum.
func (r *nodeGroupsReconciler) requeueAtDeadlines(s *state, groups []autoscaler.Group, nodes []corev1.Node, now time.Time) {
	for i := range nodes {
		if provider.NodeReady(&nodes[i]) {
			if d := readyFor(&nodes[i], now); d < nodeSettle {
				s.requeueAfter(nodeSettle - d)
			}
		}
	}
	for _, g := range groups {
		if int32(len(g.Nodes)) <= g.Min {
			continue // nothing to remove, however long a node stays empty
		}
		for _, n := range g.Nodes {
			if !n.EmptySince.IsZero() {
				if d := n.EmptySince.Add(r.scaleDownGrace).Sub(now); d > 0 {
					s.requeueAfter(d)
				}
			}
		}
	}
}

// emptyNodes remembers when each node was first seen without workload pods;
// a restart forgets it, which only delays a scale-down.
type emptyNodes struct {
	mu    sync.Mutex
	since map[string]time.Time // by "<cluster UID>/<node>"
}

func newEmptyNodes() *emptyNodes { return &emptyNodes{since: map[string]time.Time{}} }

// classifyPods returns, per node, whether it runs workload pods (anything but
// DaemonSet and mirror pods), and the pods the scheduler could not place.
func classifyPods(pods []corev1.Pod) (busy map[string]bool, pending []corev1.Pod) {
	busy = map[string]bool{}
	for _, p := range pods {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed || p.DeletionTimestamp != nil {
			continue
		}
		if p.Spec.NodeName != "" {
			if !isDaemonOrMirror(&p) {
				busy[p.Spec.NodeName] = true
			}
			continue
		}
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse && cond.Reason == corev1.PodReasonUnschedulable {
				pending = append(pending, p)
			}
		}
	}
	return busy, pending
}

// requestedPerNode sums, per node, the requests of the pods bound to it that
// still hold their room, and counts them under "pods".
func requestedPerNode(pods []corev1.Pod) map[string]corev1.ResourceList {
	out := map[string]corev1.ResourceList{}
	for i := range pods {
		p := &pods[i]
		if p.Spec.NodeName == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		sum := out[p.Spec.NodeName]
		if sum == nil {
			sum = corev1.ResourceList{}
			out[p.Spec.NodeName] = sum
		}
		for name, q := range autoscaler.PodRequests(p) {
			total := sum[name]
			total.Add(q)
			sum[name] = total
		}
		n := sum[corev1.ResourcePods]
		n.Add(*resource.NewQuantity(1, resource.DecimalSI))
		sum[corev1.ResourcePods] = n
	}
	return out
}

// addFreeRoom tells the autoscaler what each Ready, schedulable node can
// still take, so that pods the scheduler has not placed yet on room that
// exists are not taken for demand.
func addFreeRoom(groups []autoscaler.Group, nodes []corev1.Node, used map[string]corev1.ResourceList) {
	byName := map[string]*corev1.Node{}
	for i := range nodes {
		byName[nodes[i].Name] = &nodes[i]
	}
	for gi := range groups {
		for ni := range groups[gi].Nodes {
			an := &groups[gi].Nodes[ni]
			n := byName[an.Name]
			if n == nil || !an.Ready || n.Spec.Unschedulable {
				continue
			}
			free := corev1.ResourceList{}
			for name, q := range n.Status.Allocatable {
				left := q.DeepCopy()
				if u, ok := used[n.Name][name]; ok {
					left.Sub(u)
				}
				free[name] = left
			}
			an.Free = free
		}
	}
}

func isDaemonOrMirror(p *corev1.Pod) bool {
	if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		return true
	}
	for _, o := range p.OwnerReferences {
		if o.Kind == "DaemonSet" {
			return true
		}
	}
	return false
}

// autoscalerGroups describes every node group of the spec with its template
// and current nodes, and tracks how long each node has been empty.
func (e *emptyNodes) autoscalerGroups(s *state, nodes []corev1.Node, machines []provider.NodeStatus, busy map[string]bool, gpuZones map[string][]string, now time.Time) []autoscaler.Group {
	e.mu.Lock()
	defer e.mu.Unlock()
	var groups []autoscaler.Group
	for _, name := range slices.Sorted(maps.Keys(s.cluster.Spec.NodeGroups)) {
		g := s.cluster.Spec.NodeGroups[name]
		ag := autoscaler.Group{Name: name, Min: deref(g.MinReplicas), Max: deref(g.MaxReplicas), Template: nodeTemplate(s.cluster, name, g, gpuZones)}
		for _, n := range nodes {
			if n.Labels[provider.LabelNodeGroup] != name {
				continue
			}
			key := s.ref.UID + "/" + n.Name
			since, seen := e.since[key]
			switch {
			case busy[n.Name]:
				delete(e.since, key)
				since = time.Time{}
			case !seen:
				since = now
				e.since[key] = now
			}
			// A node that has joined but does not carry its group's labels
			// yet (a provider sets the ones a kubelet may not) takes no pod
			// that selects them: it is still booting, not a full node.
			//
			// A node Ready for less than nodeSettle counts as booting too:
			// pods the scheduler marked Unschedulable before it was Ready
			// keep that condition until the scheduler places them, and
			// would otherwise ask for a second node.
			ready := provider.NodeReady(&n) && hasLabels(n.Labels, ag.Template.Labels) && readyFor(&n, now) >= nodeSettle
			_, removing := n.Annotations[provider.AnnotationDrainStarted]
			ag.Nodes = append(ag.Nodes, autoscaler.Node{Name: n.Name, Zone: n.Labels[LabelZone], Ready: ready, EmptySince: since, Removing: removing})
		}
		// A machine without its Node yet is starting, not empty.
		for _, m := range machines {
			if m.Group == name && !slices.ContainsFunc(nodes, func(n corev1.Node) bool { return n.Name == m.Name }) {
				ag.Nodes = append(ag.Nodes, autoscaler.Node{Name: m.Name, Zone: m.Zone, Removing: m.Removing})
			}
		}
		groups = append(groups, ag)
	}
	return groups
}

// nodeSettle is how long a node must have been Ready before the autoscaler
// takes the pods still marked Unschedulable as not fitting on it: the
// scheduler retries them on the node's events within about a second.
const nodeSettle = 5 * time.Second

// readyFor is how long the node has been Ready (its Ready condition's last
// transition); a condition without a time counts as long ago.
func readyFor(n *corev1.Node, now time.Time) time.Duration {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && !c.LastTransitionTime.IsZero() {
			return now.Sub(c.LastTransitionTime.Time)
		}
	}
	return nodeSettle
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// nodeTemplate is the shape of every node of a group: the instance type's
// CPU and memory (or the resources override), the root disk, one GPU
// resource per entry, and the labels and taints pods select on.
func nodeTemplate(cl *v1alpha1.Cluster, name string, g v1alpha1.NodeGroup, gpuZones map[string][]string) autoscaler.NodeTemplate {
	labels := map[string]string{
		provider.LabelNodeGroup:  name,
		LabelInstanceType:        g.InstanceType,
		LabelRegion:              region,
		"apps.hikube.io/cluster": cl.Name,
	}
	for _, r := range g.Roles {
		labels["node-role.kubernetes.io/"+r] = ""
	}
	alloc := corev1.ResourceList{corev1.ResourcePods: *resource.NewQuantity(podsPerNode, resource.DecimalSI)}
	if it, ok := catalog.LookupInstanceType(g.InstanceType); ok {
		alloc[corev1.ResourceCPU] = *resource.NewQuantity(int64(it.CPU), resource.DecimalSI)
		alloc[corev1.ResourceMemory] = *resource.NewQuantity(int64(it.MemoryGiB)<<30, resource.BinarySI)
	}
	if r := g.Resources; r != nil {
		alloc[corev1.ResourceCPU] = r.CPU
		alloc[corev1.ResourceMemory] = r.Memory
	}
	if g.EphemeralStorage != nil {
		alloc[corev1.ResourceEphemeralStorage] = *g.EphemeralStorage
	}
	var taints []corev1.Taint
	zones := catalog.Datacenters
	if len(g.GPUs) > 0 {
		if m, ok := catalog.LookupGPU(g.GPUs[0].Name); ok {
			alloc[corev1.ResourceName(m.ShortName)] = *resource.NewQuantity(int64(len(g.GPUs)), resource.DecimalSI)
			labels[LabelGPUProduct] = m.Model
			if z, known := gpuZones[m.Name]; known && len(z) > 0 {
				zones = z // GPU nodes only where the model is installed
			}
		}
		taints = append(taints, corev1.Taint{Key: TaintGPU, Value: "present", Effect: corev1.TaintEffectNoSchedule})
	}
	return autoscaler.NodeTemplate{Labels: labels, Taints: taints, Allocatable: alloc, Zones: zones}
}

// desiredNodes turns the decisions into the full list of nodes: the kept
// ones unchanged in name and zone, new ones named <cluster>-<group>-<random>
// and placed where the autoscaler asked, else in the least-used datacenter.
func desiredNodes(s *state, groups []autoscaler.Group, decisions []autoscaler.Decision) []provider.NodeSpec {
	byGroup := map[string]autoscaler.Decision{}
	for _, d := range decisions {
		if d.To != d.From {
			byGroup[d.Group] = d
		}
	}
	var specs []provider.NodeSpec
	for _, g := range groups {
		d, changed := byGroup[g.Name]
		gspec := s.cluster.Spec.NodeGroups[g.Name]
		remove := map[string]bool{}
		for _, n := range d.RemoveNodes {
			remove[n] = true
		}
		perZone := map[string]int{}
		for _, n := range g.Nodes {
			// A node being drained stays out of the list, so the provider
			// finishes removing it.
			if remove[n.Name] || n.Removing {
				continue
			}
			perZone[n.Zone]++
			specs = append(specs, nodeSpec(g, gspec, n.Name, n.Zone))
		}
		if !changed || d.To <= d.From {
			continue
		}
		add := int(d.To - d.From)
		for _, zone := range slices.Sorted(maps.Keys(d.Zones)) {
			for i := int32(0); i < d.Zones[zone] && add > 0; i++ {
				specs = append(specs, nodeSpec(g, gspec, naming.NodeName(s.cluster.Name, g.Name, rand.String(5)), zone))
				perZone[zone]++
				add--
			}
		}
		for ; add > 0; add-- {
			zone := leastUsedZone(perZone, g.Template.Zones)
			specs = append(specs, nodeSpec(g, gspec, naming.NodeName(s.cluster.Name, g.Name, rand.String(5)), zone))
			perZone[zone]++
		}
	}
	return specs
}

// gpuZones returns, per GPU model (catalog name), the datacenters whose
// inventory has that model, so GPU nodes land only there; nil without an
// inventory (or without GPU groups), which leaves placement to all datacenters.
func (r *nodeGroupsReconciler) gpuZones(ctx context.Context, s *state) (map[string][]string, error) {
	hasGPUs := false
	for _, g := range s.cluster.Spec.NodeGroups {
		hasGPUs = hasGPUs || len(g.GPUs) > 0
	}
	if !hasGPUs {
		return nil, nil
	}
	cm, err := r.configMaps.ConfigMaps(quota.InventoryNamespace).Get(ctx, quota.InventoryName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the GPU inventory: %w", err)
	}
	inv, err := quota.ParseInventory(cm.Data)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for model, perDC := range inv {
		for _, dc := range catalog.Datacenters {
			if perDC[dc] > 0 {
				out[model] = append(out[model], dc)
			}
		}
	}
	return out, nil
}

func nodeSpec(g autoscaler.Group, gspec v1alpha1.NodeGroup, name, zone string) provider.NodeSpec {
	labels := maps.Clone(g.Template.Labels)
	labels[LabelZone] = zone
	return provider.NodeSpec{
		Name: name, Group: g.Name, Zone: zone, Labels: labels,
		Taints: g.Template.Taints, Capacity: g.Template.Allocatable, StorageClass: gspec.StorageClass,
	}
}

// leastUsedZone picks, among the group's zones, the datacenter with the
// fewest nodes of the group, in catalog order on ties, so groups spread evenly.
func leastUsedZone(perZone map[string]int, zones []string) string {
	if len(zones) == 0 {
		zones = catalog.Datacenters
	}
	best := zones[0]
	for _, z := range zones[1:] {
		if perZone[z] < perZone[best] {
			best = z
		}
	}
	return best
}

// reportNodeGroups writes per-group counts and the NodeGroupsReady condition,
// and says whether every group is ready.
func reportNodeGroups(s *state, specs []provider.NodeSpec, observed []provider.NodeStatus) bool {
	st := map[string]v1alpha1.NodeGroupStatus{}
	progress := map[string]map[string]int{} // group -> progress -> nodes
	for name := range s.cluster.Spec.NodeGroups {
		st[name] = v1alpha1.NodeGroupStatus{}
	}
	for _, n := range specs {
		g := st[n.Group]
		g.DesiredReplicas++
		st[n.Group] = g
	}
	for _, n := range observed {
		g, ok := st[n.Group]
		if !ok {
			continue // a removed group's node on its way out
		}
		g.Replicas++
		if !n.Ready && n.Progress != "" {
			if progress[n.Group] == nil {
				progress[n.Group] = map[string]int{}
			}
			progress[n.Group][n.Progress]++
		}
		if n.Ready {
			g.ReadyReplicas++
			if g.Zones == nil {
				g.Zones = map[string]int32{}
			}
			g.Zones[n.Zone]++
		}
		st[n.Group] = g
	}
	s.status.NodeGroups = st
	var notReady []string
	for _, name := range slices.Sorted(maps.Keys(st)) {
		g := st[name]
		if g.ReadyReplicas != g.DesiredReplicas || g.Replicas != g.DesiredReplicas {
			msg := fmt.Sprintf("%s %d/%d ready", name, g.ReadyReplicas, g.DesiredReplicas)
			if p := progress[name]; len(p) > 0 {
				var parts []string
				for _, what := range slices.Sorted(maps.Keys(p)) {
					parts = append(parts, fmt.Sprintf("%d %s", p[what], what))
				}
				msg += " (" + strings.Join(parts, ", ") + ")"
			}
			notReady = append(notReady, msg)
		}
	}
	if len(notReady) > 0 {
		setCondition(s, v1alpha1.ConditionNodeGroupsReady, metav1.ConditionFalse, v1alpha1.ReasonNodesNotReady, "waiting for nodes: "+joinComma(notReady))
		return false
	}
	setCondition(s, v1alpha1.ConditionNodeGroupsReady, metav1.ConditionTrue, v1alpha1.ReasonNodesReady, fmt.Sprintf("%d node groups ready", len(st)))
	return true
}

func deref(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

func joinComma(parts []string) string {
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
