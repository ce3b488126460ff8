package bench

import (
	"fmt"
	"io"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/hikube/hikube/test/benchsamples"
)

// results[metric][backend] is the mean time per operation of the last run
// of that sub-benchmark (the -benchtime one, after the 1-iteration probe).
var (
	resultsMu sync.Mutex
	results   = map[string]map[string]time.Duration{}
)

// sampled times one operation of a sub-benchmark for the latency figure
// (test/benchsamples); call it inside the timed loop. The samples of a
// sub-benchmark's earlier run (Go's one-iteration probe) are dropped when
// the next run starts, through reset.
func sampled(metric, backend string, op func() error) error {
	start := time.Now()
	err := op()
	benchsamples.Add(benchsamples.Latency, metric, backend, time.Since(start))
	return err
}

// resetSamples drops what an earlier run of the sub-benchmark recorded.
func resetSamples(metric, backend string) { benchsamples.Reset(benchsamples.Latency, metric, backend) }

func record(metric, backend string, total time.Duration, n int) {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	if results[metric] == nil {
		results[metric] = map[string]time.Duration{}
	}
	results[metric][backend] = total / time.Duration(n)
}

// targets are DESIGN.md section 6's: aggregated/CRD ratio at most maxRatio,
// and for the 10k list also an absolute bound.
var targets = []struct {
	metric   string
	maxRatio float64
	maxAgg   time.Duration
	text     string
}{
	{"get", 1.0, 0, "<= 1.0x CRD"},
	{"get p50 (interleaved)", 1.0, 0, "<= 1.0x CRD"},
	{"create p50 (1 client)", 1.0, 0, "<= 1.0x CRD"},
	{"create p50 (interleaved)", 1.0, 0, "<= 1.0x CRD"},
	{"list 1k", 0.5, 0, "<= 0.5x CRD"},
	{"list 1k rv=0", 0.5, 0, "<= 0.5x CRD"},
	{"watch event", 1.2, 0, "<= 1.2x CRD"},
	{"list 10k", 0.5, time.Second, "<= 0.5x CRD, < 1 s"},
	{"list 1k raw", 0.5, 0, "<= 0.5x CRD"},
	{"list 10k raw", 0.5, time.Second, "<= 0.5x CRD, < 1 s"},
	// BenchmarkListProtobuf: the typed clientset over protobuf against the
	// CRD through the dynamic client, and the server's list as bytes.
	{"list 1k protobuf", 0.3, 0, "<= 0.3x CRD (typed protobuf vs dynamic)"},
	{"list 10k protobuf", 0.3, 0, "<= 0.3x CRD (typed protobuf vs dynamic)"},
	{"list 1k protobuf raw", 0.3, 0, "<= 0.3x CRD (bytes)"},
	{"list 10k protobuf raw", 0.3, 0, "<= 0.3x CRD (bytes)"},
	{"list 1k typed json", 0.5, 0, "(informational) typed JSON vs dynamic"},
	{"list 10k typed json", 0.5, 0, "(informational) typed JSON vs dynamic"},
	{"list 1k json raw", 0.5, 0, "<= 0.5x CRD (bytes)"},
	{"list 10k json raw", 0.5, 0, "<= 0.5x CRD (bytes)"},
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d.Microseconds())/1000) }

// printSummary prints what the run measured, with the aggregated/CRD ratios.
func printSummary(out io.Writer) {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	if len(results) == 0 {
		return
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, "hikube benchmark summary (mean per operation, JSON, same kube-apiserver; dynamic client except the \"raw\" lists, which are DoRaw bytes without decoding)")
	if len(schemaDefs) > 0 {
		fmt.Fprintf(out, "CRD schema derived from our OpenAPI v3, inlined definitions: %v\n", schemaDefs)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\taggregated ms\tcrd ms\tagg/crd\ttarget\tmet\tdirect ms (no aggregation hop)")
	for _, t := range targets {
		r, ok := results[t.metric]
		if !ok {
			continue
		}
		agg, aok := r["aggregated"]
		crd, cok := r["crd"]
		if !aok || !cok || crd == 0 {
			continue
		}
		ratio := float64(agg) / float64(crd)
		met := ratio <= t.maxRatio
		if t.maxAgg > 0 && agg >= t.maxAgg {
			met = false
		}
		verdict := "no"
		if met {
			verdict = "yes"
		}
		d := "-"
		if v, ok := r["direct"]; ok {
			d = ms(v)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\t%s\t%s\n", t.metric, ms(agg), ms(crd), ratio, t.text, verdict, d)
	}
	if a, c := createRate["aggregated"], createRate["crd"]; a > 0 && c > 0 {
		fmt.Fprintf(tw, "create 10k (%d workers)\t%.0f/s\t%.0f/s\t%.2f\t(throughput, higher is better)\t-\t-\n", workers, a, c, a/c)
	}
	tw.Flush()
	printFanoutSummary(out)
	if a, c := listBytes["aggregated"], listBytes["crd"]; a > 0 && c > 0 {
		fmt.Fprintf(out, "JSON list of %d clusters: aggregated %d bytes (%d/object), crd %d bytes (%d/object)\n",
			smallN, a, a/smallN, c, c/smallN)
	}
}
