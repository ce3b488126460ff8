package provisioning

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/yaml"

	"github.com/hikube/hikube/test/benchsamples"
	"github.com/hikube/hikube/test/harness"
)

// memoryClusters is how many small clusters BenchmarkTenantMemory runs at
// once (HIKUBE_BENCH_CLUSTERS overrides it): the goal is 50 on a 24 GiB
// machine, so 20 at once must fit with room to spare.
func memoryClusters() int {
	if n, err := strconv.Atoi(os.Getenv("HIKUBE_BENCH_CLUSTERS")); err == nil && n > 0 {
		return n
	}
	return 20
}

// BenchmarkTenantMemory creates memoryClusters() small clusters at once,
// waits until every one is Ready, lets them settle, and reports the memory
// of each cluster's processes (as the local provider records them: etcd,
// kube-apiserver, controller manager, scheduler, simulated nodes):
//
//	MB-pss/cluster: proportional set size, shared pages (the binaries'
//	                text) split among the processes sharing them — what a
//	                cluster costs the machine;
//	MB-rss/cluster: resident set size, shared pages counted in full;
//	MB-pss-<proc>:  the mean of one kind of process;
//	idle-cpu-%/cluster: the CPU of a cluster's processes over 30 s once
//	                all are Ready and settled, in percent of one core
//	                (and idle-cpu-%-<proc> per kind of process).
//
// Run it alone, once: -bench TenantMemory -benchtime 1x.
func BenchmarkTenantMemory(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	_, dyn := hostClients(b)
	var tmpl unstructured.Unstructured
	if err := yaml.Unmarshal([]byte(smallCluster), &tmpl.Object); err != nil {
		b.Fatal(err)
	}
	n := memoryClusters()
	b.ResetTimer()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		w, err := watchClusters(ctx, dyn, tenantA)
		if err != nil {
			b.Fatalf("watch: %v", err)
		}
		names := map[string]bool{}
		for j := 0; j < n; j++ {
			obj := tmpl.DeepCopy()
			name := fmt.Sprintf("mem-%d", clusterSeq.Add(1))
			obj.SetName(name)
			if _, err := dyn.Resource(clustersGVR).Namespace(tenantA).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
				b.Fatalf("create %s: %v", name, err)
			}
			names[name] = true
		}
		if err := allReady(ctx, w, names, 10*time.Minute); err != nil {
			b.Fatal(err)
		}
		// What a running cluster costs, not its start-up peak: the
		// processes' caches and the kube-apiserver's watch caches fill in
		// the first seconds after Ready.
		time.Sleep(15 * time.Second)
		pss, rss, perProc := clusterMemory(b, names)
		b.ReportMetric(mean(pss), "MB-pss/cluster")
		b.ReportMetric(maxOf(pss), "max-MB-pss/cluster")
		b.ReportMetric(mean(rss), "MB-rss/cluster")
		procs := make([]string, 0, len(perProc))
		for p := range perProc {
			procs = append(procs, p)
		}
		sort.Strings(procs)
		for _, p := range procs {
			b.ReportMetric(mean(perProc[p]), "MB-pss-"+p)
		}
		b.Logf("%d clusters Ready at once; PSS per cluster (MB): %v; load %s", n, rounded(pss), benchsamples.LoadAverage())

		// What the idle clusters cost in CPU (their leases, probes,
		// controllers' resyncs), over a fixed window: on a machine that
		// packs tenants, this and not memory may be what runs out first.
		perCluster, perKind := idleCPU(b, names, idleWindow)
		b.ReportMetric(mean(perCluster), "idle-cpu-%/cluster")
		b.ReportMetric(maxOf(perCluster), "max-idle-cpu-%/cluster")
		for _, p := range procs {
			b.ReportMetric(mean(perKind[p]), "idle-cpu-%-"+p)
		}
		b.Logf("idle CPU per cluster over %s (%% of a core): %v; load %s", idleWindow, rounded(perCluster), benchsamples.LoadAverage())

		for name := range names {
			if err := dyn.Resource(clustersGVR).Namespace(tenantA).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
				b.Fatalf("delete %s: %v", name, err)
			}
		}
		if err := allGone(ctx, w, names, 10*time.Minute); err != nil {
			b.Fatal(err)
		}
		w.Stop()
	}
}

