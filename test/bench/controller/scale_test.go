package controller

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/controller/cluster"
	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
	hikubescheme "github.com/hikube/hikube/pkg/generated/clientset/versioned/scheme"
	informers "github.com/hikube/hikube/pkg/generated/informers/externalversions"
	"github.com/hikube/hikube/pkg/platform"
	"github.com/hikube/hikube/pkg/provider/providertest"
	"github.com/hikube/hikube/pkg/tenantrbac"
	"github.com/hikube/hikube/test/benchsamples"
)

const scaleNS = "bench-scale"

// envInt reads a positive integer from the environment, def without one.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkControllerScale creates HIKUBE_BENCH_CLUSTERS clusters (1,000)
// with the controller stopped, then starts it in this process with the
// in-memory provider and measures
//
//   - converge-s, reconciles/s: from the start to every cluster Ready, and
//     the reconciles done meanwhile per second (the controller's throughput,
//     the host client's rate limit of 50 QPS, burst 100 included, as in
//     cmd/hikube-controller);
//   - p50/p99 of hikube_controller_reconcile_duration_seconds while
//     converging and at steady state (the upper bound of the histogram's
//     bucket: 1, 2, 4, … ms);
//   - steady-cpu-%: the process's CPU time (user + system) over
//     HIKUBE_BENCH_STEADY seconds (60) with every cluster Ready and nothing
//     happening (the window opens once the events of converging have all
//     reached the API), as a share of one core; it includes the in-memory
//     tenant API's and the test's own share, so it over-states the
//     controller's;
//   - heap-MB, heap-KB/cluster, rss-MB at steady state (after a GC): the
//     heap grown since before the controller started, per cluster.
func BenchmarkControllerScale(b *testing.B) {
	n := envInt("HIKUBE_BENCH_CLUSTERS", 1000)
	steady := time.Duration(envInt("HIKUBE_BENCH_STEADY", 60)) * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	cfg := adminConfig(b)
	setup, err := clientset.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	tenantNamespace(ctx, b, cfg, scaleNS)
	began := time.Now()
	if err := createMany(ctx, setup, 0, n, func(i int) *v1alpha1.Cluster {
		return smallCluster(scaleNS, fmt.Sprintf("c-%04d", i), false)
	}); err != nil {
		b.Fatal(err)
	}
	b.Logf("created %d clusters in %s (%.0f/s); load: %s", n, time.Since(began).Round(time.Millisecond), float64(n)/time.Since(began).Seconds(), benchsamples.LoadAverage())

	heapBefore := heapInUse()
	b.ResetTimer()
	reg := prometheus.NewRegistry()
	lister, stop := startController(ctx, b, reg)
	defer stop()
	start := time.Now()
	startHist := histogram(b, reg)
	for {
		ready := readyCount(b, lister)
		if ready == n {
			break
		}
		if time.Since(start) > 15*time.Minute {
			b.Fatalf("%d of %d clusters Ready after 15m", ready, n)
		}
		time.Sleep(250 * time.Millisecond)
	}
	converge := time.Since(start)
	convHist := histogram(b, reg).minus(startHist)
	b.StopTimer()
	b.Logf("all %d clusters Ready in %s, %d reconciles; load: %s", n, converge.Round(time.Millisecond), convHist.count, benchsamples.LoadAverage())

	// Steady state: let the last requeues of converging clusters pass and
	// the events of converging reach the API (they leave through their own
	// client at 50 QPS, so thousands of them outlast a fast convergence),
	// then measure a window in which nothing changes.
	time.Sleep(5 * time.Second)
	drained := waitEventsSettled(ctx, b, cfg, scaleNS)
	b.Logf("events of converging settled %s after all were Ready", drained.Round(time.Second))
	runtime.GC()
	h0, cpu0, t0 := histogram(b, reg), cpuTime(), time.Now()
	time.Sleep(steady)
	h1, cpu1, t1 := histogram(b, reg), cpuTime(), time.Now()
	steadyHist := h1.minus(h0)
	cpuShare := float64(cpu1-cpu0) / float64(t1.Sub(t0)) * 100
	runtime.GC()
	heap := heapInUse()
	b.Logf("steady state over %s: %d reconciles, CPU %.2f%% of a core, heap %.1f MB (+%.1f MB since before the controller), RSS %.0f MB; load: %s",
		t1.Sub(t0).Round(time.Millisecond), steadyHist.count, cpuShare, mb(heap), mb(heap-heapBefore), rssMB(), benchsamples.LoadAverage())
	if ready := readyCount(b, lister); ready != n {
		b.Errorf("%d of %d clusters Ready at the end of the steady state", ready, n)
	}

	b.ReportMetric(converge.Seconds(), "converge-s")
	b.ReportMetric(float64(convHist.count)/converge.Seconds(), "reconciles/s")
	b.ReportMetric(float64(n)/converge.Seconds(), "clusters-ready/s")
	b.ReportMetric(convHist.quantile(0.5)*1000, "converge-p50-ms")
	b.ReportMetric(convHist.quantile(0.99)*1000, "converge-p99-ms")
	b.ReportMetric(steadyHist.quantile(0.5)*1000, "steady-p50-ms")
	b.ReportMetric(steadyHist.quantile(0.99)*1000, "steady-p99-ms")
	b.ReportMetric(float64(steadyHist.count)/t1.Sub(t0).Seconds(), "steady-reconciles/s")
	b.ReportMetric(cpuShare, "steady-cpu-%")
	b.ReportMetric(mb(heap), "heap-MB")
	b.ReportMetric(float64(heap-heapBefore)/1024/float64(n), "heap-KB/cluster")
	b.ReportMetric(rssMB(), "rss-MB")
}

