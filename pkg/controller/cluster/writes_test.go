package cluster

import (
	"context"
	"strconv"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

// versioningWriter is a clusterWriter whose every write gives the cluster
// the next resourceVersion, as the API does.
type versioningWriter struct{ rv int }

func (w *versioningWriter) next(cl *v1alpha1.Cluster) *v1alpha1.Cluster {
	w.rv++
	out := cl.DeepCopy()
	out.ResourceVersion = strconv.Itoa(w.rv)
	return out
}

func (w *versioningWriter) setFinalizers(_ context.Context, cl *v1alpha1.Cluster, f []string) (*v1alpha1.Cluster, error) {
	out := w.next(cl)
	out.Finalizers = f
	return out, nil
}

func (w *versioningWriter) updateStatus(_ context.Context, cl *v1alpha1.Cluster) (*v1alpha1.Cluster, error) {
	return w.next(cl), nil
}

func atVersion(rv string) *v1alpha1.Cluster {
	return &v1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-a", Name: "web", ResourceVersion: rv}}
}

// TestWriteTrackerKnowsWhatTheControllerReplaced: the versions the
// controller's own writes replaced are stale until the informer shows
// another; a cluster never written, or read without a version, never is.
func TestWriteTrackerKnowsWhatTheControllerReplaced(t *testing.T) {
	tr := newWriteTracker()
	w := trackedWriter{clusterWriter: &versioningWriter{rv: 10}, tracker: tr}
	ctx := context.Background()
	if tr.stale(atVersion("10")) {
		t.Fatal("a cluster the controller never wrote is stale")
	}
	// One reconcile: the finalizer (10 → 11), then the status (11 → 12).
	withFinalizer, err := w.setFinalizers(ctx, atVersion("10"), []string{Finalizer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.updateStatus(ctx, withFinalizer); err != nil {
		t.Fatal(err)
	}
	for _, rv := range []string{"10", "11"} {
		if !tr.stale(atVersion(rv)) {
			t.Errorf("version %s, replaced by the controller's writes, is not stale", rv)
		}
	}
	if tr.stale(atVersion("12")) {
		t.Error("the version the controller wrote is stale")
	}
	// The informer has caught up: what came before is history.
	if tr.stale(atVersion("11")) {
		t.Error("stale after the informer showed the controller's write")
	}
	// Without a version read (a fake API) nothing is tracked.
	if _, err := w.updateStatus(ctx, atVersion("")); err != nil {
		t.Fatal(err)
	}
	if tr.stale(atVersion("")) {
		t.Error("an unversioned read is stale")
	}
	tr.wrote(atVersion("21"), "20")
	tr.forget("tenant-a", "web")
	if tr.stale(atVersion("20")) {
		t.Error("stale after the cluster was forgotten")
	}
}

// TestAReconcileOfAnOutdatedCopyWaitsForTheInformer: given the version its
// last write replaced, a reconcile writes nothing and asks to look again
// soon; given the newer version, it reconciles.
func TestAReconcileOfAnOutdatedCopyWaitsForTheInformer(t *testing.T) {
	h := newHarness(t)
	cl := newCluster("uid-1")
	cl.ResourceVersion = "4"
	h.create(cl)
	h.r.writes.wrote(atVersion("5"), "4")

	before := len(h.hikube.Actions())
	requeue, err := h.r.reconcile(context.Background(), cl.DeepCopy())
	if err != nil {
		t.Fatal(err)
	}
	if requeue != testOptions.ResyncProgressing {
		t.Errorf("requeue after %s, want %s", requeue, testOptions.ResyncProgressing)
	}
	if n := len(h.hikube.Actions()) - before; n != 0 {
		t.Fatalf("a reconcile of an outdated copy made %d requests: %v", n, h.hikube.Actions()[before:])
	}

	current := cl.DeepCopy()
	current.ResourceVersion = "5"
	if _, err := h.r.reconcile(context.Background(), current); err != nil {
		t.Fatal(err)
	}
	if len(h.hikube.Actions()) == before {
		t.Fatal("a reconcile of the current version did nothing")
	}
}