// allReady waits on w until every cluster of names is Ready.
func allReady(ctx context.Context, w watch.Interface, names map[string]bool, within time.Duration) error {
	pending := map[string]bool{}
	for n := range names {
		pending[n] = true
	}
	return drain(ctx, w, within, func(ev watch.Event) bool {
		if u, ok := ev.Object.(*unstructured.Unstructured); ok && ev.Type != watch.Deleted && conditionTrue(u, "Ready") {
			delete(pending, u.GetName())
		}
		return len(pending) == 0
	}, func() string { return fmt.Sprintf("%d clusters not Ready: %v", len(pending), keys(pending)) })
}

// allGone waits on w until every cluster of names is deleted.
func allGone(ctx context.Context, w watch.Interface, names map[string]bool, within time.Duration) error {
	left := map[string]bool{}
	for n := range names {
		left[n] = true
	}
	return drain(ctx, w, within, func(ev watch.Event) bool {
		if o, ok := ev.Object.(metav1.Object); ok && ev.Type == watch.Deleted {
			delete(left, o.GetName())
		}
		return len(left) == 0
	}, func() string { return fmt.Sprintf("%d clusters not gone: %v", len(left), keys(left)) })
}

// drain feeds w's events to done until it returns true, and fails with
// what() at the deadline.
func drain(ctx context.Context, w watch.Interface, within time.Duration, done func(watch.Event) bool, what func() string) error {
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				return fmt.Errorf("watch closed; %s", what())
			}
			if ev.Type == watch.Error {
				return fmt.Errorf("watch error %v; %s", ev.Object, what())
			}
			if done(ev) {
				return nil
			}
		case <-timer.C:
			return fmt.Errorf("after %s: %s", within, what())
		case <-ctx.Done():
			return fmt.Errorf("%w; %s", ctx.Err(), what())
		}
	}
}

// idleWindow is how long BenchmarkTenantMemory measures the idle clusters'
// CPU.
const idleWindow = 30 * time.Second

// idleCPU measures, over window, the CPU each cluster's processes use, in
// percent of one core, per cluster and per kind of process.
func idleCPU(b *testing.B, names map[string]bool, window time.Duration) (perCluster []float64, perKind map[string][]float64) {
	b.Helper()
	type proc struct {
		cluster, kind string
		pid           int
		start         time.Duration
	}
	var procs []proc
	for name := range names {
		for kind, pid := range harness.TenantPIDs(filepath.Join(env.Platform.ClustersDir(), tenantA, name)) {
			cpu, err := benchsamples.ProcessCPU(pid)
			if err != nil {
				b.Fatalf("CPU time of %s of %s: %v", kind, name, err)
			}
			procs = append(procs, proc{name, kind, pid, cpu})
		}
	}
	began := time.Now()
	time.Sleep(window)
	elapsed := time.Since(began)
	byCluster := map[string]float64{}
	perKind = map[string][]float64{}
	for _, p := range procs {
		cpu, err := benchsamples.ProcessCPU(p.pid)
		if err != nil {
			b.Fatalf("CPU time of %s of %s (restarted during the window?): %v", p.kind, p.cluster, err)
		}
		pct := 100 * float64(cpu-p.start) / float64(elapsed)
		byCluster[p.cluster] += pct
		perKind[p.kind] = append(perKind[p.kind], pct)
	}
	for name := range names {
		perCluster = append(perCluster, byCluster[name])
	}
	return perCluster, perKind
}

// clusterMemory sums, per cluster, the PSS and RSS (MB) of its processes,
// and collects the PSS of each kind of process.
func clusterMemory(b *testing.B, names map[string]bool) (pss, rss []float64, perProc map[string][]float64) {
	b.Helper()
	perProc = map[string][]float64{}
	for name := range names {
		pids := harness.TenantPIDs(filepath.Join(env.Platform.ClustersDir(), tenantA, name))
		if len(pids) == 0 {
			b.Fatalf("no process recorded for cluster %s", name)
		}
		var p, r float64
		for proc, pid := range pids {
			pp, rr, err := benchsamples.ProcessMemory(pid)
			if err != nil {
				b.Fatalf("memory of %s of %s: %v", proc, name, err)
			}
			p, r = p+pp, r+rr
			perProc[proc] = append(perProc[proc], pp)
		}
		pss, rss = append(pss, p), append(rss, r)
	}
	return pss, rss, perProc
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func maxOf(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func rounded(v []float64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x + 0.5)
	}
	sort.Ints(out)
	return out
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
