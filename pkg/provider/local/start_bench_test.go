package local

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/klog/v2"

	"github.com/hikube/hikube/pkg/clusterpki"
	"github.com/hikube/hikube/pkg/provider"
	"github.com/hikube/hikube/test/benchsamples"
)

// BenchmarkControlPlaneStart starts a tenant control plane through
// EnsureControlPlane alone (no controller, no platform) and reports when each
// part first answered, from the first call: etcd's /health, every
// kube-apiserver replica's /readyz, and the provider's Ready. The probes run
// every 5 ms beside the provider's own rounds, which follow its readiness
// notifications as the controller does. After Ready it waits 5 s and reports
// each process's PSS and RSS (one cluster alone: PSS is close to RSS here, see
// BenchmarkTenantMemory for twenty side by side).
//
// For experiments, HIKUBE_BENCH_APISERVER_FLAGS (space-separated) replaces
// the tenant kube-apiserver's tuning flags and HIKUBE_BENCH_APISERVER_ENV
// (space-separated KEY=value) its environment; HIKUBE_BENCH_COMPARE runs, in
// each iteration, the provider as it was before readiness notifications
// ("before-": the core polling every 250 ms, kcm and the scheduler started
// with the apiservers) and as it is ("after-"), in alternating order, so
// that both see the same load; HIKUBE_BENCH_COMPARE=seed compares starts
// without and with a bootstrap seed, =gogc Go's default GOGC with each value
// of HIKUBE_BENCH_GOGC (comma-separated, default 50) for every tenant
// process; HIKUBE_BENCH_KEEP_LOGS names a
// directory that receives each cluster's process logs and pki/.
//
//	go test -run '^$' -bench ControlPlaneStart -benchtime 5x ./pkg/provider/local/
func BenchmarkControlPlaneStart(b *testing.B) {
	if v, ok := os.LookupEnv("HIKUBE_BENCH_APISERVER_FLAGS"); ok {
		old := apiserverTuning
		apiserverTuning = strings.Fields(v)
		b.Cleanup(func() { apiserverTuning = old })
	}
	if v, ok := os.LookupEnv("HIKUBE_BENCH_APISERVER_ENV"); ok {
		old := tenantEnv["kube-apiserver"]
		tenantEnv["kube-apiserver"] = strings.Fields(v)
		b.Cleanup(func() { tenantEnv["kube-apiserver"] = old })
	}
	for _, replicas := range []int32{1, 3} {
		b.Run(fmt.Sprintf("replicas-%d", replicas), func(b *testing.B) { benchControlPlaneStart(b, replicas) })
	}
}

var benchSeq atomic.Int64

// startVariant is one way to start: poll is the provider as it was before
// readiness notifications (the core polling every 250 ms, kcm and the
// scheduler started with the apiservers); unseeded starts without a
// bootstrap seed (seed.go).
type startVariant struct {
	prefix   string
	poll     bool
	unseeded bool
	gogc     int
}

