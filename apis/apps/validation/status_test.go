package validation

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/v1alpha1/fixtures"
)

func readyStatus() apps.ClusterStatus {
	return apps.ClusterStatus{
		Phase: apps.ClusterReady, ObservedGeneration: 3, Endpoint: "https://prod.example.ch:6443", Version: "v1.33",
		ControlPlane: apps.ControlPlaneStatus{Replicas: 3, ReadyReplicas: 3},
		NodeGroups: map[string]apps.NodeGroupStatus{
			"web": {DesiredReplicas: 2, Replicas: 2, ReadyReplicas: 2, Zones: map[string]int32{"geneva": 1, "lucerne": 1}},
		},
		Addons: map[string]apps.AddonStatus{"certManager": {State: apps.AddonReady}, "fluxcd": {}},
		Conditions: []metav1.Condition{{
			Type: "Ready", Status: metav1.ConditionTrue, Reason: "AllReady", Message: "the cluster serves",
			LastTransitionTime: metav1.Now(), ObservedGeneration: 3,
		}},
	}
}

func TestValidateClusterStatusUpdate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*apps.ClusterStatus)
		want   []wantErr
	}{
		{name: "ready status is valid"},
		{name: "empty phase is valid", mutate: func(s *apps.ClusterStatus) { s.Phase = "" }},
		{name: "unknown phase", mutate: func(s *apps.ClusterStatus) { s.Phase = "Running" },
			want: []wantErr{{field.ErrorTypeNotSupported, "status.phase"}}},
		{name: "negative observedGeneration", mutate: func(s *apps.ClusterStatus) { s.ObservedGeneration = -1 },
			want: []wantErr{{field.ErrorTypeInvalid, "status.observedGeneration"}}},
		{name: "negative control plane count", mutate: func(s *apps.ClusterStatus) { s.ControlPlane.ReadyReplicas = -1 },
			want: []wantErr{{field.ErrorTypeInvalid, "status.controlPlane.readyReplicas"}}},
		{name: "negative node group counts", mutate: func(s *apps.ClusterStatus) {
			s.NodeGroups["web"] = apps.NodeGroupStatus{DesiredReplicas: -1, Replicas: -2, ReadyReplicas: -3, Zones: map[string]int32{"gland": -1}}
		}, want: []wantErr{
			{field.ErrorTypeInvalid, "status.nodeGroups[web].desiredReplicas"},
			{field.ErrorTypeInvalid, "status.nodeGroups[web].replicas"},
			{field.ErrorTypeInvalid, "status.nodeGroups[web].readyReplicas"},
			{field.ErrorTypeInvalid, "status.nodeGroups[web].zones[gland]"},
		}},
		{name: "unknown addon state", mutate: func(s *apps.ClusterStatus) { s.Addons["velero"] = apps.AddonStatus{State: "Done"} },
			want: []wantErr{{field.ErrorTypeNotSupported, "status.addons[velero].state"}}},
		{name: "condition without reason", mutate: func(s *apps.ClusterStatus) { s.Conditions[0].Reason = "" },
			want: []wantErr{{field.ErrorTypeRequired, "status.conditions[0].reason"}}},
		{name: "condition with unknown status", mutate: func(s *apps.ClusterStatus) { s.Conditions[0].Status = "Maybe" },
			want: []wantErr{{field.ErrorTypeNotSupported, "status.conditions[0].status"}}},
		{name: "duplicate condition type", mutate: func(s *apps.ClusterStatus) { s.Conditions = append(s.Conditions, s.Conditions[0]) },
			want: []wantErr{{field.ErrorTypeDuplicate, "status.conditions[1]"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldC := internal(t, fixtures.SeedProd())
			newC := oldC.DeepCopy()
			newC.Status = readyStatus()
			if tc.mutate != nil {
				tc.mutate(&newC.Status)
			}
			assertErrors(t, ValidateClusterStatusUpdate(newC, oldC), tc.want)
		})
	}
}

func TestValidateClusterStatusUpdateIgnoresSpec(t *testing.T) {
	oldC := internal(t, fixtures.SeedProd())
	newC := oldC.DeepCopy()
	newC.Spec.Version = "v1.20" // the status strategy resets the spec; status validation must not judge it
	assertErrors(t, ValidateClusterStatusUpdate(newC, oldC), nil)
}
