package integration

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
	"github.com/hikube/hikube/pkg/portalloc"
	"github.com/hikube/hikube/pkg/process"
	"github.com/hikube/hikube/pkg/quota"
	"github.com/hikube/hikube/test/harness"
)

// replica is one more hikube-apiserver process, started by the test, that
// stores in the host's etcd under a prefix of the test's: several of them
// with one prefix are the replicas of one deployment. Each is reached
// directly (not through the aggregator, whose APIService points at the
// platform's own server), as the admin, whose client certificate it
// verifies against the host's client CA like kube-apiserver does.
type replica struct {
	proc   *process.Process
	port   int
	config *rest.Config
	hikube clientset.Interface
}

// startReplicas starts n hikube-apiserver processes sharing one etcd prefix
// and waits until each serves; they are stopped when the test ends.
func startReplicas(t *testing.T, n int, extraArgs ...string) []*replica {
	t.Helper()
	prefix := fmt.Sprintf("/hikube-replicas/%s-%d", strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()), time.Now().UnixNano())
	var out []*replica
	for i := range n {
		out = append(out, startReplica(t, prefix, i, extraArgs...))
	}
	for _, r := range out {
		r.waitServing(t)
	}
	return out
}

func startReplica(t *testing.T, prefix string, i int, extraArgs ...string) *replica {
	t.Helper()
	p := env.Platform
	ports := portalloc.New()
	port, err := ports.Pick()
	if err != nil {
		t.Fatal(err)
	}
	ports.Release()
	pkiDir := filepath.Join(p.Home(), "pki")
	kc := p.KubeconfigPath("hikube-apiserver")
	name := fmt.Sprintf("replica-%d-%d", i, port)
	args := append([]string{
		"--secure-port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1",
		"--tls-cert-file=" + filepath.Join(pkiDir, "hikube-apiserver.crt"),
		"--tls-private-key-file=" + filepath.Join(pkiDir, "hikube-apiserver.key"),
		"--kubeconfig=" + kc,
		"--authentication-kubeconfig=" + kc,
		"--authorization-kubeconfig=" + kc,
		"--etcd-servers=http://127.0.0.1:" + strconv.Itoa(p.Ports().EtcdClient),
		"--etcd-prefix=" + prefix,
	}, extraArgs...)
	proc, err := process.Start(process.Options{
		Name:    name,
		Binary:  filepath.Join(env.Root, "_output", "bin", "hikube-apiserver"),
		Args:    args,
		LogPath: filepath.Join(p.Home(), "logs", name+".log"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := process.Stop(15*time.Second, proc); err != nil {
			t.Errorf("stopping %s: %v", name, err)
		}
	})
	cfg := rest.CopyConfig(restConfig(t, "admin"))
	cfg.Host = "https://127.0.0.1:" + strconv.Itoa(port)
	cfg.TLSClientConfig.CAData, cfg.TLSClientConfig.CAFile = nil, filepath.Join(pkiDir, "hikube-ca.crt")
	cfg.QPS, cfg.Burst = 1000, 1000
	cfg.WarningHandler = rest.NoWarnings{}
	cs, err := clientset.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &replica{proc: proc, port: port, config: cfg, hikube: cs}
}

// waitServing waits until the replica answers /readyz with 200 and
// authenticates the admin.
func (r *replica) waitServing(t *testing.T) {
	t.Helper()
	client, err := rest.HTTPClientFor(r.config)
	if err != nil {
		t.Fatal(err)
	}
	last := ""
	err = wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		if r.proc.Exited() {
			return false, fmt.Errorf("exited: %v", r.proc.ExitError())
		}
		resp, err := client.Get(r.config.Host + "/readyz")
		if err != nil {
			last = err.Error()
			return false, nil
		}
		resp.Body.Close()
		last = resp.Status
		if resp.StatusCode != http.StatusOK {
			return false, nil
		}
		// Ready may come before the client CA is loaded from the host (the
		// admin's certificate is then anonymous): wait until a list as the
		// admin is allowed.
		_, err = r.hikube.AppsV1alpha1().Clusters("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			last = err.Error()
		}
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("replica on :%d not serving (last: %s): %v\n%s", r.port, last, err, process.Tail(r.proc.LogPath(), 30))
	}
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
			cs := replicas[i%len(replicas)].hikube.AppsV1alpha1().Clusters(ns)
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
		l, err := r.hikube.AppsV1alpha1().Clusters(ns).List(context.Background(), metav1.ListOptions{})
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
				setQuota(t, ns, map[string]string{"count/clusters.apps.hikube.io": "5"})
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
					err := replicas[i%n].hikube.AppsV1alpha1().Clusters(ns).Delete(context.Background(), fmt.Sprintf("race-%02d", i), metav1.DeleteOptions{})
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

var (
	_ = os.Getpid
	_ = corev1.ResourceQuota{}
	_ = harness.Eventually
)