// startController runs the cluster controller as cmd/hikube-controller
// wires it (its defaults, events to the host through a client of their own,
// host clients limited to 50 QPS), with the in-memory provider and one in-memory tenant API.
func startController(ctx context.Context, b *testing.B, reg prometheus.Registerer) (func() []*v1alpha1.Cluster, func()) {
	b.Helper()
	cfg := adminConfig(b)
	cfg.QPS, cfg.Burst = 50, 100
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	hikube, err := clientset.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	scheme := k8sruntime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(hikubescheme.AddToScheme(scheme))
	ctx, cancel := context.WithCancel(ctx)
	events, err := kubernetes.NewForConfig(cfg) // a client of their own, as in the command
	if err != nil {
		b.Fatal(err)
	}
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: events.CoreV1().Events("")})
	recorder := broadcaster.NewRecorder(scheme, corev1.EventSource{Component: platform.ControllerName})

	// Every tenant's API is this one fake, holding what a tenant
	// kube-controller-manager would have aggregated.
	tenant := kubefake.NewClientset(&rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: tenantrbac.SourceViewRole},
		Rules:      []rbacv1.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}},
	})
	opts := cluster.DefaultOptions()
	// HIKUBE_BENCH_RESYNC (a duration, e.g. 1s as before the tenant
	// informers) overrides the Ready resync, to compare.
	if d, err := time.ParseDuration(os.Getenv("HIKUBE_BENCH_RESYNC")); err == nil && d > 0 {
		opts.ResyncReady = d
	}
	b.Logf("Ready resync %s", opts.ResyncReady)
	opts.NewTenantClient = func(*rest.Config) (kubernetes.Interface, error) { return tenant, nil }
	factory := informers.NewSharedInformerFactory(hikube, 10*time.Minute)
	ctrl, err := cluster.New(hikube, kube, factory.Apps().V1alpha1().Clusters(), &providertest.Provider{DiscardCalls: true}, recorder, opts)
	if err != nil {
		b.Fatal(err)
	}
	cluster.Register(reg)
	lister := factory.Apps().V1alpha1().Clusters().Lister()
	factory.Start(ctx.Done())
	done := make(chan error, 1)
	go func() { done <- ctrl.Run(ctx, 4) }()
	return func() []*v1alpha1.Cluster {
			all, err := lister.Clusters(scaleNS).List(labels.Everything())
			if err != nil {
				b.Fatal(err)
			}
			return all
		}, func() {
			cancel()
			if err := <-done; err != nil {
				b.Error(err)
			}
			factory.Shutdown()
			broadcaster.Shutdown()
		}
}

func readyCount(b *testing.B, list func() []*v1alpha1.Cluster) int {
	n := 0
	for _, c := range list() {
		if c.Status.Phase == v1alpha1.ClusterReady {
			n++
		}
	}
	return n
}

// hist is a snapshot of the reconcile-duration histogram.
type hist struct {
	count   uint64
	bounds  []float64 // upper bounds, seconds
	buckets []uint64  // cumulative counts
}

func histogram(b *testing.B, g prometheus.Gatherer) hist {
	b.Helper()
	mfs, err := g.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "hikube_controller_reconcile_duration_seconds" || mf.GetType() != dto.MetricType_HISTOGRAM {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		out := hist{count: h.GetSampleCount()}
		for _, bk := range h.GetBucket() {
			out.bounds = append(out.bounds, bk.GetUpperBound())
			out.buckets = append(out.buckets, bk.GetCumulativeCount())
		}
		return out
	}
	b.Fatal("no reconcile duration histogram")
	return hist{}
}

func (h hist) minus(o hist) hist {
	out := hist{count: h.count - o.count, bounds: h.bounds, buckets: make([]uint64, len(h.buckets))}
	for i := range h.buckets {
		out.buckets[i] = h.buckets[i]
		if i < len(o.buckets) {
			out.buckets[i] -= o.buckets[i]
		}
	}
	return out
}

// quantile is the upper bound (seconds) of the bucket holding the q
// quantile; +Inf past the last bucket, 0 without samples.
func (h hist) quantile(q float64) float64 {
	if h.count == 0 {
		return 0
	}
	rank := uint64(q * float64(h.count))
	i := sort.Search(len(h.buckets), func(i int) bool { return h.buckets[i] >= rank })
	if i == len(h.buckets) {
		return h.bounds[len(h.bounds)-1] * 2
	}
	return h.bounds[i]
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func mb(n uint64) float64 { return float64(n) / (1 << 20) }

// rssMB is the process's resident set (VmRSS), 0 when unknown.
func rssMB() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// waitEventsSettled waits until the number of Events in ns has not changed
// for three seconds (one-item lists: the count is the server's
// remainingItemCount) and says how long it has waited.
func waitEventsSettled(ctx context.Context, b *testing.B, cfg *rest.Config, ns string) time.Duration {
	b.Helper()
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	count := func() int64 {
		l, err := kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{Limit: 1})
		if err != nil {
			b.Fatalf("counting events: %v", err)
		}
		// Without the count a continued list would look settled at once.
		if l.Continue != "" && l.RemainingItemCount == nil {
			b.Fatal("counting events: the server gave no remainingItemCount")
		}
		return int64(len(l.Items)) + ptr.Deref(l.RemainingItemCount, 0)
	}
	began, last, same := time.Now(), count(), 0
	for same < 3 {
		if time.Since(began) > 10*time.Minute {
			b.Fatalf("events in %s still growing after 10 minutes (%d)", ns, last)
		}
		time.Sleep(time.Second)
		if c := count(); c == last {
			same++
		} else {
			last, same = c, 0
		}
	}
	return time.Since(began) - 3*time.Second
}
