// Package provisioning benchmarks what hikube-controller does with the local
// provider: the time from creating a cluster to its Ready condition, and the
// autoscaler's reaction to a pod that no node can take. Unlike test/bench,
// which measures the API alone, this package starts the whole platform, the
// controller included (through test/harness, as test/e2e does).
//
// Each iteration takes seconds, so keep -benchtime small:
//
//	go test -count=1 -run '^$' -bench . -benchtime 5x -timeout 30m ./test/bench/provisioning/
//
// (Without -benchtime, Go's default 1s target stops at the first iteration.)
package provisioning

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/hikube/hikube/pkg/localplatform"
	"github.com/hikube/hikube/test/benchsamples"
	"github.com/hikube/hikube/test/harness"
)

var env harness.Env

// scaleDownGrace is the controller's --scale-down-grace: short, so that
// BenchmarkAutoscalerReaction's cleanup (the added node going away) takes
// seconds rather than the default ten minutes. It is not timed.
const scaleDownGrace = 2 * time.Second

// TestMain starts the platform with the local provider, or, when
// HIKUBE_NODE_PROVIDER is kubevirt, in the kubevirt mode: control planes as
// host workloads run by the process node (needs root) and KubeVirt workers
// on the simulated KubeVirt (`make bench` runs both).
//
// The samples for docs/benchmarks.md's figures are written at the end
// (test/benchsamples), one file per provider.
func TestMain(m *testing.M) {
	nodes := os.Getenv("HIKUBE_NODE_PROVIDER")
	code := harness.Main(m, &env, localplatform.Options{ScaleDownGrace: scaleDownGrace, NodeProvider: nodes})
	name := "provisioning"
	if nodes != "" {
		name += "-" + nodes
	}
	if path, err := benchsamples.Flush(name); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = max(code, 1)
	} else if path != "" {
		fmt.Fprintln(os.Stderr, "samples written to", path)
	}
	os.Exit(code)
}

// hostClients are the admin's clients of the host cluster, without
// client-side rate limiting.
func hostClients(b *testing.B) (*rest.Config, dynamic.Interface) {
	b.Helper()
	cfg, err := env.Platform.RESTConfig("admin")
	if err != nil {
		b.Fatalf("admin client config: %v", err)
	}
	cfg.QPS, cfg.Burst = 1000, 1000
	cfg.WarningHandler = rest.NoWarnings{}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return cfg, dyn
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// stats is the mean, min and max of durations.
func stats(ds []time.Duration) (mean, lo, hi time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	lo, hi = ds[0], ds[0]
	var sum time.Duration
	for _, d := range ds {
		sum += d
		lo, hi = min(lo, d), max(hi, d)
	}
	return sum / time.Duration(len(ds)), lo, hi
}

// median is the middle sample (the mean of the two middle ones).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// report adds mean, median, min and max of ds as metrics named unit,
// p50-unit, min-unit, max-unit and logs every sample.
func report(b *testing.B, unit string, ds []time.Duration) {
	b.Helper()
	mean, lo, hi := stats(ds)
	b.ReportMetric(ms(mean), unit)
	b.ReportMetric(ms(median(ds)), "p50-"+unit)
	b.ReportMetric(ms(lo), "min-"+unit)
	b.ReportMetric(ms(hi), "max-"+unit)
	s := ""
	for _, d := range ds {
		s += fmt.Sprintf(" %.0f", ms(d))
	}
	b.Logf("%s samples (ms):%s", unit, s)
}
