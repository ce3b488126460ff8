package bench

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/test/benchsamples"
)

// On a shared machine the load changes from one second to the next, and a
// sub-benchmark per backend measures each in its own seconds. The
// interleaved benchmarks alternate the backends request by request (one
// aggregated, one CRD, ...), so both see the same load, and report the median
// of each and their ratio: the figure the targets are judged on.

// BenchmarkGetInterleaved reads the same cluster from both backends in turn.
func BenchmarkGetInterleaved(b *testing.B) {
	ctx := ctxFor(b)
	if err := setupSmall(ctx); err != nil {
		b.Fatal(err)
	}
	lat := map[string][]time.Duration{}
	profiled := profileDuring(b, "get-interleaved")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, be := range backends {
			start := time.Now()
			if _, err := env.dyn.Resource(be.gvr).Namespace(nsSmall).Get(ctx, getName, metav1.GetOptions{}); err != nil {
				b.Fatalf("get %s: %v", be.name, err)
			}
			lat[be.name] = append(lat[be.name], time.Since(start))
		}
	}
	b.StopTimer()
	profiled()
	reportPair(b, "get p50 (interleaved)", lat)
}

// BenchmarkCreateInterleaved creates clusters on both backends in turn from
// one client.
func BenchmarkCreateInterleaved(b *testing.B) {
	ctx := ctxFor(b)
	if err := setupBase(ctx); err != nil {
		b.Fatal(err)
	}
	var nsErr error
	createNSOnce.Do(func() { nsErr = tenantNamespace(ctx, nsCreate) })
	if nsErr != nil {
		b.Fatal(nsErr)
	}
	run := createRuns.Add(1)
	lat := map[string][]time.Duration{}
	profiled := profileDuring(b, "create-interleaved")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, be := range backends {
			obj := newCluster(be, nsCreate, fmt.Sprintf("i-%d-%05d", run, i), spec)
			start := time.Now()
			if _, err := env.dyn.Resource(be.gvr).Namespace(nsCreate).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
				b.Fatalf("create %s: %v", be.name, err)
			}
			lat[be.name] = append(lat[be.name], time.Since(start))
		}
	}
	b.StopTimer()
	profiled()
	reportPair(b, "create p50 (interleaved)", lat)
}

// reportPair reports the median and p99 of each backend and the ratio of
// the medians, and records the medians for the summary.
func reportPair(b *testing.B, metric string, lat map[string][]time.Duration) {
	// Every sample into the latency figure (test/benchsamples); a later run
	// of the sub-benchmark replaces an earlier one's.
	group := strings.Replace(metric, " p50", "", 1)
	for name, ds := range lat {
		resetSamples(group, name)
		for _, d := range ds {
			benchsamples.Add(benchsamples.Latency, group, name, d)
		}
	}
	p50 := map[string]time.Duration{}
	for _, be := range backends {
		ds := lat[be.name]
		p50[be.name] = percentile(ds, 0.50)
		b.ReportMetric(float64(p50[be.name].Microseconds())/1000, be.name+"-ms-p50")
		b.ReportMetric(float64(percentile(ds, 0.99).Microseconds())/1000, be.name+"-ms-p99")
		record(metric, be.name, p50[be.name]*time.Duration(len(ds)), len(ds))
	}
	if c := p50["crd"]; c > 0 {
		b.ReportMetric(float64(p50["aggregated"])/float64(c), "agg/crd-p50")
	}
}
