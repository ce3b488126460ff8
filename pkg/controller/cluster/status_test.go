package cluster

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

func TestSummarizeNamesThePhaseAndTheFirstProblem(t *testing.T) {
	cond := func(typ string, ok bool, reason string) metav1.Condition {
		st := metav1.ConditionFalse
		if ok {
			st = metav1.ConditionTrue
		}
		return metav1.Condition{Type: typ, Status: st, Reason: reason, Message: reason + " message", ObservedGeneration: 2}
	}
	for _, tc := range []struct {
		name       string
		was        v1alpha1.ClusterPhase
		version    string
		conds      []metav1.Condition
		stepErr    error
		terminal   bool // the provider said retrying cannot help
		wantPhase  v1alpha1.ClusterPhase
		wantReason string
	}{
		{"new cluster", "", "", []metav1.Condition{cond(v1alpha1.ConditionControlPlaneReady, false, "Starting")}, nil, false, v1alpha1.ClusterProvisioning, "Starting"},
		{"everything ready", "", "v1.37.2", []metav1.Condition{cond(v1alpha1.ConditionControlPlaneReady, true, "Running"), cond(v1alpha1.ConditionNodeGroupsReady, true, "NodesReady"), cond(v1alpha1.ConditionAddonsReady, true, "AddonsReady")}, nil, false, v1alpha1.ClusterReady, "ClusterReady"},
		{"first nodes coming", "Provisioning", "v1.37.2", []metav1.Condition{cond(v1alpha1.ConditionControlPlaneReady, true, "Running"), cond(v1alpha1.ConditionNodeGroupsReady, false, "NodesNotReady")}, nil, false, v1alpha1.ClusterProvisioning, "NodesNotReady"},
		{"a ready cluster gaining nodes", "Ready", "v1.37.2", []metav1.Condition{cond(v1alpha1.ConditionControlPlaneReady, true, "Running"), cond(v1alpha1.ConditionNodeGroupsReady, false, "NodesNotReady")}, nil, false, v1alpha1.ClusterScaling, "NodesNotReady"},
		{"upgrading", "Ready", "v1.36.3", []metav1.Condition{cond(v1alpha1.ConditionControlPlaneReady, false, "Upgrading")}, nil, false, v1alpha1.ClusterUpgrading, "Upgrading"},
		{"a terminal provider failure fails", "", "", []metav1.Condition{cond(v1alpha1.ConditionControlPlaneReady, false, "BinariesMissing")}, nil, true, v1alpha1.ClusterFailed, "BinariesMissing"},
		{"the reason alone does not fail", "", "", []metav1.Condition{cond(v1alpha1.ConditionControlPlaneReady, false, "BinariesMissing")}, nil, false, v1alpha1.ClusterProvisioning, "BinariesMissing"},
		{"a provider error is transient", "Ready", "v1.37.2", []metav1.Condition{cond(v1alpha1.ConditionControlPlaneReady, true, v1alpha1.ReasonControlPlaneRunning), cond(v1alpha1.ConditionNodeGroupsReady, false, v1alpha1.ReasonProviderError)}, errors.New("nodes of tenant-a/c: boom"), false, v1alpha1.ClusterScaling, v1alpha1.ReasonProviderError},
		{"a control-plane provider error on a new cluster", "", "", []metav1.Condition{cond(v1alpha1.ConditionControlPlaneReady, false, v1alpha1.ReasonProviderError)}, errors.New("boom"), false, v1alpha1.ClusterProvisioning, v1alpha1.ReasonProviderError},
		{"a step error with good conditions", "Ready", "v1.37.2", []metav1.Condition{cond(v1alpha1.ConditionControlPlaneReady, true, "Running"), cond(v1alpha1.ConditionNodeGroupsReady, true, "NodesReady"), cond(v1alpha1.ConditionAddonsReady, true, "AddonsReady")}, errors.New("boom"), false, v1alpha1.ClusterProvisioning, "ReconcileError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := &v1alpha1.Cluster{Spec: v1alpha1.ClusterSpec{Version: "v1.37"}, Status: v1alpha1.ClusterStatus{Phase: tc.was}}
			cl.Generation = 2
			s := &state{cluster: cl, status: v1alpha1.ClusterStatus{Version: tc.version, Conditions: tc.conds}}
			s.cp.Terminal = tc.terminal
			summarize(s, tc.stepErr)
			if s.status.Phase != tc.wantPhase {
				t.Errorf("phase = %s, want %s", s.status.Phase, tc.wantPhase)
			}
			var ready *metav1.Condition
			for i := range s.status.Conditions {
				if s.status.Conditions[i].Type == v1alpha1.ConditionReady {
					ready = &s.status.Conditions[i]
				}
			}
			if ready == nil || ready.Reason != tc.wantReason || s.status.ObservedGeneration != 2 {
				t.Errorf("Ready = %+v, observedGeneration %d; want reason %s and generation 2", ready, s.status.ObservedGeneration, tc.wantReason)
			}
		})
	}
}

func TestClassifyPods(t *testing.T) {
	unschedulable := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable}
	pods := []corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{NodeName: "n1"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "agent", OwnerReferences: []metav1.OwnerReference{{Kind: "DaemonSet"}}}, Spec: corev1.PodSpec{NodeName: "n2"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "done"}, Spec: corev1.PodSpec{NodeName: "n3"}, Status: corev1.PodStatus{Phase: corev1.PodSucceeded}},
		{ObjectMeta: metav1.ObjectMeta{Name: "waiting"}, Status: corev1.PodStatus{Conditions: []corev1.PodCondition{unschedulable}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "new"}},
	}
	busy, pending := classifyPods(pods)
	if !busy["n1"] || busy["n2"] || busy["n3"] {
		t.Errorf("busy = %v, want only n1 (DaemonSet and finished pods do not keep a node)", busy)
	}
	if len(pending) != 1 || pending[0].Name != "waiting" {
		t.Errorf("pending = %v, want only the unschedulable pod", pending)
	}
}
