package controller

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
	"github.com/hikube/hikube/test/benchsamples"
)

// BenchmarkGPUAdmission measures, with 100 and then 10,000 clusters in the
// store (HIKUBE_BENCH_GPU_LARGE), the create latency of a cluster with one
// L40S (quota and GPU-capacity admission charge the shared usage record)
// and of the same cluster without GPU, alternating one and the other, one
// at a time through the aggregator. GPU admission is O(1) in the number of
// clusters when gpu-p50-ms stays flat from 100 to 10,000 (the ratio
// gpu-p50-10k/100 near 1, as the plain creates' ratio).
//
// The points are "at least 100" and "at least 10,000": run alone in its
// process (see the package comment) so that the first point is 100.
func BenchmarkGPUAdmission(b *testing.B) {
	large := envInt("HIKUBE_BENCH_GPU_LARGE", 10000)
	samples := envInt("HIKUBE_BENCH_GPU_SAMPLES", 60)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	cfg := adminConfig(b)
	hikube, err := clientset.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	raiseGPUInventory(ctx, b, kube)
	for _, ns := range []string{"bench-fill", "bench-gpu"} {
		tenantNamespace(ctx, b, cfg, ns)
	}
	all, err := hikube.AppsV1alpha1().Clusters("").List(ctx, metav1.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	existing := len(all.Items)
	type point struct {
		clusters   int
		gpu, plain []time.Duration
	}
	var points []point
	b.ResetTimer()
	b.StopTimer()
	for _, target := range []int{100, large} {
		if existing < target {
			began := time.Now()
			if err := createMany(ctx, hikube, existing, target, func(i int) *v1alpha1.Cluster {
				return smallCluster("bench-fill", fmt.Sprintf("f-%05d", i), false)
			}); err != nil {
				b.Fatal(err)
			}
			b.Logf("filled to %d clusters in %s; load: %s", target, time.Since(began).Round(time.Millisecond), benchsamples.LoadAverage())
			existing = target
		}
		p := point{clusters: existing}
		b.StartTimer()
		for i := range samples {
			for _, gpus := range []bool{true, false} {
				c := smallCluster("bench-gpu", fmt.Sprintf("g%t-%d-%d", gpus, target, i), gpus)
				began := time.Now()
				if err := createRetry(ctx, hikube, c); err != nil {
					b.Fatal(err)
				}
				if gpus {
					p.gpu = append(p.gpu, time.Since(began))
				} else {
					p.plain = append(p.plain, time.Since(began))
				}
			}
		}
		b.StopTimer()
		existing += 2 * samples
		points = append(points, p)
		b.Logf("with %d clusters: GPU create p50 %.2f ms, plain create p50 %.2f ms; load: %s",
			p.clusters, ms(median(p.gpu)), ms(median(p.plain)), benchsamples.LoadAverage())
	}
	lo, hi := points[0], points[len(points)-1]
	b.ReportMetric(ms(median(lo.gpu)), "gpu-p50-ms@100")
	b.ReportMetric(ms(median(hi.gpu)), "gpu-p50-ms@large")
	b.ReportMetric(ms(median(lo.plain)), "plain-p50-ms@100")
	b.ReportMetric(ms(median(hi.plain)), "plain-p50-ms@large")
	b.ReportMetric(ms(median(hi.gpu))/ms(median(lo.gpu)), "gpu-p50-large/100")
	b.ReportMetric(ms(median(hi.plain))/ms(median(lo.plain)), "plain-p50-large/100")
	b.ReportMetric(float64(hi.clusters), "large-clusters")
}

// raiseGPUInventory gives the platform enough L40S that capacity admission
// checks every GPU create and refuses none.
func raiseGPUInventory(ctx context.Context, b *testing.B, kube kubernetes.Interface) {
	b.Helper()
	cms := kube.CoreV1().ConfigMaps("hikube-system")
	cm, err := cms.Get(ctx, "gpu-inventory", metav1.GetOptions{})
	if err != nil {
		b.Fatalf("reading the GPU inventory: %v", err)
	}
	cm.Data["l40s"] = "geneva=1000000,lucerne=1000000,gland=1000000"
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		b.Fatalf("raising the GPU inventory: %v", err)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
