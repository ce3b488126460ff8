// Command benchplot draws the figures of docs/benchmarks.md from the sample
// files the benchmarks write (test/benchsamples; `make bench` sets
// $HIKUBE_BENCH_SAMPLES): per package, the latency distribution per
// operation (aggregated next to the CRD), the create→Ready breakdown per
// phase, and a histogram per histogram series.
//
//	go run ./hack/benchplot -in _output/bench -out docs/img
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/hikube/hikube/test/benchsamples"
)

func main() {
	in := flag.String("in", "_output/bench", "directory of the sample files (*.json)")
	out := flag.String("out", "docs/img", "directory the PNG figures are written to")
	flag.Parse()
	written, err := run(*in, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchplot:", err)
		os.Exit(1)
	}
	for _, p := range written {
		fmt.Println(p)
	}
}

// run draws every figure of every sample file in in and returns the paths written.
func run(in, out string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(in, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", in, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no sample files in %s: run the benchmarks with %s=%s", in, benchsamples.EnvDir, in)
	}
	sort.Strings(files)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", out, err)
	}
	var written []string
	for _, path := range files {
		f, err := benchsamples.Read(path)
		if err != nil {
			return written, err
		}
		w, err := drawFile(f, out)
		written = append(written, w...)
		if err != nil {
			return written, fmt.Errorf("%s: %w", path, err)
		}
	}
	return written, nil
}

// drawFile writes the figures of one file.
func drawFile(f benchsamples.File, out string) ([]string, error) {
	var latency, phases []benchsamples.Series
	var hists []benchsamples.Series
	for _, s := range f.Series {
		switch s.Kind {
		case benchsamples.Latency:
			latency = append(latency, s)
		case benchsamples.Phases:
			phases = append(phases, s)
		case benchsamples.Histogram:
			hists = append(hists, s)
		default:
			return nil, fmt.Errorf("series %s/%s: unknown kind %q", s.Group, s.Name, s.Kind)
		}
	}
	suffix := ""
	if f.Load != "" {
		suffix = " — load " + f.Load
	}
	var written []string
	if len(latency) > 0 {
		p := pngPath(out, f.Package, "latency")
		if err := latencyPlot(latency, "latency per operation"+suffix, p); err != nil {
			return written, err
		}
		written = append(written, p)
	}
	if len(phases) > 0 {
		p := pngPath(out, f.Package, "phases")
		if err := phasesPlot(phases, "create→Ready by phase"+suffix, p); err != nil {
			return written, err
		}
		written = append(written, p)
	}
	for _, s := range hists {
		p := pngPath(out, f.Package, s.Group)
		if err := histogramPlot(s, p); err != nil {
			return written, err
		}
		written = append(written, p)
	}
	return written, nil
}
