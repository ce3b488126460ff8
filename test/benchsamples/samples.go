// Package benchsamples keeps the individual samples of a benchmark run (one
// duration per operation, not only the mean Go's testing prints) and writes
// them as JSON at the end of the run, for hack/benchplot to draw.
//
// A benchmark package calls Add from its loops and Flush from TestMain. The
// files go to $HIKUBE_BENCH_SAMPLES (make bench sets _output/bench); without
// it nothing is written, so a plain `go test -bench` leaves no files behind.
package benchsamples

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hikube/hikube/pkg/procstat"
)

// EnvDir names the directory the sample files are written to.
const EnvDir = "HIKUBE_BENCH_SAMPLES"

// Kinds of plots a series belongs to.
const (
	// Latency series are drawn as one box per (operation, backend), e.g.
	// get by aggregated and by crd.
	Latency = "latency"
	// Phases series are the times from a start to each milestone of one
	// run, drawn as a stacked bar per subject (small, production).
	Phases = "phases"
	// Histogram series are drawn as a histogram each.
	Histogram = "histogram"
)

// Series is the samples of one quantity, in milliseconds.
type Series struct {
	// Kind is Latency, Phases or Histogram.
	Kind string `json:"kind"`
	// Group is what is measured: the operation ("get", "list 1k"), the
	// subject of the phases ("small"), the histogram's title.
	Group string `json:"group"`
	// Name tells series of a group apart: the backend ("aggregated",
	// "crd"), the milestone ("ControlPlaneReady").
	Name string `json:"name"`
	// Order places the milestones of a Phases group (ascending).
	Order int `json:"order,omitempty"`
	// MS are the samples in milliseconds, in the order taken.
	MS []float64 `json:"ms"`
}

// File is what one benchmark package wrote.
type File struct {
	Package string    `json:"package"`
	Written time.Time `json:"written"`
	// Load is the 1-, 5- and 15-minute load averages when the file was
	// written (the machine is shared; figures mean little without it).
	Load   string   `json:"load,omitempty"`
	Series []Series `json:"series"`
}

type key struct{ kind, group, name string }

var (
	mu     sync.Mutex
	series = map[key]*Series{}
)

// Add records one sample.
func Add(kind, group, name string, d time.Duration) {
	AddOrdered(kind, group, name, 0, d)
}

// AddOrdered records one sample of a milestone that comes order-th.
func AddOrdered(kind, group, name string, order int, d time.Duration) {
	mu.Lock()
	defer mu.Unlock()
	k := key{kind, group, name}
	s := series[k]
	if s == nil {
		s = &Series{Kind: kind, Group: group, Name: name, Order: order}
		series[k] = s
	}
	s.MS = append(s.MS, float64(d.Microseconds())/1000)
}

// Reset forgets the samples of a series, e.g. those of the one-iteration
// probe Go runs before the -benchtime run of a sub-benchmark.
func Reset(kind, group, name string) {
	mu.Lock()
	defer mu.Unlock()
	delete(series, key{kind, group, name})
}

// Flush writes the samples recorded so far to $HIKUBE_BENCH_SAMPLES/<pkg>.json
// and returns the path ("" when the variable is unset or nothing was recorded).
func Flush(pkg string) (string, error) {
	dir := os.Getenv(EnvDir)
	if dir == "" {
		return "", nil
	}
	return Write(dir, pkg)
}

// Write writes the samples recorded so far to dir/<pkg>.json.
func Write(dir, pkg string) (string, error) {
	mu.Lock()
	f := File{Package: pkg, Written: time.Now().UTC(), Load: LoadAverage()}
	for _, s := range series {
		f.Series = append(f.Series, *s)
	}
	mu.Unlock()
	if len(f.Series) == 0 {
		return "", nil
	}
	sort.Slice(f.Series, func(i, j int) bool {
		a, b := f.Series[i], f.Series[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Order != b.Order {
			return a.Order < b.Order
		}
		return a.Name < b.Name
	})
	raw, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return "", fmt.Errorf("encoding the samples of %s: %w", pkg, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	path := filepath.Join(dir, strings.ReplaceAll(pkg, "/", "-")+".json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		return "", fmt.Errorf("writing the samples of %s: %w", pkg, err)
	}
	return path, nil
}

// Read reads a file Write wrote.
func Read(path string) (File, error) {
	var f File
	raw, err := os.ReadFile(path)
	if err != nil {
		return f, fmt.Errorf("reading samples: %w", err)
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return f, fmt.Errorf("decoding samples %s: %w", path, err)
	}
	return f, nil
}

// LoadAverage is the 1-, 5- and 15-minute load averages ("" where unknown).
func LoadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	fields := strings.Fields(string(raw))
	if len(fields) < 3 {
		return ""
	}
	return strings.Join(fields[:3], " ")
}

// ProcessMemory is a process's proportional (PSS) and resident (RSS) memory
// in MB, from /proc/<pid>/smaps_rollup.
func ProcessMemory(pid int) (pss, rss float64, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		kb, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "Pss:":
			pss = kb / 1024
		case "Rss:":
			rss = kb / 1024
		}
	}
	return pss, rss, nil
}

// ProcessCPU is the CPU time (user and system) a process has used so far.
func ProcessCPU(pid int) (time.Duration, error) {
	st, err := procstat.Read(pid)
	if err != nil {
		return 0, err
	}
	return st.CPU(), nil
}
