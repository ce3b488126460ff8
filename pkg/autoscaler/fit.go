package autoscaler

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	resourcehelper "k8s.io/component-helpers/resource"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// PodRequests is what the scheduler reserves for pod: the sum of its
// containers' requests, at least the largest init container's (restartable
// sidecars counted the Kubernetes way), pod-level requests when set, plus
// the pod overhead. It does not include the pod's slot in the node's "pods"
// allocatable.
func PodRequests(pod *corev1.Pod) corev1.ResourceList {
	return resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{})
}

// TemplateFits says whether pod could run on an empty new node of template t,
// and when not, why: an untolerated taint, a node selector or required node
// affinity that no zone of the template satisfies, or a request larger than
// the node's allocatable.
func TemplateFits(pod *corev1.Pod, t NodeTemplate) (bool, string) {
	p := newPendingPod(pod)
	_, ok, why := p.fit(newTemplateInfo(t))
	return ok, why
}

// vec is a resource list in milli-units, cheap to add and compare. Zero
// quantities are kept: an allocatable "pods: 0" means no room, while an
// absent "pods" means the template does not count pods.
type vec map[corev1.ResourceName]int64

func toVec(l corev1.ResourceList) vec {
	v := make(vec, len(l))
	for name, q := range l {
		v[name] = q.MilliValue()
	}
	return v
}

// isExtended says whether name is a device-style resource (nvidia.com/...),
// the kind a node has few of and a reason should name first.
func isExtended(name corev1.ResourceName) bool {
	switch name {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage, corev1.ResourcePods:
		return false
	}
	return !strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

func (v vec) extendedTotal() int64 {
	var n int64
	for name, q := range v {
		if isExtended(name) {
			n += q
		}
	}
	return n
}

// sortedNames makes every walk over a vec deterministic, so the first
// reason reported is always the same one.
func (v vec) sortedNames() []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(v))
	for n := range v {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	return names
}

// pendingPod is a pending pod with its requests and required affinity
// computed once.
type pendingPod struct {
	pod      *corev1.Pod
	key      string // namespace/name/uid, the last tie-break
	req      vec
	affinity nodeaffinity.RequiredNodeAffinity
	bin      *bin // where pack placed the pod, nil if nowhere
}

func newPendingPod(pod *corev1.Pod) *pendingPod {
	return &pendingPod{
		pod:      pod,
		key:      pod.Namespace + "/" + pod.Name + "/" + string(pod.UID),
		req:      toVec(PodRequests(pod)),
		affinity: nodeaffinity.GetRequiredNodeAffinity(pod),
	}
}

const newNodeName = "(new node)"

// templateInfo is a NodeTemplate prepared for many fit checks: its
// allocatable in milli-units and one Node object per zone for the affinity
// matcher.
type templateInfo struct {
	t     NodeTemplate
	alloc vec
	zones []string // "" when the template names no zones
	nodes []*corev1.Node
}

func newTemplateInfo(t NodeTemplate) *templateInfo {
	ti := &templateInfo{t: t, alloc: toVec(t.Allocatable)}
	zones := append([]string(nil), t.Zones...)
	sort.Strings(zones)
	if len(zones) == 0 {
		zones = []string{""}
	}
	for _, z := range zones {
		labels := make(map[string]string, len(t.Labels)+1)
		for k, v := range t.Labels {
			labels[k] = v
		}
		if z != "" {
			labels[corev1.LabelTopologyZone] = z
		}
		ti.zones = append(ti.zones, z)
		ti.nodes = append(ti.nodes, &corev1.Node{
			// A name no real node can have: a pod bound to a node by a
			// metadata.name field (a DaemonSet pod) must not match a new node,
			// and a nameless node would skip matchFields altogether.
			ObjectMeta: metav1.ObjectMeta{Name: newNodeName, Labels: labels},
			Spec:       corev1.NodeSpec{Taints: t.Taints},
			Status:     corev1.NodeStatus{Allocatable: t.Allocatable, Capacity: t.Allocatable},
		})
	}
	return ti
}

// fit returns the zones of t in which p could run on an empty new node.
func (p *pendingPod) fit(t *templateInfo) (zones []string, ok bool, why string) {
	if taint, bad := untolerated(p.pod.Spec.Tolerations, t.t.Taints); bad {
		return nil, false, fmt.Sprintf("does not tolerate taint %s", taint.ToString())
	}
	if why := resourcesExceed(p.req, t.alloc); why != "" {
		return nil, false, why
	}
	for i, n := range t.nodes {
		match, err := p.affinity.Match(n)
		if err != nil {
			return nil, false, fmt.Sprintf("invalid node affinity: %v", err)
		}
		if match {
			zones = append(zones, t.zones[i])
		}
	}
	if len(zones) == 0 {
		return nil, false, "node selector or required node affinity matches no node of the group" + zoneList(t.zones)
	}
	return zones, true, ""
}

func zoneList(zones []string) string {
	if len(zones) == 1 && zones[0] == "" {
		return ""
	}
	return " (zones " + strings.Join(zones, ", ") + ")"
}

// untolerated returns the first NoSchedule or NoExecute taint that no
// toleration tolerates. Lt/Gt tolerations count as not tolerating.
func untolerated(tolerations []corev1.Toleration, taints []corev1.Taint) (corev1.Taint, bool) {
	for i := range taints {
		taint := &taints[i]
		if taint.Effect != corev1.TaintEffectNoSchedule && taint.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		tolerated := false
		for j := range tolerations {
			if tolerations[j].ToleratesTaint(klog.Logger{}, taint, false) {
				tolerated = true
				break
			}
		}
		if !tolerated {
			return *taint, true
		}
	}
	return corev1.Taint{}, false
}

// resourcesExceed names the first resource of req above alloc, or "".
// A node also gives each pod one of its "pods" slots.
func resourcesExceed(req, alloc vec) string {
	for _, name := range req.sortedNames() {
		if req[name] > alloc[name] {
			return fmt.Sprintf("needs %s %s, a node of the group has %s", formatMilli(name, req[name]), name, formatMilli(name, alloc[name]))
		}
	}
	if a, ok := alloc[corev1.ResourcePods]; ok && a < 1000 {
		return "a node of the group admits no pods"
	}
	return ""
}

func formatMilli(name corev1.ResourceName, m int64) string {
	if name == corev1.ResourceCPU {
		return resource.NewMilliQuantity(m, resource.DecimalSI).String()
	}
	if m%1000 == 0 {
		if name == corev1.ResourceMemory || name == corev1.ResourceEphemeralStorage {
			return resource.NewQuantity(m/1000, resource.BinarySI).String()
		}
		return resource.NewQuantity(m/1000, resource.DecimalSI).String()
	}
	return resource.NewMilliQuantity(m, resource.DecimalSI).String()
}