func benchControlPlaneStart(b *testing.B, replicas int32) {
	bin, err := filepath.Abs(filepath.Join("..", "..", "..", "_output", "bin"))
	if err != nil {
		b.Fatal(err)
	}
	if d := os.Getenv("HIKUBE_TEST_BIN_DIR"); d != "" {
		bin = d
	}
	state := b.TempDir()
	b.Cleanup(func() {
		if err := StopAll(state); err != nil {
			b.Errorf("StopAll: %v", err)
		}
	})
	seedDir := b.TempDir()
	p, err := New(Options{StateDir: state, BinDir: bin, Log: klog.Background().V(4), SeedDir: seedDir})
	if err != nil {
		b.Fatal(err)
	}
	if msg := p.missingBinaries("v1.37"); msg != "" {
		b.Fatal(msg)
	}
	// The seed is captured once, before anything is measured, as a
	// provider does for its first cluster of a binary.
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if s, _ := p.seedFor("v1.37"); s != nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("no bootstrap seed captured within 3 minutes")
		}
	}
	changed := make(chan struct{}, 1)
	p.NotifyChanges(func(provider.ClusterRef) {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	ctx := b.Context()
	samples := map[string][]time.Duration{}
	mem := map[string][]float64{}
	cpuBy := map[string][]time.Duration{}
	b.ResetTimer()
	b.StopTimer()
	// oneStart starts one control plane and records its figures under
	// v.prefix.
	oneStart := func(v startVariant) {
		lateControllers = !v.poll
		defer func() { lateControllers = true }()
		p.o.SeedDir = seedDir
		p.o.GOGC = v.gogc
		if v.unseeded {
			p.o.SeedDir = ""
		}
		c := provider.ClusterRef{Namespace: "bench", Name: "c" + strconv.FormatInt(benchSeq.Add(1), 10), UID: "uid-" + strconv.FormatInt(benchSeq.Load(), 10)}
		pkiData, err := clusterpki.Generate(c)
		if err != nil {
			b.Fatal(err)
		}
		spec := provider.ControlPlaneSpec{Minor: "v1.37", Replicas: replicas, PKI: pkiData}
		b.StartTimer()
		start := time.Now()
		s, err := p.EnsureControlPlane(ctx, c, spec)
		if err != nil {
			b.Fatal(err)
		}
		samples[v.prefix+"first-call"] = append(samples[v.prefix+"first-call"], time.Since(start))
		dir, _ := p.clusterDir(c)
		st, err := loadState(dir)
		if err != nil {
			b.Fatal(err)
		}
		admin, err := adminConfig(files{dir: dir}, st.Ports.APIServers[0])
		if err != nil {
			b.Fatal(err)
		}
		var mu sync.Mutex
		seen := map[string]time.Duration{}
		probe := func(what string, ok func(context.Context) bool) {
			for ctx.Err() == nil {
				if ok(ctx) {
					mu.Lock()
					seen[what] = time.Since(start)
					mu.Unlock()
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			probe("etcd", func(ctx context.Context) bool {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(st.Ports.EtcdClient)+"/health", nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return false
				}
				resp.Body.Close()
				return resp.StatusCode == http.StatusOK
			})
		})
		for i, port := range st.Ports.APIServers {
			wg.Go(func() {
				probe("readyz-"+strconv.Itoa(i), func(ctx context.Context) bool {
					_, err := get(ctx, admin, port, "/readyz")
					return err == nil
				})
			})
		}
		for !s.Ready {
			wait := time.Second
			if v.poll {
				// The controller before readiness notifications: a round
				// every 250 ms (ResyncProgressing), whatever happens.
				wait = 250 * time.Millisecond
			}
			select {
			case <-changed:
				if v.poll {
					<-time.After(wait)
				}
			case <-time.After(wait):
			case <-ctx.Done():
				b.Fatal(ctx.Err())
			}
			if s, err = p.EnsureControlPlane(ctx, c, spec); err != nil {
				b.Fatal(err)
			}
			if time.Since(start) > 3*time.Minute {
				b.Fatalf("not Ready after 3 minutes: %+v", s)
			}
		}
		ready := time.Since(start)
		b.StopTimer()
		// CPU spent by the cluster's processes until Ready: unlike the wall
		// time, it hardly depends on what else the machine runs.
		recs, err := readRecords(dir)
		if err != nil {
			b.Fatal(err)
		}
		var cpu time.Duration
		for name, r := range recs {
			d, err := benchsamples.ProcessCPU(r.PID)
			if err != nil {
				b.Fatalf("CPU time of %s: %v", name, err)
			}
			cpu += d
			if strings.HasPrefix(name, "kube-apiserver-") {
				name = "kube-apiserver"
			}
			cpuBy[v.prefix+name] = append(cpuBy[v.prefix+name], d)
		}
		samples[v.prefix+"cpu-at-ready"] = append(samples[v.prefix+"cpu-at-ready"], cpu)
		wg.Wait()
		samples[v.prefix+"ready"] = append(samples[v.prefix+"ready"], ready)
		var lastReadyz time.Duration
		for what, d := range seen {
			samples[v.prefix+what] = append(samples[v.prefix+what], d)
			if strings.HasPrefix(what, "readyz-") {
				lastReadyz = max(lastReadyz, d)
			}
		}
		samples[v.prefix+"all-readyz"] = append(samples[v.prefix+"all-readyz"], lastReadyz)

		time.Sleep(5 * time.Second)
		var total float64
		for name, r := range recs {
			pss, rss, err := benchsamples.ProcessMemory(r.PID)
			if err != nil {
				b.Fatal(err)
			}
			total += pss
			mem[v.prefix+"MB-pss-"+name] = append(mem[v.prefix+"MB-pss-"+name], pss)
			mem[v.prefix+"MB-rss-"+name] = append(mem[v.prefix+"MB-rss-"+name], rss)
		}
		mem[v.prefix+"MB-pss/cluster"] = append(mem[v.prefix+"MB-pss/cluster"], total)
		if keep := os.Getenv("HIKUBE_BENCH_KEEP_LOGS"); keep != "" {
			if err := os.CopyFS(filepath.Join(keep, c.Name), os.DirFS(filepath.Join(dir, "logs"))); err != nil {
				b.Fatal(err)
			}
			if err := os.CopyFS(filepath.Join(keep, c.Name, "pki"), os.DirFS(filepath.Join(dir, "pki"))); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := p.Delete(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	for i := range b.N {
		vs := []startVariant{{}}
		switch os.Getenv("HIKUBE_BENCH_COMPARE") {
		case "":
		case "seed":
			// Paired, in alternating order: both see the same load.
			vs = []startVariant{{prefix: "unseeded-", unseeded: true}, {prefix: "seeded-"}}
			if i%2 == 1 {
				vs[0], vs[1] = vs[1], vs[0]
			}
		case "gogc":
			// Go's default against each HIKUBE_BENCH_GOGC value (default
			// 50), in rotating order.
			vs = []startVariant{{prefix: "gogc100-"}}
			for _, f := range strings.Split(cmp.Or(os.Getenv("HIKUBE_BENCH_GOGC"), "50"), ",") {
				n, err := strconv.Atoi(f)
				if err != nil || n <= 0 {
					b.Fatalf("HIKUBE_BENCH_GOGC: %q is not a positive percentage", f)
				}
				vs = append(vs, startVariant{prefix: "gogc" + f + "-", gogc: n})
			}
			k := i % len(vs)
			vs = append(vs[k:], vs[:k]...)
		default:
			vs = []startVariant{{prefix: "before-", poll: true, unseeded: true}, {prefix: "after-", unseeded: true}}
			if i%2 == 1 {
				vs[0], vs[1] = vs[1], vs[0]
			}
		}
		for _, v := range vs {
			oneStart(v)
		}
	}
	keys := make([]string, 0, len(samples))
	for k := range samples {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ds := samples[k]
		ms := make([]int64, len(ds))
		var sum time.Duration
		for i, d := range ds {
			ms[i] = d.Milliseconds()
			sum += d
		}
		b.Logf("%s samples (ms): %v", k, ms)
		b.ReportMetric(float64(sum.Microseconds())/1000/float64(len(ds)), "ms-to-"+k)
	}
	for k, ds := range cpuBy {
		var sum time.Duration
		for _, d := range ds {
			sum += d
		}
		b.ReportMetric(float64(sum.Milliseconds())/float64(len(ds)), "cpu-ms-"+k)
	}
	for k, v := range mem {
		var sum float64
		for _, x := range v {
			sum += x
		}
		b.ReportMetric(sum/float64(len(v)), k)
	}
	b.Logf("load %s", benchsamples.LoadAverage())
}
