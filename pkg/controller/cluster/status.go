package cluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

// summarize derives the Ready condition and the phase from the step
// conditions, and records which generation the status describes.
func summarize(s *state, stepErr error) {
	s.status.ObservedGeneration = s.cluster.Generation
	if s.cluster.DeletionTimestamp != nil {
		s.status.Phase = v1alpha1.ClusterDeleting
		setCondition(s, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonDeleting, "the cluster is being deleted")
		return
	}
	var notReady *metav1.Condition
	// Add-ons report AddonsReady on their own: an add-on's install never
	// holds the cluster's Ready.
	for _, t := range []string{v1alpha1.ConditionControlPlaneReady, v1alpha1.ConditionNodeGroupsReady} {
		cond := meta.FindStatusCondition(s.status.Conditions, t)
		if cond == nil || cond.Status != metav1.ConditionTrue || cond.ObservedGeneration != s.cluster.Generation {
			if cond == nil {
				cond = &metav1.Condition{Type: t, Reason: v1alpha1.ReasonPending, Message: t + " not evaluated yet"}
			}
			notReady = cond
			break
		}
	}
	if stepErr != nil && notReady == nil {
		notReady = &metav1.Condition{Type: "Reconcile", Reason: v1alpha1.ReasonReconcileError, Message: stepErr.Error()}
	}
	if notReady == nil {
		setCondition(s, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonClusterReady, "control plane and node groups are ready")
		s.status.Phase = v1alpha1.ClusterReady
		return
	}
	setCondition(s, v1alpha1.ConditionReady, metav1.ConditionFalse, notReady.Reason, notReady.Type+": "+notReady.Message)
	s.status.Phase = progressPhase(s, notReady)
}

// progressPhase names what a not-ready cluster is doing.
func progressPhase(s *state, notReady *metav1.Condition) v1alpha1.ClusterPhase {
	switch {
	case s.cp.Terminal:
		// Only the provider knows that retrying cannot help (binaries
		// missing, say); any other error, the provider's included, is
		// retried and the cluster stays in progress.
		return v1alpha1.ClusterFailed
	case s.status.Version == "":
		return v1alpha1.ClusterProvisioning
	case minorOf(s.status.Version) != s.cluster.Spec.Version:
		return v1alpha1.ClusterUpgrading
	case notReady.Type == v1alpha1.ConditionNodeGroupsReady && (s.cluster.Status.Phase == v1alpha1.ClusterReady || s.cluster.Status.Phase == v1alpha1.ClusterScaling):
		// Scaling is a Ready cluster changing its nodes; a new cluster's
		// first nodes are still part of provisioning.
		return v1alpha1.ClusterScaling
	default:
		return v1alpha1.ClusterProvisioning
	}
}

// statusWriter writes the status the steps built through clusters/status
// when it changed, with an event for each phase transition and each
// condition change.
type statusWriter struct {
	clusters clusterWriter
	recorder record.EventRecorder
}

func (w *statusWriter) write(ctx context.Context, s *state) error {
	if apiequality.Semantic.DeepEqual(s.cluster.Status, s.status) {
		return nil
	}
	old := s.cluster.Status.Phase
	upd := s.cluster.DeepCopy()
	upd.Status = s.status
	if _, err := w.clusters.updateStatus(ctx, upd); err != nil {
		return fmt.Errorf("writing the status of %s: %w", s.ref, err)
	}
	if old != s.status.Phase {
		w.recorder.Eventf(s.cluster, corev1.EventTypeNormal, "Phase"+string(s.status.Phase), "Phase %s → %s", phaseOrNone(old), s.status.Phase)
	}
	w.conditionEvents(s.cluster, s.cluster.Status.Conditions, s.status.Conditions)
	return nil
}

// conditionEvents records an event for every condition that changed status
// or reason, so `kubectl describe` tells the story (a control-plane process
// that died and came back, nodes that joined).
func (w *statusWriter) conditionEvents(obj runtime.Object, before, after []metav1.Condition) {
	for _, cond := range after {
		if cond.Type == v1alpha1.ConditionReady {
			continue // the phase events say it
		}
		old := meta.FindStatusCondition(before, cond.Type)
		if old != nil && old.Status == cond.Status && old.Reason == cond.Reason {
			continue
		}
		typ := corev1.EventTypeNormal
		if cond.Status != metav1.ConditionTrue && old != nil && old.Status == metav1.ConditionTrue {
			typ = corev1.EventTypeWarning
		}
		w.recorder.Eventf(obj, typ, cond.Reason, "%s=%s: %s", cond.Type, cond.Status, cond.Message)
	}
}

func phaseOrNone(p v1alpha1.ClusterPhase) string {
	if p == "" {
		return "<none>"
	}
	return string(p)
}
