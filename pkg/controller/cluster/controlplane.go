package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/provider"
)

// controlPlaneReconciler asks the provider for the control plane the spec
// wants: the target minor (validation allows one minor up at a time, so the
// core never skips one), replicas placed round-robin over the datacenters.
// The steps after it wait until the control plane is ready: nodes of an
// upgrade follow the control plane, never lead it.
type controlPlaneReconciler struct {
	provider provider.Provider
	recorder record.EventRecorder
	// resyncProgressing is how soon to look again while it converges.
	resyncProgressing time.Duration
}

func (r *controlPlaneReconciler) reconcile(ctx context.Context, s *state) (reconcileStatus, error) {
	spec := s.cluster.Spec
	replicas := int32(1)
	if spec.ControlPlane.Replicas != nil {
		replicas = *spec.ControlPlane.Replicas
	}
	cps := provider.ControlPlaneSpec{
		Minor:    spec.Version,
		Replicas: replicas,
		Zones:    spreadZones(int(replicas)),
		Preset:   spec.ControlPlane.ResourcesPreset,
		PKI:      s.pki,
	}
	before := s.status.Version
	st, err := r.provider.EnsureControlPlane(ctx, s.ref, cps)
	if err != nil {
		setCondition(s, v1alpha1.ConditionControlPlaneReady, metav1.ConditionFalse, v1alpha1.ReasonProviderError, err.Error())
		return reconcileStop, fmt.Errorf("control plane of %s: %w", s.ref, err)
	}
	s.cp = st
	s.status.ControlPlane = v1alpha1.ControlPlaneStatus{Replicas: st.Replicas, ReadyReplicas: st.ReadyReplicas}
	if st.Endpoint != "" {
		s.status.Endpoint = st.Endpoint
	}
	if !st.Ready {
		reason, msg := st.Reason, st.Message
		if reason == "" {
			reason, msg = v1alpha1.ReasonControlPlaneStarting, "the control plane is starting"
		}
		setCondition(s, v1alpha1.ConditionControlPlaneReady, metav1.ConditionFalse, reason, msg)
		s.requeueAfter(r.resyncProgressing)
		return reconcileStop, nil
	}
	s.status.Version = st.Version
	if before != "" && minorOf(before) != minorOf(st.Version) {
		r.recorder.Eventf(s.cluster, corev1.EventTypeNormal, "Upgraded", "Control plane upgraded from %s to %s", before, st.Version)
	}
	setCondition(s, v1alpha1.ConditionControlPlaneReady, metav1.ConditionTrue, v1alpha1.ReasonControlPlaneRunning,
		fmt.Sprintf("%d/%d replicas of Kubernetes %s serve at %s", st.ReadyReplicas, st.Replicas, st.Version, st.Endpoint))
	return reconcileContinue, nil
}

// spreadZones places n replicas round-robin over the datacenters.
func spreadZones(n int) []string {
	zones := make([]string, n)
	for i := range zones {
		zones[i] = catalog.Datacenters[i%len(catalog.Datacenters)]
	}
	return zones
}

// minorOf turns "v1.37.2" into "v1.37".
func minorOf(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return version
	}
	return parts[0] + "." + parts[1]
}

// setCondition records a condition for the current generation.
func setCondition(s *state, typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&s.status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: message, ObservedGeneration: s.cluster.Generation,
	})
}
