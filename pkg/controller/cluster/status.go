package cluster

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

// summarize derives the Ready condition and the phase from the step
// conditions, and records which generation the status describes.
func (c *Controller) summarize(s *state, stepErr error) {
	s.status.ObservedGeneration = s.cluster.Generation
	if s.cluster.DeletionTimestamp != nil {
		s.status.Phase = v1alpha1.ClusterDeleting
		setCondition(s, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonDeleting, "the cluster is being deleted")
		return
	}
	var notReady *metav1.Condition
	for _, t := range []string{v1alpha1.ConditionControlPlaneReady, v1alpha1.ConditionNodeGroupsReady, v1alpha1.ConditionAddonsReady} {
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
		setCondition(s, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonClusterReady, "control plane, node groups and add-ons are ready")
		s.status.Phase = v1alpha1.ClusterReady
		return
	}
	setCondition(s, v1alpha1.ConditionReady, metav1.ConditionFalse, notReady.Reason, notReady.Type+": "+notReady.Message)
	s.status.Phase = c.progressPhase(s, notReady)
}

// progressPhase names what a not-ready cluster is doing.
func (c *Controller) progressPhase(s *state, notReady *metav1.Condition) v1alpha1.ClusterPhase {
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

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }
