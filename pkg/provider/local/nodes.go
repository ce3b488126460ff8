package local

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"

	"github.com/hikube/hikube/pkg/provider"
)

const (
	// kwok manages only nodes with this annotation.
	kwokAnnotation      = "kwok.x-k8s.io/node"
	kwokAnnotationValue = "fake"
	labelZone           = "topology.kubernetes.io/zone"
	labelHostname       = "kubernetes.io/hostname"
	// The kubelet labels every node with its OS and architecture, and charts
	// select on them (nodeSelector kubernetes.io/os: linux); kwok has no
	// kubelet, so the provider sets them as a kubelet would.
	labelOS   = "kubernetes.io/os"
	labelArch = "kubernetes.io/arch"
)

// managedNodes is a client of the tenant cluster and the nodes the provider
// manages in it.
func (p *Provider) managedNodes(ctx context.Context, c provider.ClusterRef) (kubernetes.Interface, *corev1.NodeList, error) {
	cfg, err := p.AdminConfig(ctx, c)
	if err != nil {
		return nil, nil, fmt.Errorf("nodes of %s: %w", c, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("nodes of %s: %w", c, err)
	}
	list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: provider.LabelNodeGroup})
	if err != nil {
		return nil, nil, fmt.Errorf("listing the nodes of %s: %w", c, err)
	}
	return cs, list, nil
}

// ListNodes reports the simulated nodes of the cluster: they exist only as
// Node objects, so a listed node has always joined.
func (p *Provider) ListNodes(ctx context.Context, c provider.ClusterRef) ([]provider.NodeStatus, error) {
	_, list, err := p.managedNodes(ctx, c)
	if err != nil {
		return nil, err
	}
	out := make([]provider.NodeStatus, 0, len(list.Items))
	for i := range list.Items {
		n := &list.Items[i]
		out = append(out, provider.NodeStatus{Name: n.Name, Group: n.Labels[provider.LabelNodeGroup], Zone: n.Labels[labelZone], Ready: provider.NodeReady(n)})
	}
	return out, nil
}

// EnsureNodes makes the managed nodes of the tenant cluster exactly nodes.
// Nodes are kwok-simulated: a Node object with the kwok annotation, whose
// capacity and allocatable the provider sets and kwok keeps.
func (p *Provider) EnsureNodes(ctx context.Context, c provider.ClusterRef, nodes []provider.NodeSpec) ([]provider.NodeStatus, error) {
	cs, list, err := p.managedNodes(ctx, c)
	if err != nil {
		return nil, err
	}
	existing := map[string]*corev1.Node{}
	for i := range list.Items {
		existing[list.Items[i].Name] = &list.Items[i]
	}
	var statuses []provider.NodeStatus
	wanted := map[string]bool{}
	for _, spec := range nodes {
		wanted[spec.Name] = true
		node, err := ensureNode(ctx, cs, spec, existing[spec.Name])
		if err != nil {
			return nil, fmt.Errorf("node %s of %s: %w", spec.Name, c, err)
		}
		statuses = append(statuses, provider.NodeStatus{Name: spec.Name, Group: spec.Group, Zone: spec.Zone, Ready: provider.NodeReady(node)})
	}
	for name, node := range existing {
		if wanted[name] {
			continue
		}
		if err := removeNode(ctx, cs, node); err != nil {
			return nil, fmt.Errorf("removing node %s of %s: %w", name, c, err)
		}
		p.o.Log.Info("Removed a simulated node", "cluster", c.String(), "node", name)
	}
	return statuses, nil
}

// desiredNode is the Node a spec asks for (metadata and spec, and the
// capacity part of status).
func desiredNode(spec provider.NodeSpec) *corev1.Node {
	labels := maps.Clone(spec.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[provider.LabelNodeGroup] = spec.Group
	labels[labelHostname] = spec.Name
	labels[labelOS], labels[labelArch] = "linux", "amd64"
	if spec.Zone != "" {
		labels[labelZone] = spec.Zone
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        spec.Name,
			Labels:      labels,
			Annotations: map[string]string{kwokAnnotation: kwokAnnotationValue},
		},
		Spec: corev1.NodeSpec{Taints: slices.Clone(spec.Taints)},
		Status: corev1.NodeStatus{
			Capacity:    spec.Capacity.DeepCopy(),
			Allocatable: spec.Capacity.DeepCopy(),
		},
	}
}

