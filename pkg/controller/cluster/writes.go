package cluster

import (
	"context"
	"sync"

	"k8s.io/client-go/tools/cache"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

// writeTracker remembers, per cluster, the resourceVersions that the
// controller's own writes replaced, until the informer shows a newer one.
// A reconcile that starts from such a version would start from a cluster
// the controller knows to be outdated: its status write could only fail
// with a conflict, after the whole reconcile's work. Instead the cluster is
// looked at again when the informer delivers the write (its update event
// requeues the cluster), as a ReplicaSet controller waits for its
// expectations.
type writeTracker struct {
	mu         sync.Mutex
	superseded map[cache.ObjectName]map[string]bool // cluster → replaced resourceVersions
}

func newWriteTracker() *writeTracker {
	return &writeTracker{superseded: map[cache.ObjectName]map[string]bool{}}
}

// wrote records that a write of the cluster, read at resourceVersion
// before, succeeded.
func (t *writeTracker) wrote(cl *v1alpha1.Cluster, before string) {
	if before == "" || cl == nil || cl.ResourceVersion == before {
		return
	}
	key := cache.MetaObjectToName(cl)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.superseded[key] == nil {
		t.superseded[key] = map[string]bool{}
	}
	t.superseded[key][before] = true
}

// stale says whether cl is a version a write of the controller replaced;
// any other version shows the informer has caught up, and the cluster's
// record is dropped.
func (t *writeTracker) stale(cl *v1alpha1.Cluster) bool {
	key := cache.MetaObjectToName(cl)
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.superseded[key]
	if old == nil {
		return false
	}
	if old[cl.ResourceVersion] {
		return true
	}
	delete(t.superseded, key)
	return false
}

// forget drops a deleted cluster's record.
func (t *writeTracker) forget(namespace, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.superseded, cache.NewObjectName(namespace, name))
}

// trackedWriter is a clusterWriter that tells the tracker what it wrote.
type trackedWriter struct {
	clusterWriter
	tracker *writeTracker
}

func (w trackedWriter) setFinalizers(ctx context.Context, cl *v1alpha1.Cluster, finalizers []string) (*v1alpha1.Cluster, error) {
	updated, err := w.clusterWriter.setFinalizers(ctx, cl, finalizers)
	if err == nil {
		w.tracker.wrote(updated, cl.ResourceVersion)
	}
	return updated, err
}

func (w trackedWriter) updateStatus(ctx context.Context, cl *v1alpha1.Cluster) (*v1alpha1.Cluster, error) {
	updated, err := w.clusterWriter.updateStatus(ctx, cl)
	if err == nil {
		w.tracker.wrote(updated, cl.ResourceVersion)
	}
	return updated, err
}
