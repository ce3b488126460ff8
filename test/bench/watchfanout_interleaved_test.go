package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// BenchmarkWatchFanoutInterleaved measures the fan-out as
// BenchmarkGetInterleaved measures gets: at the same time for both sides of
// the ratio. One watcher follows the cluster of nsFanoutOne, 100 follow the
// cluster of nsFanout, all open together; the updates alternate between the
// two clusters (one, hundred, one, ...), so the p99 of 100 watchers and the
// p99 of one are taken in the same seconds of a shared machine's load. The
// watch cache sends an update of one namespace only to that namespace's
// watchers, so the single watcher's events do not wait behind the 100.
// Reports p50 and p99 of each and the ratios 100/1.
func BenchmarkWatchFanoutInterleaved(b *testing.B) {
	ctx := ctxFor(b)
	if err := setupFanout(ctx); err != nil {
		b.Fatal(err)
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			benchFanoutInterleaved(ctx, b, be)
		})
	}
}

// fanSide is one of the two watched clusters and its watchers.
type fanSide struct {
	ns       string
	n        int
	arrivals chan fanArrival
	lat      []time.Duration
}

func benchFanoutInterleaved(ctx context.Context, b *testing.B, be backend) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sides := []*fanSide{{ns: nsFanoutOne, n: 1}, {ns: nsFanout, n: 100}}
	for _, s := range sides {
		s.arrivals = make(chan fanArrival, 16*s.n)
		s.lat = make([]time.Duration, 0, s.n*b.N)
		for i := 0; i < s.n; i++ {
			if err := rawWatch(wctx, be, s.ns, s.arrivals); err != nil {
				b.Fatal(err)
			}
		}
	}
	// update patches the side's cluster and waits until each of its
	// watchers has the event; timed reports whether the latencies count.
	update := func(s *fanSide, timed bool) {
		seq := fmt.Sprint(watchSeq.Add(1))
		patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, seqAnnotation, seq)
		start := time.Now()
		if _, err := env.dyn.Resource(be.gvr).Namespace(s.ns).Patch(ctx, fanoutName, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			b.Fatalf("update %s in %s: %v", be.name, s.ns, err)
		}
		timeout := time.After(60 * time.Second)
		for got := 0; got < s.n; {
			select {
			case a := <-s.arrivals:
				if a.err != nil {
					b.Fatalf("watch %s in %s: %v", be.name, s.ns, a.err)
				}
				if a.seq != seq {
					continue
				}
				if timed {
					s.lat = append(s.lat, a.at.Sub(start))
				}
				got++
			case <-timeout:
				b.Fatalf("watch %s in %s: %d of %d watchers saw update %s in 60s", be.name, s.ns, got, s.n, seq)
			}
		}
	}
	// One untimed update per side: every watcher is open.
	for _, s := range sides {
		update(s, false)
	}
	profiled := profileDuring(b, "watch-fanout-interleaved-"+be.name)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, s := range sides {
			update(s, true)
		}
	}
	b.StopTimer()
	profiled()
	one, many := sides[0].lat, sides[1].lat
	p50one, p99one := percentile(one, 0.50), percentile(one, 0.99)
	p50many, p99many := percentile(many, 0.50), percentile(many, 0.99)
	b.ReportMetric(float64(p50one.Microseconds())/1000, "1w-ms-p50")
	b.ReportMetric(float64(p99one.Microseconds())/1000, "1w-ms-p99")
	b.ReportMetric(float64(p50many.Microseconds())/1000, "100w-ms-p50")
	b.ReportMetric(float64(p99many.Microseconds())/1000, "100w-ms-p99")
	if p99one > 0 && p50one > 0 {
		b.ReportMetric(float64(p99many)/float64(p99one), "p99-100w/1w")
		b.ReportMetric(float64(p50many)/float64(p50one), "p50-100w/1w")
	}
}
