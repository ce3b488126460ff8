package quota

import (
	"testing"

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

func TestLedgerCountsTheLargerReservationOfACluster(t *testing.T) {
	l := ledger{entries: map[int64]reservation{}}
	small := l.add(reservation{namespace: "a", name: "c", usage: corev1.ResourceList{usage.ResourceNodes: resource.MustParse("2")}})
	l.add(reservation{namespace: "a", name: "c", usage: corev1.ResourceList{usage.ResourceNodes: resource.MustParse("5")}})
	l.add(reservation{namespace: "b", name: "c", usage: corev1.ResourceList{usage.ResourceNodes: resource.MustParse("1")}})
	if got := l.reserved("a")["a/c"][usage.ResourceNodes]; got.Value() != 5 {
		t.Errorf("a/c reserves %s, want the larger 5", got.String())
	}
	if n := len(l.reserved("")); n != 2 {
		t.Errorf("all namespaces: %d clusters reserved, want 2", n)
	}
	l.release(small)
	if n := len(l.entries); n != 2 {
		t.Errorf("%d entries after a release, want 2", n)
	}
}
