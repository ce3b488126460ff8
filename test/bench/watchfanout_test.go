package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// nsFanout holds the one cluster per backend that BenchmarkWatchFanout's
// watchers follow; nsFanoutOne the one that BenchmarkWatchFanoutInterleaved's
// single watcher follows.
const (
	nsFanout    = "bench-fanout"
	nsFanoutOne = "bench-fanout-one"
	fanoutName  = "fanned"
)

var (
	fanoutOnce sync.Once
	fanoutErr  error
)

func setupFanout(ctx context.Context) error {
	if err := setupBase(ctx); err != nil {
		return err
	}
	fanoutOnce.Do(func() {
		for _, ns := range []string{nsFanout, nsFanoutOne} {
			if fanoutErr = tenantNamespace(ctx, ns); fanoutErr != nil {
				return
			}
			for _, be := range backends {
				if _, fanoutErr = createRetry(ctx, be, newCluster(be, ns, fanoutName, spec)); fanoutErr != nil {
					return
				}
			}
		}
	})
	return fanoutErr
}

// seqKey is how the sequence annotation appears in a watch event's JSON.
var seqKey = []byte(fmt.Sprintf("%q:\"", seqAnnotation))

// fanArrival is one watcher seeing one update.
type fanArrival struct {
	seq string
	at  time.Time
	err error
}

