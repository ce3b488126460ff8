package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	hikubev1alpha1 "github.com/hikube/hikube/pkg/generated/clientset/versioned/typed/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/quota"
	"github.com/hikube/hikube/test/harness"
)

type replica = harness.Replica

// startReplicas starts n hikube-apiserver processes sharing one etcd prefix
// (harness.StartReplica) and waits until each serves; they are stopped when
// the test ends.
func startReplicas(t *testing.T, n int, extraArgs ...string) []*replica {
	t.Helper()
	prefix := fmt.Sprintf("/hikube-replicas/%s-%d", strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()), time.Now().UnixNano())
	bin := filepath.Join(env.Root, "_output", "bin")
	var out []*replica
	for i := range n {
		r, err := harness.StartReplica(env.Platform, bin, prefix, fmt.Sprintf("replica-%d-%d", i, time.Now().UnixNano()), extraArgs...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := r.Stop(15 * time.Second); err != nil {
				t.Errorf("stopping replica %d: %v", i, err)
			}
		})
		out = append(out, r)
	}
	for _, r := range out {
		if err := r.WaitServing(context.Background(), 90*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// race creates n clusters at once, the i-th through replicas[i % len], and
// returns how many were created and how many refused with refusal.
func race(t *testing.T, replicas []*replica, ns string, n int, cluster func(name string) *v1alpha1.Cluster, refusal string) (created, refused int) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var other []error
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs := replicas[i%len(replicas)].Hikube.AppsV1alpha1().Clusters(ns)
			<-start
			_, err := cs.Create(context.Background(), cluster(fmt.Sprintf("race-%02d", i)), metav1.CreateOptions{})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case apierrors.IsForbidden(err) && strings.Contains(err.Error(), refusal):
				refused++
			default:
				other = append(other, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(other) > 0 {
		t.Fatalf("unexpected errors: %v", other)
	}
	return created, refused
}

// stored lists the clusters of ns through each replica: every one sees the
// same store.
func stored(t *testing.T, replicas []*replica, ns string) int {
	t.Helper()
	n := -1
	for i, r := range replicas {
		l, err := r.Hikube.AppsV1alpha1().Clusters(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatalf("listing through replica %d: %v", i, err)
		}
		if n >= 0 && len(l.Items) != n {
			t.Fatalf("replica %d lists %d clusters, replica 0 %d", i, len(l.Items), n)
		}
		n = len(l.Items)
	}
	return n
}

const raceRuns = 20

// TestReplicasShareTheQuota: with two and with three hikube-apiserver
// processes on one etcd, 50 creates racing over them for a quota of 5
// clusters store exactly 5 and refuse 45, in every one of 20 runs; the
// quota's status.used, the record they all charge, says 5.
func TestReplicasShareTheQuota(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d replicas", n), func(t *testing.T) {
			replicas := startReplicas(t, n)
			for run := range raceRuns {
				ns := newTenant(t, fmt.Sprintf("replicas-%d-quota-%02d", n, run))
				if setQuotaOnly(t, ns, map[string]string{"count/clusters.apps.hikube.io": "5"}) {
					var servers []hikubev1alpha1.ClusterInterface
					for _, r := range replicas {
						servers = append(servers, r.Hikube.AppsV1alpha1().Clusters(ns))
					}
					waitQuotaEnforced(t, ns, servers...)
				}
				created, refused := race(t, replicas, ns, 50, func(name string) *v1alpha1.Cluster {
					return quotaCluster(name, 1, "u1.large", 0)
				}, "exceeds quota: clusters")
				if s := stored(t, replicas, ns); created != 5 || refused != 45 || s != 5 {
					t.Fatalf("run %d: created %d, refused %d, stored %d; want 5, 45, 5", run, created, refused, s)
				}
				q, err := hostClient(t).CoreV1().ResourceQuotas(ns).Get(context.Background(), "limits", metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if used := q.Status.Used[quota.ResourceClusters]; used.Value() != 5 {
					t.Fatalf("run %d: status.used %s, want 5", run, used.String())
				}
			}
		})
	}
}

// TestReplicasShareTheGPUCapacity: the same race for GPU capacity, which is
// platform-wide: with the H100 capacity set to what is reserved plus 5, 50
// creates of one-H100 clusters racing over two and three replicas store
// exactly 5, in every one of 20 runs; deleting them frees the 5 again.
func TestReplicasShareTheGPUCapacity(t *testing.T) {
	setH100Inventory(t, "geneva=0,lucerne=0,gland=0")
	cms := hostClient(t).CoreV1().ConfigMaps("hikube-system")
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d replicas", n), func(t *testing.T) {
			replicas := startReplicas(t, n)
			ns := newTenant(t, fmt.Sprintf("replicas-%d-gpu", n))
			for run := range raceRuns {
				reserved := int64(0)
				if cm, err := cms.Get(context.Background(), quota.GPUUsageName, metav1.GetOptions{}); err == nil {
					reserved = quota.GPUUsageFigures(cm.Data)["h100"]
				} else if !apierrors.IsNotFound(err) {
					t.Fatal(err)
				}
				setInventoryLine(t, "h100", fmt.Sprintf("geneva=%d,lucerne=0,gland=0", reserved+5))
				created, refused := race(t, replicas, ns, 50, func(name string) *v1alpha1.Cluster {
					return h100Cluster(name, 1, 1)
				}, "exceeds GPU capacity: nvidia.com/H100 requested 1, free 0 of")
				if s := stored(t, replicas, ns); created != 5 || refused != 45 || s != 5 {
					t.Fatalf("run %d: created %d, refused %d, stored %d; want 5, 45, 5", run, created, refused, s)
				}
				for i := range 50 {
					err := replicas[i%n].Hikube.AppsV1alpha1().Clusters(ns).Delete(context.Background(), fmt.Sprintf("race-%02d", i), metav1.DeleteOptions{})
					if err != nil && !apierrors.IsNotFound(err) {
						t.Fatal(err)
					}
				}
				cm, err := cms.Get(context.Background(), quota.GPUUsageName, metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if after := quota.GPUUsageFigures(cm.Data)["h100"]; after != reserved {
					t.Fatalf("run %d: %d H100 reserved after deleting the race's clusters, want %d as before", run, after, reserved)
				}
			}
		})
	}
}

// setInventoryLine sets one model's line of the GPU inventory (the test's
// setH100Inventory restores the seeded one at the end).
func setInventoryLine(t *testing.T, model, value string) {
	t.Helper()
	cms := hostClient(t).CoreV1().ConfigMaps("hikube-system")
	cm, err := cms.Get(context.Background(), "gpu-inventory", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data[model] = value
	if _, err := cms.Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("setting the GPU inventory: %v", err)
	}
}
