package quota

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	usage "github.com/hikube/hikube/pkg/quota"
)

func TestStatusWritesOnlyHikubeKeys(t *testing.T) {
	q := &corev1.ResourceQuota{
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			usage.ResourceNodes: resource.MustParse("10"),
			corev1.ResourcePods: resource.MustParse("5"),
		}},
		Status: corev1.ResourceQuotaStatus{Used: corev1.ResourceList{
			corev1.ResourcePods: resource.MustParse("3"), // the host's, kept
			usage.ResourceCPU:   resource.MustParse("8"), // no longer limited, dropped
		}},
	}
	out, changed := withStatus(q, corev1.ResourceList{usage.ResourceNodes: resource.MustParse("4")})
	if !changed {
		t.Fatal("status unchanged")
	}
	nodes, pods := out.Status.Used[usage.ResourceNodes], out.Status.Used[corev1.ResourcePods]
	if nodes.Value() != 4 || pods.Value() != 3 || len(out.Status.Used) != 2 {
		t.Errorf("used = %v, want nodes 4 and the host's pods 3", out.Status.Used)
	}
	if _, ok := out.Status.Hard[corev1.ResourcePods]; ok {
		t.Error("wrote status.hard of a key the host owns")
	}
	if _, changed := withStatus(out, corev1.ResourceList{usage.ResourceNodes: resource.MustParse("4")}); changed {
		t.Error("an up-to-date status reports a change")
	}
}

func TestLedgerKeepsReservationsUntilTheStoreShowsTheWrite(t *testing.T) {
	now := time.Now()
	later := now.Add(time.Minute)
	l := ledger{entries: map[int64]reservation{}}
	nodes := func(n string) corev1.ResourceList {
		return corev1.ResourceList{usage.ResourceNodes: resource.MustParse(n)}
	}
	l.add(reservation{namespace: "a", name: "c", usage: nodes("2"), expires: later})
	l.add(reservation{namespace: "a", name: "c", usage: nodes("5"), expires: later})
	l.add(reservation{namespace: "b", name: "c", usage: nodes("1"), expires: later})
	l.add(reservation{namespace: "a", name: "upd", usage: nodes("7"), fromRV: "10", expires: later})
	l.add(reservation{namespace: "a", name: "failed", usage: nodes("9"), expires: now.Add(-time.Second)})

	got := l.snapshot("a", now)
	if q := got["a/c"][usage.ResourceNodes]; q.Value() != 5 {
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