// rawWatch opens a watch of be's clusters in ns through the REST client
// and sends the sequence annotation of every event it reads. Events are not
// decoded: the JSON stream has one event per line, and the annotation is
// found in its bytes, so that 100 watchers measure the servers' fan-out and
// not 100 client-side decodes on the same 2 cores.
func rawWatch(ctx context.Context, be backend, ns string, out chan<- fanArrival) error {
	path := fmt.Sprintf("/apis/%s/namespaces/%s/%s", be.apiVersion, ns, be.gvr.Resource)
	body, err := env.kube.CoreV1().RESTClient().Get().AbsPath(path).Param("watch", "true").
		Param("allowWatchBookmarks", "false").SetHeader("Accept", "application/json").
		Timeout(0).Stream(ctx)
	if err != nil {
		return fmt.Errorf("watch %s: %w", be.name, err)
	}
	go func() {
		defer body.Close()
		r := bufio.NewReaderSize(body, 64<<10)
		for {
			line, err := r.ReadBytes('\n')
			now := time.Now()
			if err != nil {
				if err != io.EOF && ctx.Err() == nil {
					out <- fanArrival{err: err}
				}
				return
			}
			i := bytes.Index(line, seqKey)
			if i < 0 {
				continue
			}
			v := line[i+len(seqKey):]
			if j := bytes.IndexByte(v, '"'); j >= 0 {
				select {
				case out <- fanArrival{seq: string(v[:j]), at: now}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return nil
}

// BenchmarkWatchFanout updates one cluster watched by 1 or 100 concurrent
// watchers of its namespace and waits until every watcher has the event. It
// reports the latency (update start → event read) at p50 and p99 over all
// watchers and iterations, and from the servers' metrics what the watchers
// cost: etcd watches added by opening them, events received from etcd per
// update (1 when they share the watch cache's one etcd watch), events sent
// per update.
func BenchmarkWatchFanout(b *testing.B) {
	ctx := ctxFor(b)
	if err := setupFanout(ctx); err != nil {
		b.Fatal(err)
	}
	for _, be := range backends {
		for _, n := range []int{1, 100} {
			b.Run(fmt.Sprintf("%s-%d", be.name, n), func(b *testing.B) {
				benchFanout(ctx, b, be, n)
			})
		}
	}
}

func benchFanout(ctx context.Context, b *testing.B, be backend, n int) {
	group := be.gvr.Group
	etcdBefore, etcdErr := etcdMetrics(ctx, be)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	arrivals := make(chan fanArrival, 16*n)
	for i := 0; i < n; i++ {
		if err := rawWatch(wctx, be, nsFanout, arrivals); err != nil {
			b.Fatal(err)
		}
	}
	c := env.dyn.Resource(be.gvr).Namespace(nsFanout)
	// One untimed update that every watcher must see: they are all open.
	update := func() (string, time.Time) {
		seq := fmt.Sprint(watchSeq.Add(1))
		patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, seqAnnotation, seq)
		start := time.Now()
		if _, err := c.Patch(ctx, fanoutName, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			b.Fatalf("update %s: %v", be.name, err)
		}
		return seq, start
	}
	wait := func(seq string, start time.Time, lat []time.Duration) []time.Duration {
		timeout := time.After(60 * time.Second)
		for got := 0; got < n; {
			select {
			case a := <-arrivals:
				if a.err != nil {
					b.Fatalf("watch %s: %v", be.name, a.err)
				}
				if a.seq == seq {
					lat = append(lat, a.at.Sub(start))
					got++
				}
			case <-timeout:
				b.Fatalf("watch %s: %d of %d watchers saw update %s in 60s", be.name, got, n, seq)
			}
		}
		return lat
	}
	seq, start := update()
	wait(seq, start, nil)

	etcdOpen, etcdOpenErr := etcdMetrics(ctx, be)
	before, err := apiserverMetrics(ctx, be)
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, n*b.N)
	profiled := profileDuring(b, fmt.Sprintf("watch-fanout-%s-%d", be.name, n))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		seq, start := update()
		lat = wait(seq, start, lat)
	}
	b.StopTimer()
	profiled()
	after, err := apiserverMetrics(ctx, be)
	if err != nil {
		b.Fatal(err)
	}
	p50, p99 := percentile(lat, 0.50), percentile(lat, 0.99)
	b.ReportMetric(float64(p50.Microseconds())/1000, "ms-p50")
	b.ReportMetric(float64(p99.Microseconds())/1000, "ms-p99")
	g, r := fmt.Sprintf("group=%q", group), `resource="clusters"`
	received := metricSum(after, "apiserver_storage_events_received_total", g, r) -
		metricSum(before, "apiserver_storage_events_received_total", g, r)
	sent := metricSum(after, "apiserver_watch_events_total", g, r) -
		metricSum(before, "apiserver_watch_events_total", g, r)
	// The watches open on the server that stores clusters (hikube-apiserver
	// or kube-apiserver): n, plus any of the platform's own.
	b.ReportMetric(metricSum(after, "apiserver_longrunning_requests", g, r, `verb="WATCH"`), "server-watches")
	b.ReportMetric(received/float64(b.N), "etcd-events/update")
	b.ReportMetric(sent/float64(b.N), "sent-events/update")
	if etcdErr == nil && etcdOpenErr == nil {
		added := metricSum(etcdOpen, "etcd_debugging_mvcc_watcher_total") - metricSum(etcdBefore, "etcd_debugging_mvcc_watcher_total")
		b.ReportMetric(added, "etcd-watchers-added")
		b.ReportMetric(metricSum(etcdOpen, "etcd_debugging_mvcc_watcher_total"), "etcd-watchers")
	} else {
		b.Logf("no etcd metrics: %v %v", etcdErr, etcdOpenErr)
	}
	record(fmt.Sprintf("watch p99, %d watchers", n), be.name, p99*time.Duration(b.N), b.N)
}

// printFanoutSummary prints, per backend, the p99 event latency with 100
// watchers against one watcher (the target is at most 1.2x).
func printFanoutSummary(out io.Writer) {
	one, hundred := results["watch p99, 1 watchers"], results["watch p99, 100 watchers"]
	for _, be := range backends {
		a, b := one[be.name], hundred[be.name]
		if a == 0 || b == 0 {
			continue
		}
		verdict := "no"
		if float64(b) <= 1.2*float64(a) {
			verdict = "yes"
		}
		fmt.Fprintf(out, "watch fan-out %s: p99 %s ms with 100 watchers, %s ms with 1: %.2fx (target <= 1.2x: %s)\n",
			be.name, ms(b), ms(a), float64(b)/float64(a), verdict)
	}
}
