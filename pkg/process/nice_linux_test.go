package process

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// niceOf is field 19 of /proc/<pid>/task/<tid>/stat.
func niceOf(t *testing.T, pid, tid int) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "task", strconv.Itoa(tid), "stat"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndexByte(string(data), ')')
	fields := strings.Fields(string(data[i+1:]))
	// fields[0] is field 3 (state), so field 19 is fields[16].
	n, err := strconv.Atoi(fields[16])
	if err != nil {
		t.Fatalf("nice in %q: %v", data, err)
	}
	return n
}

// threads lists the thread ids of pid.
func threads(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "task"))
	if err != nil {
		t.Fatal(err)
	}
	var tids []int
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		if err == nil {
			tids = append(tids, tid)
		}
	}
	return tids
}

func TestANicedChildRunsAtItsPriorityAndWeKeepOurs(t *testing.T) {
	self := os.Getpid()
	before := map[int]int{}
	for _, tid := range threads(t, self) {
		before[tid] = niceOf(t, self, tid)
	}
	p, err := Start(Options{
		Name: "niced", Binary: sh(t), Args: []string{"-c", "sleep 30"},
		LogPath: filepath.Join(t.TempDir(), "niced.log"), Detached: true, Nice: 7,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Kill(p) })
	if err := p.PriorityErr(); err != nil {
		t.Errorf("PriorityErr: %v", err)
	}
	if got := niceOf(t, p.PID(), p.PID()); got != 7 {
		t.Errorf("child runs at nice %d, want 7", got)
	}
	// With autogroup scheduling the child's session group is lowered too.
	if data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.PID()), "autogroup")); err == nil {
		if !strings.Contains(string(data), "nice 7") {
			t.Errorf("child's autogroup is %q, want nice 7", strings.TrimSpace(string(data)))
		}
	}
	// The thread that forked is thrown away (its end may take a moment):
	// then none of ours runs lower than it did. The main thread is the one
	// exception: when the fork ran there, the runtime parks it for good
	// instead of ending it, and no goroutine runs on it again.
	var lowered []int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		lowered = lowered[:0]
		for _, tid := range threads(t, self) {
			if got := niceOf(t, self, tid); got > before[tid] && tid != self {
				lowered = append(lowered, tid)
			}
		}
		if len(lowered) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(lowered) > 0 {
		t.Errorf("our threads %v run at a lower priority after the start", lowered)
	}
}

func TestNiceIsOnlyForDetachedChildren(t *testing.T) {
	for _, o := range []Options{
		{Name: "attached", Nice: 5},
		{Name: "too-low", Nice: 20, Detached: true},
		{Name: "negative", Nice: -1, Detached: true},
	} {
		o.Binary, o.Args, o.LogPath = sh(t), []string{"-c", "true"}, filepath.Join(t.TempDir(), o.Name+".log")
		if p, err := Start(o); err == nil {
			_ = Kill(p)
			t.Errorf("%s: Start accepted nice %d (detached %v)", o.Name, o.Nice, o.Detached)
		}
	}
}

// An attached child dies with the thread that forked it (parent-death
// signal); niced starts end threads of ours, and none of them may be that
// one.
func TestAnAttachedChildOutlivesNicedStarts(t *testing.T) {
	attached := start(t, "attached", "sleep 30", false)
	var niced []*Process
	for i := range 20 {
		p, err := Start(Options{
			Name: "niced", Binary: sh(t), Args: []string{"-c", "sleep 30"},
			LogPath: filepath.Join(t.TempDir(), strconv.Itoa(i)+".log"), Detached: true, Nice: 5,
		})
		if err != nil {
			t.Fatal(err)
		}
		niced = append(niced, p)
	}
	t.Cleanup(func() {
		for _, p := range niced {
			_ = Kill(p)
		}
	})
	time.Sleep(200 * time.Millisecond)
	if attached.Exited() {
		t.Fatalf("the attached child ended: %v", attached.Err())
	}
}
