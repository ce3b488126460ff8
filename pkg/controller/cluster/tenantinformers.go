package cluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/pkg/provider"
)

// tenantInformers watch the Nodes of a tenant's node groups and its pods
// that are not finished, which is all the node-groups step reads: the
// autoscaler needs the pods the scheduler could not place (demand) and the
// pods bound to nodes (the room they hold, whether a node is empty). Both
// caches hold trimmed objects (see trimNode, trimPod), so a tenant with
// thousands of pods costs the controller little memory.
type tenantInformers struct {
	nodes, pods cache.SharedIndexInformer
}

// tenantEvents is where the informers report what should make the cluster be
// looked at again: now for what the autoscaler must react to (an
// unschedulable pod, a node that came, went or changed readiness), after a
// short delay for changes that are only bookkeeping (pods bound or gone,
// which make nodes busy or empty) so that a busy tenant's churn is batched.
type tenantEvents struct {
	now   func()
	later func()
}

// podChurnDelay batches the reconciles that pods being bound or finishing ask
// for: emptiness only matters at the scale-down grace's scale.
const podChurnDelay = time.Second

// unfinishedPods is the pods informer's field selector.
var unfinishedPods = fields.AndSelectors(
	fields.OneTermNotEqualSelector("status.phase", string(corev1.PodSucceeded)),
	fields.OneTermNotEqualSelector("status.phase", string(corev1.PodFailed)),
).String()

func newTenantInformers(kube kubernetes.Interface, ev tenantEvents, watchErr func(error)) (*tenantInformers, error) {
	ti := &tenantInformers{
		nodes: coreinformers.NewFilteredNodeInformer(kube, 0, cache.Indexers{}, func(o *metav1.ListOptions) {
			o.LabelSelector = provider.LabelNodeGroup
		}),
		pods: coreinformers.NewFilteredPodInformer(kube, metav1.NamespaceAll, 0, cache.Indexers{}, func(o *metav1.ListOptions) {
			o.FieldSelector = unfinishedPods
		}),
	}
	for _, inf := range []struct {
		i         cache.SharedIndexInformer
		transform cache.TransformFunc
		handler   cache.ResourceEventHandler
	}{
		{ti.nodes, trimNode, nodeHandler(ev)},
		{ti.pods, trimPod, podHandler(ev)},
	} {
		if err := inf.i.SetTransform(inf.transform); err != nil {
			return nil, err
		}
		if err := inf.i.SetWatchErrorHandlerWithContext(func(ctx context.Context, _ *cache.Reflector, err error) {
			klog.FromContext(ctx).V(2).Info("Tenant watch failed", "err", err)
			watchErr(err)
		}); err != nil {
			return nil, err
		}
		if _, err := inf.i.AddEventHandler(inf.handler); err != nil {
			return nil, err
		}
	}
	return ti, nil
}

func (ti *tenantInformers) run(ctx context.Context) {
	go ti.nodes.RunWithContext(ctx)
	go ti.pods.RunWithContext(ctx)
}

func (ti *tenantInformers) synced() bool {
	return ti.nodes.HasSynced() && ti.pods.HasSynced()
}

// list returns the group nodes and unfinished pods from the caches. The
// objects are shared with the cache: read only.
func (ti *tenantInformers) list() ([]corev1.Node, []corev1.Pod, error) {
	var nodes []corev1.Node
	for _, o := range ti.nodes.GetStore().List() {
		n, ok := o.(*corev1.Node)
		if !ok {
			return nil, nil, fmt.Errorf("node cache holds a %T", o)
		}
		nodes = append(nodes, *n)
	}
	var pods []corev1.Pod
	for _, o := range ti.pods.GetStore().List() {
		p, ok := o.(*corev1.Pod)
		if !ok {
			return nil, nil, fmt.Errorf("pod cache holds a %T", o)
		}
		pods = append(pods, *p)
	}
	return nodes, pods, nil
}

