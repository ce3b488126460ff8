package bench

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// nsCreate holds the clusters BenchmarkCreate creates (a tenant namespace
// without a ResourceQuota, like bench-1k and bench-10k).
const nsCreate = "bench-create"

// createRuns numbers the runs of BenchmarkCreate, so that names never repeat
// (the testing package runs each sub-benchmark once with b.N=1 first).
var createRuns atomic.Int64

var createNSOnce sync.Once

// BenchmarkCreate creates production clusters one after the other from a
// single client: the latency of one create, without concurrency. It reports
// the median and the 99th percentile besides the mean (ns/op).
func BenchmarkCreate(b *testing.B) {
	ctx := ctxFor(b)
	if err := setupBase(ctx); err != nil {
		b.Fatal(err)
	}
	var nsErr error
	createNSOnce.Do(func() { nsErr = tenantNamespace(ctx, nsCreate) })
	if nsErr != nil {
		b.Fatal(nsErr)
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			run := createRuns.Add(1)
			c := env.dyn.Resource(be.gvr).Namespace(nsCreate)
			lat := make([]time.Duration, 0, b.N)
			profiled := profileDuring(b, "create-"+be.name)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				obj := newCluster(be, nsCreate, fmt.Sprintf("c-%d-%05d", run, i), spec)
				start := time.Now()
				if _, err := c.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
					b.Fatalf("create %s: %v", be.name, err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			profiled()
			p50, p99 := percentile(lat, 0.50), percentile(lat, 0.99)
			b.ReportMetric(float64(p50.Microseconds())/1000, "ms-p50")
			b.ReportMetric(float64(p99.Microseconds())/1000, "ms-p99")
			record("create p50 (1 client)", be.name, p50*time.Duration(b.N), b.N)
		})
	}
}

// percentile is the q-quantile of ds (nearest rank); it sorts ds.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := int(q*float64(len(ds))+0.5) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// tenantNamespace creates a tenant namespace of the benchmarks (or finds it).
func tenantNamespace(ctx context.Context, ns string) error {
	_, err := env.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: ns, Labels: map[string]string{"hikube.io/tenant": "bench"},
	}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("namespace %s: %w", ns, err)
	}
	return nil
}
