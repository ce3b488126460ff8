package benchsamples

import (
	"os"
	"testing"
	"time"
)

// forget drops every series, so that each test starts empty.
func forget(*testing.T) {
	mu.Lock()
	series = map[key]*Series{}
	mu.Unlock()
}

func TestWriteReadRoundTrip(t *testing.T) {
	forget(t)
	dir := t.TempDir()
	Add(Latency, "get", "crd", 1500*time.Microsecond)
	Add(Latency, "get", "crd", 2*time.Millisecond)
	AddOrdered(Phases, "small", "Ready", 2, 3*time.Second)
	AddOrdered(Phases, "small", "ControlPlaneReady", 1, time.Second)
	Add(Latency, "get", "probe", time.Second)
	Reset(Latency, "get", "probe")
	path, err := Write(dir, "test/bench")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Package != "test/bench" || len(f.Series) != 3 {
		t.Fatalf("read %+v", f)
	}
	got := f.Series[0]
	if got.Kind != Latency || got.Name != "crd" || len(got.MS) != 2 || got.MS[0] != 1.5 || got.MS[1] != 2 {
		t.Errorf("first series %+v, want the two crd gets in ms", got)
	}
	if f.Series[1].Name != "ControlPlaneReady" || f.Series[2].Name != "Ready" {
		t.Errorf("phases not in milestone order: %+v", f.Series[1:])
	}
}

func TestFlushWithoutDirectoryWritesNothing(t *testing.T) {
	forget(t)
	t.Setenv(EnvDir, "")
	Add(Histogram, "h", "x", time.Millisecond)
	path, err := Flush("p")
	if err != nil || path != "" {
		t.Fatalf("Flush = %q, %v; want nothing written", path, err)
	}
}

func TestProcessMemoryOfThisProcess(t *testing.T) {
	pss, rss, err := ProcessMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if pss <= 0 || rss < pss {
		t.Errorf("PSS %.1f MB, RSS %.1f MB: want 0 < PSS <= RSS", pss, rss)
	}
	if _, _, err := ProcessMemory(-1); err == nil {
		t.Error("no error for a process that cannot exist")
	}
}

func TestProcessCPUOfThisProcess(t *testing.T) {
	before, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the counter moves: it counts ticks of 10 ms.
	deadline := time.Now().Add(10 * time.Second)
	after := before
	for after <= before && time.Now().Before(deadline) {
		x := 0
		for i := range 10_000_000 {
			x += i
		}
		_ = x
		if after, err = ProcessCPU(os.Getpid()); err != nil {
			t.Fatal(err)
		}
	}
	if after <= before {
		t.Errorf("CPU time stayed at %s after 10 s of spinning", before)
	}
	if _, err := ProcessCPU(-1); err == nil {
		t.Error("no error for a process that cannot exist")
	}
}
