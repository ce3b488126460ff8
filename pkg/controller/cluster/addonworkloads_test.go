package cluster

import (
	"context"
	"slices"
	"strings"
	"testing"

	rspb "helm.sh/helm/v4/pkg/release/v1"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func TestWorkloadsOfAReleaseAndTheirAvailability(t *testing.T) {
	rel := &rspb.Release{Namespace: "ingress-nginx", Manifest: `---
apiVersion: v1
kind: Service
metadata: {name: ingress-nginx}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingress-nginx, namespace: ingress-nginx}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
`}
	refs := workloadsOf(rel)
	want := []workloadRef{{"Deployment", "ingress-nginx", "ingress-nginx"}, {"DaemonSet", "ingress-nginx", "agent"}}
	if !slices.Equal(refs, want) {
		t.Fatalf("workloads %v, want %v", refs, want)
	}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "ingress-nginx", Namespace: "ingress-nginx", Generation: 2},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)}, Status: appsv1.DeploymentStatus{ObservedGeneration: 2, AvailableReplicas: 1}}
	s := newState(newCluster("u1"))
	s.tenant = &tenantClient{ref: s.ref, kube: kubefake.NewClientset(dep)}
	msg, err := unavailable(context.Background(), s, refs)
	if err != nil || !strings.Contains(msg, "Deployment ingress-nginx/ingress-nginx") || !strings.Contains(msg, "DaemonSet ingress-nginx/agent missing") {
		t.Errorf("unavailable = %q, %v; want the short Deployment and the missing DaemonSet", msg, err)
	}
	dep.Status.AvailableReplicas = 2
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "ingress-nginx"}, Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, NumberAvailable: 3}}
	s.tenant = &tenantClient{ref: s.ref, kube: kubefake.NewClientset(dep, ds)}
	if msg, err := unavailable(context.Background(), s, refs); err != nil || msg != "" {
		t.Errorf("all available: %q, %v", msg, err)
	}
}
