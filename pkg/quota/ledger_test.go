package quota

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestLedgerKeepsReservationsUntilTheStoreShowsTheWrite(t *testing.T) {
	now := time.Now()
	later := now.Add(time.Minute)
	l := newLedger()
	nodes := func(n string) corev1.ResourceList {
		return corev1.ResourceList{ResourceNodes: resource.MustParse(n)}
	}
	l.add(reservation{namespace: "a", name: "c", usage: nodes("2"), expires: later})
	l.add(reservation{namespace: "a", name: "c", usage: nodes("5"), expires: later})
	l.add(reservation{namespace: "b", name: "c", usage: nodes("1"), expires: later})
	l.add(reservation{namespace: "a", name: "upd", usage: nodes("7"), fromRV: "10", expires: later})
	l.add(reservation{namespace: "a", name: "failed", usage: nodes("9"), expires: now.Add(-time.Second)})

	got := l.snapshot("a", now)
	if q := got["a/c"][ResourceNodes]; q.Value() != 5 {
		t.Errorf("a/c reserves %s, want the larger 5", q.String())
	}
	if _, ok := got["a/failed"]; ok {
		t.Error("an expired reservation still counts")
	}
	if n := len(l.snapshot("", now)); n != 3 {
		t.Errorf("all namespaces: %d clusters reserved, want 3", n)
	}
	// A list that shows the update not yet applied keeps it.
	l.prune(map[string]string{"a/upd": "10"})
	if _, ok := l.snapshot("a", now)["a/upd"]; !ok {
		t.Error("an update whose write the store does not show yet lost its reservation")
	}
	// An update of a cluster that was deleted meanwhile no longer counts.
	l.add(reservation{namespace: "a", name: "gone", usage: nodes("3"), fromRV: "4", expires: later})
	l.prune(map[string]string{"a/upd": "10"})
	if _, ok := l.snapshot("a", now)["a/gone"]; ok {
		t.Error("the update of a deleted cluster still counts")
	}
	// A create the watch saw land (and even deleted) no longer counts.
	l.add(reservation{namespace: "a", name: "quick", usage: nodes("3"), expires: later})
	l.observed("a", "quick", "")
	if _, ok := l.snapshot("a", now)["a/quick"]; ok {
		t.Error("a create seen by the watch still counts")
	}
	// The writes land: the store shows a/c (created) and a/upd at a new version.
	l.prune(map[string]string{"a/c": "11", "a/upd": "12"})
	if got := l.snapshot("", now); len(got) != 1 || got["b/c"] == nil {
		t.Errorf("after the writes landed, reserved = %v, want only b/c", got)
	}
}
