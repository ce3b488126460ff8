package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/test/harness"
)

// quotaRuns numbers the namespaces of BenchmarkCreateUnderQuota, one per run
// (the testing package runs a benchmark once with b.N=1 before the real run).
var quotaRuns atomic.Int64

// BenchmarkCreateUnderQuota measures the create throughput of clusters that
// quota admission and GPU-capacity admission must check and charge: a tenant
// with a ResourceQuota on every hikube key, `workers` concurrent creates
// through the aggregator. "quota" clusters have no GPU; "quota+gpu" ones take
// one L40S each, against an inventory raised so that capacity never refuses.
// The figure is creates/s (higher is better), reported as a custom metric.
func BenchmarkCreateUnderQuota(b *testing.B) {
	ctx := ctxFor(b)
	if err := raiseGPUInventory(ctx); err != nil {
		b.Fatal(err)
	}
	for _, variant := range []struct {
		name string
		gpus bool
	}{{"quota", false}, {"quota+gpu", true}} {
		b.Run(variant.name, func(b *testing.B) {
			ns := fmt.Sprintf("bench-quota-%d", quotaRuns.Add(1))
			if err := quotaTenant(ctx, ns); err != nil {
				b.Fatal(err)
			}
			spec := quotaBenchSpec(variant.gpus)
			create := func(i int) error {
				_, err := createRetry(ctx, backends[0], newCluster(backends[0], ns, fmt.Sprintf("q-%05d", i), spec))
				return err
			}
			createConcurrently(b, create)
		})
	}
	// The same creates straight to hikube-apiserver processes that share one
	// etcd prefix and one quota: one of them, then two, the clients spread
	// over them. The difference to "1 replica" is what the replicas' conflicts
	// on the shared quota cost (and what a second process on the same 2
	// cores takes).
	bin := filepath.Join(env.root, "_output", "bin")
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("quota-direct-%d-replicas", n), func(b *testing.B) {
			run := quotaRuns.Add(1)
			ns := fmt.Sprintf("bench-quota-%d", run)
			if err := quotaTenant(ctx, ns); err != nil {
				b.Fatal(err)
			}
			var replicas []*harness.Replica
			for i := range n {
				name := fmt.Sprintf("bench-quota-replica-%d-%d", run, i)
				r, err := harness.StartReplica(env.platform, bin, fmt.Sprintf("/hikube-bench-quota/%d", run), name)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = r.Stop(15 * time.Second) })
				replicas = append(replicas, r)
			}
			for _, r := range replicas {
				if err := r.WaitServing(ctx, 90*time.Second); err != nil {
					b.Fatal(err)
				}
			}
			spec := quotaBenchSpec(false)
			create := func(i int) error {
				c := &v1alpha1.Cluster{}
				obj := newCluster(backends[0], ns, fmt.Sprintf("q-%05d", i), spec)
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, c); err != nil {
					return err
				}
				_, err := replicas[i%n].Hikube.AppsV1alpha1().Clusters(ns).Create(ctx, c, metav1.CreateOptions{})
				return err
			}
			createConcurrently(b, create)
		})
	}
}

// createConcurrently runs create(0..b.N-1) with `workers` clients, timed,
// and reports creates/s.
func createConcurrently(b *testing.B, create func(i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	b.ResetTimer()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if err := create(i); err != nil {
					errs <- err
					next.Store(int64(b.N))
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
}

// quotaTenant creates a tenant namespace with a quota on every hikube key,
// high enough never to refuse.
func quotaTenant(ctx context.Context, ns string) error {
	_, err := env.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: ns, Labels: map[string]string{"hikube.io/tenant": "bench"},
	}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("namespace %s: %w", ns, err)
	}
	hard := corev1.ResourceList{}
	for k, v := range map[string]string{
		"count/clusters.apps.hikube.io": "1000000", "hikube.io/nodes": "100000000", "hikube.io/cpu": "1000000000",
		"hikube.io/memory": "1000Ti", "hikube.io/gpus.l40s": "100000000", "hikube.io/control-plane-replicas": "10000000",
	} {
		hard[corev1.ResourceName(k)] = resource.MustParse(v)
	}
	_, err = env.kube.CoreV1().ResourceQuotas(ns).Create(ctx, &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "limits"}, Spec: corev1.ResourceQuotaSpec{Hard: hard},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("quota of %s: %w", ns, err)
	}
	return nil
}

// raiseGPUInventory gives the platform enough L40S that capacity admission
// checks every GPU create and refuses none.
func raiseGPUInventory(ctx context.Context) error {
	cms := env.kube.CoreV1().ConfigMaps("hikube-system")
	cm, err := cms.Get(ctx, "gpu-inventory", metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading the GPU inventory: %w", err)
	}
	cm.Data["l40s"] = "geneva=1000000,lucerne=1000000,gland=1000000"
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("raising the GPU inventory: %w", err)
	}
	return nil
}

// quotaBenchSpec is one small node group, with one L40S per node when gpus.
func quotaBenchSpec(gpus bool) map[string]any {
	group := map[string]any{"minReplicas": int64(1), "maxReplicas": int64(1), "instanceType": "u1.large"}
	if gpus {
		group["instanceType"] = "u1.4xlarge"
		group["gpus"] = []any{map[string]any{"name": "nvidia.com/L40S"}}
	}
	return runtime.DeepCopyJSONValue(map[string]any{
		"version":      "v1.36",
		"controlPlane": map[string]any{"replicas": int64(1)},
		"nodeGroups":   map[string]any{"workers": group},
	}).(map[string]any)
}