func ensureNode(ctx context.Context, cs kubernetes.Interface, spec provider.NodeSpec, cur *corev1.Node) (*corev1.Node, error) {
	want := desiredNode(spec)
	if cur == nil {
		created, err := cs.CoreV1().Nodes().Create(ctx, want, metav1.CreateOptions{})
		switch {
		case apierrors.IsAlreadyExists(err):
			if created, err = cs.CoreV1().Nodes().Get(ctx, spec.Name, metav1.GetOptions{}); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		}
		cur = created
	}
	if merged, changed := mergeNode(cur, want); changed {
		updated, err := cs.CoreV1().Nodes().Update(ctx, merged, metav1.UpdateOptions{})
		if err != nil {
			return nil, err
		}
		cur = updated
	}
	// Semantic equality compares quantities by value ("1" equals "1000m").
	if !apiequality.Semantic.DeepEqual(cur.Status.Capacity, want.Status.Capacity) ||
		!apiequality.Semantic.DeepEqual(cur.Status.Allocatable, want.Status.Allocatable) {
		n := cur.DeepCopy()
		n.Status.Capacity = want.Status.Capacity
		n.Status.Allocatable = want.Status.Allocatable
		updated, err := cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		if err != nil {
			return nil, err
		}
		cur = updated
	}
	return cur, nil
}

// mergeNode applies the labels, annotation and taints of want to cur. Labels
// and taints set by others (the node lifecycle controller's
// node.kubernetes.io/* taints, for instance) are kept.
func mergeNode(cur, want *corev1.Node) (*corev1.Node, bool) {
	n := cur.DeepCopy()
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	maps.Copy(n.Labels, want.Labels)
	if n.Annotations == nil {
		n.Annotations = map[string]string{}
	}
	maps.Copy(n.Annotations, want.Annotations)
	taints := slices.Clone(want.Spec.Taints)
	for _, t := range cur.Spec.Taints {
		if strings.HasPrefix(t.Key, "node.kubernetes.io/") || strings.HasPrefix(t.Key, "node.cloudprovider.kubernetes.io/") {
			taints = append(taints, t)
		}
	}
	n.Spec.Taints = taints
	changed := !apiequality.Semantic.DeepEqual(n.Labels, cur.Labels) ||
		!apiequality.Semantic.DeepEqual(n.Annotations, cur.Annotations) ||
		!sameTaints(n.Spec.Taints, cur.Spec.Taints)
	return n, changed
}

func sameTaints(a, b []corev1.Taint) bool {
	if len(a) != len(b) {
		return false
	}
	for _, t := range a {
		if !slices.ContainsFunc(b, func(u corev1.Taint) bool { return t.MatchTaint(&u) && t.Value == u.Value }) {
			return false
		}
	}
	return true
}

// removeNode cordons the node, deletes the pods bound to it (nothing runs
// them on a simulated node, so there is nothing to drain gracefully) and
// deletes it.
func removeNode(ctx context.Context, cs kubernetes.Interface, node *corev1.Node) error {
	if !node.Spec.Unschedulable {
		n := node.DeepCopy()
		n.Spec.Unschedulable = true
		if _, err := cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("cordoning: %w", err)
		}
	}
	pods, err := cs.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", node.Name).String(),
	})
	if err != nil {
		return fmt.Errorf("listing its pods: %w", err)
	}
	zero := int64(0)
	for _, pod := range pods.Items {
		err := cs.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
	}
	if err := cs.CoreV1().Nodes().Delete(ctx, node.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting: %w", err)
	}
	return nil
}