// nodeHandler asks for a reconcile when a group node comes or goes, or when
// what the autoscaler sees of it changes: readiness, labels (a provider adds
// the group's labels after the kubelet registers), cordon, taints, drain.
func nodeHandler(ev tenantEvents) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { ev.now() },
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := oldObj.(*corev1.Node)
			n, ok2 := newObj.(*corev1.Node)
			if !ok1 || !ok2 || nodeChanged(o, n) {
				ev.now()
			}
		},
		DeleteFunc: func(any) { ev.now() },
	}
}

func nodeChanged(o, n *corev1.Node) bool {
	return provider.NodeReady(o) != provider.NodeReady(n) ||
		!labels.Equals(o.Labels, n.Labels) ||
		o.Spec.Unschedulable != n.Spec.Unschedulable ||
		len(o.Spec.Taints) != len(n.Spec.Taints) ||
		o.Annotations[provider.AnnotationDrainStarted] != n.Annotations[provider.AnnotationDrainStarted]
}

// podHandler asks for a reconcile at once when a pod becomes Unschedulable
// (the autoscaler's demand), and a little later when a pod is bound to a node
// or leaves one (the node's emptiness). Any other pod change (status of its
// containers, the scheduler's retries of a pod still unschedulable) is not
// news to the autoscaler.
func podHandler(ev tenantEvents) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			p, ok := obj.(*corev1.Pod)
			switch {
			case !ok:
			case unschedulable(p):
				ev.now()
			case p.Spec.NodeName != "":
				ev.later()
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := oldObj.(*corev1.Pod)
			n, ok2 := newObj.(*corev1.Pod)
			switch {
			case !ok1 || !ok2:
			case unschedulable(n) && !unschedulable(o):
				ev.now()
			case o.Spec.NodeName != n.Spec.NodeName, (o.DeletionTimestamp == nil) != (n.DeletionTimestamp == nil):
				ev.later()
			}
		},
		DeleteFunc: func(obj any) {
			if p, ok := obj.(*corev1.Pod); !ok || p.Spec.NodeName != "" {
				ev.later() // a tombstone may have been bound: look
			}
		},
	}
}

// unschedulable says whether the scheduler marked p as fitting no node.
func unschedulable(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			return c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable
		}
	}
	return false
}

// trimNode keeps what the node-groups step and the handlers read: name,
// labels, annotations, cordon and taints, conditions and allocatable. Images,
// addresses, capacity and managed fields go.
func trimNode(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil // a tombstone
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: n.Name, UID: n.UID, ResourceVersion: n.ResourceVersion,
			Labels: n.Labels, Annotations: n.Annotations, CreationTimestamp: n.CreationTimestamp,
		},
		Spec:   corev1.NodeSpec{Unschedulable: n.Spec.Unschedulable, Taints: n.Spec.Taints},
		Status: corev1.NodeStatus{Conditions: n.Status.Conditions, Allocatable: n.Status.Allocatable},
	}, nil
}

// trimPod keeps what the autoscaler reads: identity, owners and the mirror
// annotation (DaemonSet and static pods do not keep a node busy), the node it
// is bound to, what it requests (containers' resources, overhead, pod-level
// resources) and what it selects or tolerates, its phase and conditions.
// Commands, environment, volumes, probes, container statuses and managed
// fields go.
func trimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil // a tombstone
	}
	var ann map[string]string
	if v, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		ann = map[string]string{corev1.MirrorPodAnnotationKey: v}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion,
			Annotations: ann, OwnerReferences: p.OwnerReferences, DeletionTimestamp: p.DeletionTimestamp,
		},
		Spec: corev1.PodSpec{
			NodeName: p.Spec.NodeName, NodeSelector: p.Spec.NodeSelector, Affinity: p.Spec.Affinity,
			Tolerations: p.Spec.Tolerations, Overhead: p.Spec.Overhead, Resources: p.Spec.Resources,
			Containers: trimContainers(p.Spec.Containers), InitContainers: trimContainers(p.Spec.InitContainers),
		},
		Status: corev1.PodStatus{Phase: p.Status.Phase, Conditions: p.Status.Conditions},
	}, nil
}

func trimContainers(cs []corev1.Container) []corev1.Container {
	if len(cs) == 0 {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		out[i] = corev1.Container{Name: c.Name, Resources: c.Resources, RestartPolicy: c.RestartPolicy}
	}
	return out
}
