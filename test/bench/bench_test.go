package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// Both backends are driven by the same dynamic client (JSON, decoded into
// unstructured), so the client side is identical and the differences are the
// server's: the aggregation hop and hikube-apiserver's typed storage versus
// kube-apiserver's CRD handler. The lists also have "raw" variants
// (BenchmarkListRaw, BenchmarkList10kRaw) that read the JSON body as bytes
// through the REST client without decoding it: closer to the server's time,
// since the client's decode of up to ~16 MB otherwise shares the 2 cores.

func ctxFor(b *testing.B) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	b.Cleanup(cancel)
	return ctx
}

// BenchmarkGet reads one production cluster.
func BenchmarkGet(b *testing.B) {
	ctx := ctxFor(b)
	if err := setupSmall(ctx); err != nil {
		b.Fatal(err)
	}
	for _, be := range withDirect(ctx) {
		b.Run(be.name, func(b *testing.B) {
			c := be.client().Resource(be.gvr).Namespace(nsSmall)
			get := func() error { _, err := c.Get(ctx, getName, metav1.GetOptions{}); return err }
			resetSamples("get", be.name)
			profiled := profileDuring(b, "get-"+be.name)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := sampled("get", be.name, get); err != nil {
					b.Fatalf("get %s: %v", be.name, err)
				}
			}
			b.StopTimer()
			profiled()
			record("get", be.name, b.Elapsed(), b.N)
		})
	}
}

// list lists ns once and checks the count.
func list(ctx context.Context, b *testing.B, be backend, ns string, rv string, want int) {
	l, err := be.client().Resource(be.gvr).Namespace(ns).List(ctx, metav1.ListOptions{ResourceVersion: rv})
	if err != nil {
		b.Fatalf("list %s in %s: %v", be.name, ns, err)
	}
	if len(l.Items) != want {
		b.Fatalf("list %s in %s: %d items, want %d", be.name, ns, len(l.Items), want)
	}
}

// listVariants are the list flavours: a consistent list (resourceVersion
// unset) and resourceVersion=0 (any recent state, from the watch cache).
var listVariants = []struct{ suffix, rv, metric string }{
	{"", "", ""},
	{"-rv0", "0", " rv=0"},
}

// BenchmarkList lists the 1,000 clusters of a namespace.
func BenchmarkList(b *testing.B) {
	ctx := ctxFor(b)
	if err := setupSmall(ctx); err != nil {
		b.Fatal(err)
	}
	for _, v := range listVariants {
		bes := backends
		if v.rv == "" {
			bes = withDirect(ctx)
		}
		for _, be := range bes {
			b.Run(be.name+v.suffix, func(b *testing.B) {
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					list(ctx, b, be, nsSmall, v.rv, smallN)
				}
				b.StopTimer()
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/list")
				record("list 1k"+v.metric, be.name, b.Elapsed(), b.N)
			})
		}
	}
}

// watchSeq numbers the updates of the watched clusters across runs, so no
// update is a no-op (a no-op sends no event).
var watchSeq atomic.Int64

const seqAnnotation = "bench.hikube.io/seq"

type arrival struct {
	seq string
	at  time.Time
	err error
}

// BenchmarkWatchEvent updates the watched cluster and waits for the MODIFIED
// event on an open watch; ms/event is from the start of the update request to
// the event's arrival, ns/op also includes the rest of the update round trip.
func BenchmarkWatchEvent(b *testing.B) {
	ctx := ctxFor(b)
	if err := setupBase(ctx); err != nil {
		b.Fatal(err)
	}
	for _, be := range withDirect(ctx) {
		b.Run(be.name, func(b *testing.B) {
			c := be.client().Resource(be.gvr).Namespace(nsWatch)
			w, err := c.Watch(ctx, metav1.ListOptions{})
			if err != nil {
				b.Fatalf("watch %s: %v", be.name, err)
			}
			arrivals := make(chan arrival, 1024)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer close(arrivals)
				for ev := range w.ResultChan() {
					now := time.Now()
					switch ev.Type {
					case watch.Error:
						arrivals <- arrival{err: fmt.Errorf("watch error event: %v", ev.Object)}
						return
					case watch.Modified:
						u, ok := ev.Object.(*unstructured.Unstructured)
						if !ok {
							arrivals <- arrival{err: fmt.Errorf("watch event of type %T", ev.Object)}
							return
						}
						arrivals <- arrival{seq: u.GetAnnotations()[seqAnnotation], at: now}
					}
				}
			}()
			defer func() { w.Stop(); wg.Wait() }()

			var toEvent time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				seq := fmt.Sprint(watchSeq.Add(1))
				patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, seqAnnotation, seq)
				start := time.Now()
				if _, err := c.Patch(ctx, watchName, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
					b.Fatalf("update %s: %v", be.name, err)
				}
				timeout := time.After(30 * time.Second)
			wait:
				for {
					select {
					case a, ok := <-arrivals:
						if !ok {
							b.Fatalf("watch %s closed", be.name)
						}
						if a.err != nil {
							b.Fatalf("watch %s: %v", be.name, a.err)
						}
						if a.seq == seq {
							toEvent += a.at.Sub(start)
							break wait
						}
					case <-timeout:
						b.Fatalf("watch %s: no MODIFIED event for update %s in 30s", be.name, seq)
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(toEvent.Microseconds())/1000/float64(b.N), "ms/event")
			record("watch event", be.name, toEvent, b.N)
		})
	}
}

