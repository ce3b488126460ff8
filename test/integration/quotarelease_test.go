package integration

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/pkg/quota"
)

// TestAFailedCreateGivesItsChargeBack: admission charges the quota before
// the write; a create that then fails (its name is taken) gives the charge
// back, so the quota's last unit is still there for the next create. A dry
// run is checked but never charged.
func TestAFailedCreateGivesItsChargeBack(t *testing.T) {
	ns := newTenant(t, "quota-giveback")
	setQuota(t, ns, map[string]string{"count/clusters.apps.hikube.io": "2"})
	cs := hikubeClient(t, "admin").AppsV1alpha1().Clusters(ns)
	ctx := context.Background()

	if _, err := cs.Create(ctx, quotaCluster("a1", 1, "u1.large", 0), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := cs.Create(ctx, quotaCluster("a1", 1, "u1.large", 0), metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
			t.Fatalf("creating a1 again: %v, want AlreadyExists", err)
		}
		if _, err := cs.Create(ctx, quotaCluster("dry", 1, "u1.large", 0), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
			t.Fatalf("dry run: %v", err)
		}
	}
	q, err := hostClient(t).CoreV1().ResourceQuotas(ns).Get(ctx, "limits", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if used := q.Status.Used[quota.ResourceClusters]; used.Value() != 1 {
		t.Errorf("status.used after 1 create, 3 failed creates and 3 dry runs: %s, want 1", used.String())
	}
	if _, err := cs.Create(ctx, quotaCluster("a2", 1, "u1.large", 0), metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating a2, the quota's last unit: %v", err)
	}
}
