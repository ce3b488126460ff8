package quota

import (
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// reservationTTL bounds how long an admitted write that never lands (it
// failed after admission) holds its reservation.
const reservationTTL = 30 * time.Second

// ledger holds the usage of writes admitted whose result is not yet in the
// store. The request context cannot tell when the write is committed (the
// admission context ends with the admission call), so a reservation lasts
// until the store shows the write (the cluster exists with a resourceVersion
// other than the one the write started from) or it expires.
type ledger struct {
	mu      sync.Mutex
	next    int64
	entries map[int64]reservation
}

type reservation struct {
	namespace, name string
	usage           corev1.ResourceList
	// fromRV is the resourceVersion the write replaces ("" for a create).
	fromRV  string
	expires time.Time
}

func newLedger() *ledger { return &ledger{entries: map[int64]reservation{}} }

func (l *ledger) add(r reservation) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next++
	l.entries[l.next] = r
	return l.next
}

// observed drops the reservations of a cluster whose write the store has
// shown: an informer saw it at resourceVersion rv, or deleted (rv ""). A
// create that lands and is deleted before any list would otherwise keep its
// reservation until it expires.
func (l *ledger) observed(namespace, name, rv string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, r := range l.entries {
		if r.namespace == namespace && r.name == name && (rv == "" || rv != r.fromRV) {
			delete(l.entries, id)
		}
	}
}

// snapshot returns the unexpired reservations of namespace ("" for all) by
// "namespace/name", the larger when a cluster has several.
func (l *ledger) snapshot(namespace string, now time.Time) map[string]corev1.ResourceList {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]corev1.ResourceList{}
	for id, r := range l.entries {
		if now.After(r.expires) {
			delete(l.entries, id)
			continue
		}
		if namespace == "" || r.namespace == namespace {
			key := r.namespace + "/" + r.name
			out[key] = Max(out[key], r.usage)
		}
	}
	return out
}

// prune drops the reservations whose write a list showed (stored maps
// "namespace/name" to resourceVersion): the cluster is there at another
// resourceVersion than the write started from, or an updated cluster is gone.
func (l *ledger) prune(stored map[string]string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, r := range l.entries {
		rv, ok := stored[r.namespace+"/"+r.name]
		if (ok && rv != r.fromRV) || (!ok && r.fromRV != "") {
			delete(l.entries, id)
		}
	}
}
