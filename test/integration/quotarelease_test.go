package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

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

// TestQuotaStatusCorrectsDrift: a figure left too high (a replica died between
// its charge and its write) is lowered to the store's usage once the quota has
// gone the grace without a charge; one too low is raised at once.
func TestQuotaStatusCorrectsDrift(t *testing.T) {
	runQuotaStatusWithGrace(t, 2*time.Second)
	ns := newTenant(t, "quota-drift")
	setQuota(t, ns, map[string]string{"count/clusters.apps.hikube.io": "5"})
	cs := hikubeClient(t, "admin").AppsV1alpha1().Clusters(ns)
	ctx := context.Background()
	for _, n := range []string{"a1", "a2"} {
		if _, err := cs.Create(ctx, quotaCluster(n, 1, "u1.large", 0), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	rqs := hostClient(t).CoreV1().ResourceQuotas(ns)
	setUsed := func(v int64) {
		t.Helper()
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			q, err := rqs.Get(ctx, "limits", metav1.GetOptions{})
			if err != nil {
				return err
			}
			q.Status.Used[quota.ResourceClusters] = *resource.NewQuantity(v, resource.DecimalSI)
			_, err = rqs.UpdateStatus(ctx, q, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	used := func() int64 {
		q, err := rqs.Get(ctx, "limits", metav1.GetOptions{})
		if err != nil {
			return -1
		}
		u := q.Status.Used[quota.ResourceClusters]
		return u.Value()
	}
	for _, leaked := range []int64{5, 0} {
		setUsed(leaked)
		eventually(t, 30*time.Second, fmt.Sprintf("status.used back from %d to the 2 clusters stored", leaked), func() bool { return used() == 2 })
	}
	if _, err := cs.Create(ctx, quotaCluster("a3", 1, "u1.large", 0), metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating after the correction: %v", err)
	}
}
