package quota

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	hikubefake "github.com/hikube/hikube/pkg/generated/clientset/versioned/fake"
)

// trackerWithInformer is a Tracker over a fake host whose quota lister is an
// indexer the test fills (the informer's view), on a clock the test moves.
func trackerWithInformer(t *testing.T, quotas ...*corev1.ResourceQuota) (*Tracker, *kubefake.Clientset, cache.Indexer, *time.Time) {
	t.Helper()
	objs := make([]runtime.Object, 0, len(quotas))
	for _, q := range quotas {
		objs = append(objs, q)
	}
	host := kubefake.NewClientset(objs...)
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, q := range quotas {
		if err := idx.Add(q); err != nil {
			t.Fatal(err)
		}
	}
	tr := NewTracker(hikubefake.NewClientset(), host, func(context.Context) (Capacity, error) { return Capacity{}, nil })
	tr.SetQuotaLister(corelisters.NewResourceQuotaLister(idx))
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tr.quotaLookups.now = func() time.Time { return now }
	return tr, host, idx, &now
}

func quotaLists(host *kubefake.Clientset) int {
	n := 0
	for _, a := range host.Actions() {
		if a.GetVerb() == "list" && a.GetResource().Resource == "resourcequotas" {
			n++
		}
	}
	return n
}

func oneClusterQuota(ns string) *corev1.ResourceQuota {
	return &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "limits", Namespace: ns},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{ResourceClusters: resource.MustParse("1")}},
	}
}

// TestATenantWithoutQuotaIsLookedUpOncePerTTL: creates and deletes in a
// namespace the informer shows without quota read the quotas live once per
// QuotaLookupTTL, not once per request, and charge nothing.
func TestATenantWithoutQuotaIsLookedUpOncePerTTL(t *testing.T) {
	tr, host, _, now := trackerWithInformer(t)
	ctx := context.Background()
	for _, name := range []string{"one", "two", "three"} {
		if refusals, err := tr.Reserve(ctx, "tenant-a", named(name, cluster(nil)), nil, false); err != nil || len(refusals) != 0 {
			t.Fatalf("%s: %v, %v", name, refusals, err)
		}
	}
	if err := tr.Release(ctx, "tenant-a", ClusterUsage(named("one", cluster(nil)))); err != nil {
		t.Fatal(err)
	}
	if n := quotaLists(host); n != 1 {
		t.Fatalf("%d live quota lists for three creates and a delete, want 1", n)
	}
	*now = now.Add(QuotaLookupTTL)
	if refusals, err := tr.Reserve(ctx, "tenant-a", named("four", cluster(nil)), nil, false); err != nil || len(refusals) != 0 {
		t.Fatalf("four: %v, %v", refusals, err)
	}
	if n := quotaLists(host); n != 2 {
		t.Errorf("%d live quota lists once the TTL has passed, want 2", n)
	}
	for _, a := range host.Actions() {
		if a.GetVerb() == "update" {
			t.Errorf("a tenant without quota was charged: %v", a)
		}
	}
}

// TestAQuotaIsEnforcedOnceTheInformerHasIt: a quota created after a lookup
// found none is enforced as soon as the informer shows it, and checked on a
// live read; until then (the accepted window, docs/quotas.md) it is not.
func TestAQuotaIsEnforcedOnceTheInformerHasIt(t *testing.T) {
	tr, host, idx, _ := trackerWithInformer(t)
	ctx := context.Background()
	if refusals, err := tr.Reserve(ctx, "tenant-a", named("before", cluster(nil)), nil, false); err != nil || len(refusals) != 0 {
		t.Fatalf("before the quota: %v, %v", refusals, err)
	}
	q := oneClusterQuota("tenant-a")
	q.Status.Used = corev1.ResourceList{ResourceClusters: resource.MustParse("1")}
	if _, err := host.CoreV1().ResourceQuotas("tenant-a").Create(ctx, q, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if refusals, err := tr.Reserve(ctx, "tenant-a", named("window", cluster(nil)), nil, true); err != nil || len(refusals) != 0 {
		t.Fatalf("while the informer lags, within the TTL: %v, %v; want admitted (the documented window)", refusals, err)
	}
	// The informer's copy may be older than the quota itself: the check uses
	// the live one (used 1 of 1), not this one (used 0).
	stale := oneClusterQuota("tenant-a")
	if err := idx.Add(stale); err != nil {
		t.Fatal(err)
	}
	refusals, err := tr.Reserve(ctx, "tenant-a", named("after", cluster(nil)), nil, false)
	want := `exceeds quota: clusters requested 1, used 1, limit 1 in tenant-a (ResourceQuota "limits", key count/clusters.apps.hikube.io)`
	if err != nil || len(refusals) != 1 || refusals[0] != want {
		t.Errorf("once the informer has the quota: %q, %v; want %q", refusals, err, want)
	}
}

// TestALookupThatFoundAQuotaChargesIt: when the informer has not synced, a
// quota found by the live lookup is charged like one the informer shows.
func TestALookupThatFoundAQuotaChargesIt(t *testing.T) {
	tr, host, _, _ := trackerWithInformer(t)
	ctx := context.Background()
	if _, err := host.CoreV1().ResourceQuotas("tenant-a").Create(ctx, oneClusterQuota("tenant-a"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if refusals, err := tr.Reserve(ctx, "tenant-a", named("one", cluster(nil)), nil, false); err != nil || len(refusals) != 0 {
		t.Fatalf("first cluster: %v, %v", refusals, err)
	}
	if refusals, err := tr.Reserve(ctx, "tenant-a", named("two", cluster(nil)), nil, false); err != nil || len(refusals) != 1 {
		t.Errorf("second cluster over a quota of 1: %q, %v; want one refusal", refusals, err)
	}
}

// TestConcurrentLookupsShareOneRead: requests for a namespace whose answer
// is missing share one read (those that arrive after it ended take its
// remembered answer); a failed read is not remembered.
func TestConcurrentLookupsShareOneRead(t *testing.T) {
	var reads atomic.Int64
	release := make(chan struct{})
	var fail atomic.Bool
	l := newQuotaLookups(func(context.Context, string) ([]corev1.ResourceQuota, error) {
		if reads.Add(1) == 1 {
			<-release
		}
		if fail.Load() {
			return nil, errors.New("host unavailable")
		}
		return []corev1.ResourceQuota{*oneClusterQuota("tenant-a")}, nil
	}, QuotaLookupTTL)
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if qs, err := l.get(context.Background(), "tenant-a"); err != nil || len(qs) != 1 {
				t.Errorf("a concurrent request got %d quotas, %v", len(qs), err)
			}
		}()
	}
	// Give the requests time to queue behind the first read (the assertion
	// holds whether they do or come after it).
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := reads.Load(); n != 1 {
		t.Fatalf("%d reads for 10 concurrent requests, want 1", n)
	}

	fail.Store(true)
	if _, err := l.get(context.Background(), "tenant-b"); err == nil {
		t.Fatal("a failed read returned no error")
	}
	fail.Store(false)
	if qs, err := l.get(context.Background(), "tenant-b"); err != nil || len(qs) != 1 || reads.Load() != 3 {
		t.Errorf("after a failed read: %d quotas, %v, %d reads; want 1 quota from a new read (3 reads)", len(qs), err, reads.Load())
	}
}
