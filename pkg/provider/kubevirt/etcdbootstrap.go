package kubevirt

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/pkg/provider"
)

// A new etcd that dies in its very first start, after it created its WAL
// and before it wrote the initial membership into it, comes back as a
// member of a cluster without voters: it never elects a leader and never
// becomes ready (etcd-io/etcd#2877). Nothing inside the pod can tell that
// from a member that waits for its peers, and no restart heals it; only a
// fresh data directory does. The provider therefore remembers on the
// StatefulSet whether its etcd ever formed, and makes the members of an
// etcd that never formed afresh when none of them became ready within
// EtcdBootstrapTimeout of its start: there is no data to lose yet.
const (
	// annotationEtcdBootstrap is on the etcd StatefulSet: "pending" from
	// its creation until a member or a control-plane replica was first seen
	// ready, "formed" from then on. A StatefulSet without it (made before
	// the provider recorded it) counts as formed: it is never wiped.
	annotationEtcdBootstrap = "apps.hikube.io/etcd-bootstrap"
	etcdBootstrapPending    = "pending"
	etcdBootstrapFormed     = "formed"

	// DefaultEtcdBootstrapTimeout is how long every member of a new etcd
	// may run without being ready before it is made afresh: a new member
	// is ready within seconds, a minute even on a loaded host.
	DefaultEtcdBootstrapTimeout = 60 * time.Second

	// ReasonEtcdRebootstrapped is the reason of the Event on the StatefulSet.
	ReasonEtcdRebootstrapped = "EtcdRebootstrapped"
)

// etcdBootstrapOf is the annotationEtcdBootstrap the StatefulSet gets: a
// new one is pending; one that is pending becomes formed once a member or
// a control-plane replica is ready, and formed stays formed.
func etcdBootstrapOf(obs observed) string {
	if obs.etcd == nil {
		return etcdBootstrapPending
	}
	v, ok := obs.etcd.Annotations[annotationEtcdBootstrap]
	switch {
	case !ok:
		return ""
	case v == etcdBootstrapPending && !etcdEverReady(obs):
		return etcdBootstrapPending
	default:
		return etcdBootstrapFormed
	}
}

// etcdEverReady says a member or a control-plane replica is ready now:
// either means the etcd formed (an apiserver is ready only with a leader).
func etcdEverReady(obs observed) bool {
	return (obs.etcd != nil && obs.etcd.Status.ReadyReplicas > 0) || (obs.deploy != nil && obs.deploy.Status.ReadyReplicas > 0)
}

// rebootstrapEtcd makes the members of an etcd that never formed afresh
// when every one of them has run for EtcdBootstrapTimeout without being
// ready: it deletes their claims, then their pods, and the StatefulSet
// makes both again. All members go together: from outside, a member that
// lost its first membership and one that waits for a quorum look the same,
// and a fresh start of them all is exactly a new cluster's. It returns what
// it did, for the status message, or "".
func (cp *ControlPlane) rebootstrapEtcd(ctx context.Context, c provider.ClusterRef, d desired, obs observed) (string, error) {
	if d.etcdBootstrap != etcdBootstrapPending || obs.etcd == nil || etcdEverReady(obs) ||
		obs.etcd.Annotations[annotationEtcdBootstrap] != etcdBootstrapPending {
		return "", nil
	}
	n := namesOf(c)
	pods, err := cp.host.CoreV1().Pods(n.ns).List(ctx, metav1.ListOptions{LabelSelector: metav1.FormatLabelSelector(metav1.SetAsLabelSelector(selectorOf(componentEtcd)))})
	if err != nil {
		return "", fmt.Errorf("listing the etcd pods of %s: %w", c, err)
	}
	byName := map[string]*corev1.Pod{}
	for i := range pods.Items {
		byName[pods.Items[i].Name] = &pods.Items[i]
	}
	now := cp.now()
	var stuck []*corev1.Pod
	for i := range d.members {
		pod := byName[fmt.Sprintf("%s-%d", n.etcd(), i)]
		since, ok := runningNotReadySince(pod)
		if !ok || now.Sub(since) < cp.opts.EtcdBootstrapTimeout {
			// A member is missing, starting, ready or not bad for
			// long enough: the etcd may still form.
			return "", nil
		}
		stuck = append(stuck, pod)
	}
	what := fmt.Sprintf("etcd never formed: no member became ready within %s of its start; its %d member(s) are made afresh", cp.opts.EtcdBootstrapTimeout, len(stuck))
	klog.FromContext(ctx).Info("Re-bootstrapping an etcd that never formed", "cluster", c.String(), "namespace", n.ns,
		"members", len(stuck), "timeout", cp.opts.EtcdBootstrapTimeout)
	cp.event(ctx, obs, what)
	for _, pod := range stuck {
		// The claim first: its protection holds it until the pod is
		// gone, and the StatefulSet then makes the pod with a new claim.
		claim := "data-" + pod.Name
		if err := cp.host.CoreV1().PersistentVolumeClaims(n.ns).Delete(ctx, claim, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return "", fmt.Errorf("deleting the etcd claim %s/%s of %s: %w", n.ns, claim, c, err)
		}
		err := cp.host.CoreV1().Pods(n.ns).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: metav1.NewUIDPreconditions(string(pod.UID))})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return "", fmt.Errorf("deleting the etcd pod %s/%s of %s: %w", n.ns, pod.Name, c, err)
		}
	}
	return what, nil
}

// runningNotReadySince is when the etcd container of pod started, if it
// runs and the pod is not ready and not going away.
func runningNotReadySince(pod *corev1.Pod) (time.Time, bool) {
	if pod == nil || pod.DeletionTimestamp != nil {
		return time.Time{}, false
	}
	for _, cond := range pod.Status.Conditions {
		if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
			return time.Time{}, false
		}
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == containerEtcd && cs.State.Running != nil && !cs.State.Running.StartedAt.IsZero() {
			return cs.State.Running.StartedAt.Time, true
		}
	}
	return time.Time{}, false
}

// event records a Warning on the etcd StatefulSet; a failure to record it
// is logged, not returned: the remedy matters more than its notice.
func (cp *ControlPlane) event(ctx context.Context, obs observed, message string) {
	sts := obs.etcd
	now := metav1.NewTime(cp.now())
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: sts.Name + ".", Namespace: sts.Namespace},
		InvolvedObject: corev1.ObjectReference{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: sts.Namespace, Name: sts.Name,
			UID: sts.UID, ResourceVersion: sts.ResourceVersion},
		Reason: ReasonEtcdRebootstrapped, Message: message, Type: corev1.EventTypeWarning,
		Source:         corev1.EventSource{Component: cp.opts.FieldManager},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}
	if _, err := cp.host.CoreV1().Events(sts.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		klog.FromContext(ctx).Error(err, "Recording an event", "statefulSet", klog.KObj(sts), "reason", ReasonEtcdRebootstrapped)
	}
}
