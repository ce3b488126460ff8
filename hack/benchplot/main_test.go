package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hikube/hikube/test/benchsamples"
)

// TestDrawsEveryKind writes samples of every kind the benchmarks record and
// checks that one readable PNG comes out per figure, named after the
// package and the figure.
func TestDrawsEveryKind(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	for i := 1; i <= 20; i++ {
		d := time.Duration(i) * time.Millisecond
		benchsamples.Add(benchsamples.Latency, "get", "aggregated", d+time.Millisecond)
		benchsamples.Add(benchsamples.Latency, "get", "crd", d)
		benchsamples.Add(benchsamples.Latency, "list 10k", "aggregated", 100*d)
		benchsamples.Add(benchsamples.Latency, "list 10k", "crd", 300*d)
		benchsamples.AddOrdered(benchsamples.Phases, "small", "ControlPlaneReady", 1, 1500*time.Millisecond+d)
		benchsamples.AddOrdered(benchsamples.Phases, "small", "Ready", 3, 2500*time.Millisecond+d)
		benchsamples.AddOrdered(benchsamples.Phases, "production", "ControlPlaneReady", 1, 1800*time.Millisecond+d)
		benchsamples.AddOrdered(benchsamples.Phases, "production", "NodeGroupsReady", 2, 2900*time.Millisecond+d)
		benchsamples.AddOrdered(benchsamples.Phases, "production", "Ready", 3, 3100*time.Millisecond+d)
		benchsamples.Add(benchsamples.Histogram, "autoscaler reaction", "unschedulable to new Node", 150*time.Millisecond+10*d)
	}
	if _, err := benchsamples.Write(in, "test/bench"); err != nil {
		t.Fatal(err)
	}
	written, err := run(in, out)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"test-bench-latency.png", "test-bench-phases.png", "test-bench-autoscaler-reaction.png"}
	if len(written) != len(want) {
		t.Fatalf("wrote %v, want %v", written, want)
	}
	for i, p := range written {
		if filepath.Base(p) != want[i] {
			t.Errorf("figure %d is %s, want %s", i, filepath.Base(p), want[i])
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s is not a PNG: %v", p, err)
		}
		if b := img.Bounds(); b.Dx() < 300 || b.Dy() < 100 {
			t.Errorf("%s is %v, too small to read", p, b)
		}
	}
}

// TestNoSamplesIsAnError makes a run that recorded nothing say so rather
// than leave the old figures looking new.
func TestNoSamplesIsAnError(t *testing.T) {
	_, err := run(t.TempDir(), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), benchsamples.EnvDir) {
		t.Fatalf("err = %v, want one naming %s", err, benchsamples.EnvDir)
	}
}

// TestUnknownKindIsAnError keeps a typo in a benchmark from dropping a figure
// silently.
func TestUnknownKindIsAnError(t *testing.T) {
	_, err := drawFile(benchsamples.File{Package: "p", Series: []benchsamples.Series{{Kind: "latencies", Group: "get", Name: "crd", MS: []float64{1}}}}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), `"latencies"`) {
		t.Fatalf("err = %v, want one naming the kind", err)
	}
}