// BenchmarkList10k lists the 10,000 clusters of a namespace.
func BenchmarkList10k(b *testing.B) {
	ctx := ctxFor(b)
	if err := setupLarge(ctx); err != nil {
		b.Fatal(err)
	}
	// Only the consistent list: at 1,000 objects resourceVersion=0 makes no
	// difference on either backend (both lists come from a watch cache), and
	// each 10k list costs about a second, 201 times per sub-benchmark.
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				list(ctx, b, be, nsLarge, "", largeN)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/list")
			record("list 10k", be.name, b.Elapsed(), b.N)
		})
	}
}

// rawList GETs the JSON list of ns's clusters through the backend's REST
// client and returns the bytes as they came: no client-side decoding, so the
// time is the server's (and the transfer's), not client-go's.
func rawList(ctx context.Context, be backend, ns string) ([]byte, error) {
	rc := env.kube.CoreV1().RESTClient()
	if be.direct {
		rc = env.directKube.CoreV1().RESTClient()
	}
	path := fmt.Sprintf("/apis/%s/namespaces/%s/%s", be.apiVersion, ns, be.gvr.Resource)
	return rc.Get().AbsPath(path).SetHeader("Accept", "application/json").DoRaw(ctx)
}

// checkRawList lists ns once (untimed) and checks the item count, so the
// timed loop of a raw variant need not decode anything.
func checkRawList(ctx context.Context, b *testing.B, be backend, ns string, want int) {
	raw, err := rawList(ctx, be, ns)
	if err != nil {
		b.Fatalf("raw list %s in %s: %v", be.name, ns, err)
	}
	var l struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(raw, &l); err != nil {
		b.Fatalf("raw list %s in %s: %v", be.name, ns, err)
	}
	if len(l.Items) != want {
		b.Fatalf("raw list %s in %s: %d items, want %d", be.name, ns, len(l.Items), want)
	}
}

// benchRawList is the timed loop of the raw variants.
func benchRawList(ctx context.Context, b *testing.B, be backend, ns string, want int, metric string) {
	checkRawList(ctx, b, be, ns, want)
	var bytes int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		raw, err := rawList(ctx, be, ns)
		if err != nil {
			b.Fatalf("raw list %s in %s: %v", be.name, ns, err)
		}
		bytes = len(raw)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/list")
	b.ReportMetric(float64(bytes), "bytes/list")
	record(metric, be.name, b.Elapsed(), b.N)
}

// BenchmarkListRaw is BenchmarkList (consistent list of 1,000 clusters)
// without the dynamic client's decode: the response body is read as bytes
// through the REST client (DoRaw), the same way for every backend.
func BenchmarkListRaw(b *testing.B) {
	ctx := ctxFor(b)
	if err := setupSmall(ctx); err != nil {
		b.Fatal(err)
	}
	for _, be := range withDirect(ctx) {
		b.Run(be.name, func(b *testing.B) {
			benchRawList(ctx, b, be, nsSmall, smallN, "list 1k raw")
		})
	}
}

// BenchmarkList10kRaw is BenchmarkList10k without the client-side decode.
func BenchmarkList10kRaw(b *testing.B) {
	ctx := ctxFor(b)
	if err := setupLarge(ctx); err != nil {
		b.Fatal(err)
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			benchRawList(ctx, b, be, nsLarge, largeN, "list 10k raw")
		})
	}
}
