package process

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func sh(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("these tests run real processes through sh: %v", err)
	}
	return path
}

// start runs script with sh and makes sure it is gone when the test ends.
func start(t *testing.T, name, script string, detached bool) *Process {
	t.Helper()
	p, err := Start(Options{
		Name: name, Binary: sh(t), Args: []string{"-c", script},
		LogPath: filepath.Join(t.TempDir(), "logs", name+".log"), Detached: detached,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Kill(p) })
	return p
}

// statFields returns the fields of /proc/<pid>/stat after the command name:
// [0] is the state, [1] the parent, [2] the process group, [3] the session.
func statFields(pid int) []string {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil
	}
	return strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
}

// gone reports whether pid has ended: no such process, or a zombie nobody
// reaped yet (an orphan's new parent may be slow to, or never, reap it).
func gone(pid int) bool {
	f := statFields(pid)
	return f == nil || f[0] == "Z"
}

func TestStartLogsABannerAndTheOutputAndQuotesTheLogOnExit(t *testing.T) {
	p := start(t, "failing", "echo to-stdout; echo fatal: cannot open data dir >&2; exit 3", false)
	<-p.Done()
	if !p.Exited() {
		t.Fatal("Exited is false after Done")
	}
	var exit *exec.ExitError
	if err := p.Err(); !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("Err = %v, want exit status 3", err)
	}
	log, err := os.ReadFile(p.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"===== ", " starting " + sh(t) + " -c echo to-stdout", "to-stdout\n", "fatal: cannot open data dir\n"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	msg := p.ExitError().Error()
	for _, want := range []string{"failing exit status 3", p.LogPath(), "fatal: cannot open data dir"} {
		if !strings.Contains(msg, want) {
			t.Errorf("ExitError %q lacks %q", msg, want)
		}
	}
}

func TestStartAppendsToTheLogOfAnEarlierRun(t *testing.T) {
	log := filepath.Join(t.TempDir(), "p.log")
	for _, word := range []string{"first", "second"} {
		p, err := Start(Options{Name: "p", Binary: sh(t), Args: []string{"-c", "echo " + word}, LogPath: log})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Err(); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(log)
	if strings.Count(string(data), "=====") != 2 || !strings.Contains(string(data), "first\n") || !strings.Contains(string(data), "second\n") {
		t.Errorf("log:\n%s", data)
	}
}

func TestStartRefusesAMissingBinary(t *testing.T) {
	_, err := Start(Options{Name: "etcd", Binary: filepath.Join(t.TempDir(), "etcd"), LogPath: filepath.Join(t.TempDir(), "etcd.log")})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "starting etcd") {
		t.Fatalf("err = %v, want a not-exist error naming the process", err)
	}
}

func TestStartRunsInTheDirectory(t *testing.T) {
	dir := t.TempDir()
	p, err := Start(Options{Name: "pwd", Binary: sh(t), Args: []string{"-c", "pwd"}, LogPath: filepath.Join(dir, "pwd.log"), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p.LogPath())
	if !strings.HasSuffix(string(data), "\n"+dir+"\n") {
		t.Errorf("log %q does not end with the working directory %s", data, dir)
	}
}

func TestAChildLeadsItsGroupAndADetachedOneItsSession(t *testing.T) {
	child := start(t, "child", "sleep 60", false)
	detached := start(t, "detached", "sleep 60", true)
	self := statFields(os.Getpid())
	for _, tc := range []struct {
		p           *Process
		wantSession bool
	}{{child, false}, {detached, true}} {
		f := statFields(tc.p.PID())
		if f == nil {
			t.Fatalf("%s: no /proc entry", tc.p)
		}
		pid := strconv.Itoa(tc.p.PID())
		if f[2] != pid {
			t.Errorf("%s: process group %s, want its own", tc.p, f[2])
		}
		if leads := f[3] == pid; leads != tc.wantSession {
			t.Errorf("%s: session %s (ours %s), want leader=%v", tc.p, f[3], self[3], tc.wantSession)
		}
	}
}

func TestStopEndsAProcessThatHonoursSIGTERMWithoutWaitingOutTheGrace(t *testing.T) {
	p := start(t, "polite", "sleep 60", false)
	grace := time.Minute
	began := time.Now()
	if err := Stop(grace, p); err != nil {
		t.Fatal(err)
	}
	if !p.Exited() {
		t.Fatal("the process runs after Stop")
	}
	if took := time.Since(began); took >= grace {
		t.Errorf("Stop took %s: it waited out the grace period", took)
	}
	var exit *exec.ExitError
	if err := p.Err(); !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Errorf("Err = %v, want an end by SIGTERM", err)
	}
}

func TestStopKillsTheWholeGroupOfAProcessThatIgnoresSIGTERM(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "grandchild")
	// The shell and the sleep it starts both ignore SIGTERM (an ignored
	// signal stays ignored across exec).
	p := start(t, "stubborn", `trap "" TERM; sleep 60 & echo $! > `+pidFile+`; wait`, false)
	var grandchild int
	if !WaitExited(10*time.Second, handleFunc(func() bool {
		data, err := os.ReadFile(pidFile)
		grandchild, _ = strconv.Atoi(strings.TrimSpace(string(data)))
		return err == nil && grandchild > 0
	})) {
		t.Fatal("the script did not record its child")
	}
	if err := Stop(100*time.Millisecond, p); err != nil {
		t.Fatal(err)
	}
	var exit *exec.ExitError
	if err := p.Err(); !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("Err = %v, want an end by SIGKILL", err)
	}
	if !WaitExited(KillWait, handleFunc(func() bool { return gone(grandchild) })) {
		t.Errorf("the process's own child (pid %d) survived", grandchild)
	}
}

func TestStopOfSeveralWaitsForAllAndIgnoresTheEnded(t *testing.T) {
	ended := start(t, "ended", "exit 0", false)
	<-ended.Done()
	a := start(t, "a", "sleep 60", false)
	b := start(t, "b", `trap "" TERM; while :; do sleep 1; done`, false)
	if err := Stop(200*time.Millisecond, ended, a, b); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Process{ended, a, b} {
		if !p.Exited() {
			t.Errorf("%s runs after Stop", p)
		}
	}
	if err := ended.Err(); err != nil {
		t.Errorf("the process that had ended by itself: Err = %v", err)
	}
	// Stopping again is a no-op.
	if err := Stop(time.Second, ended, a, b); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestKillEndsAndWaits(t *testing.T) {
	p := start(t, "victim", `trap "" TERM; sleep 60`, true)
	if err := Kill(p); err != nil {
		t.Fatal(err)
	}
	if !p.Exited() {
		t.Fatal("the process runs after Kill")
	}
}

func TestWaitExitedTimesOutOnARunningProcess(t *testing.T) {
	p := start(t, "running", "sleep 60", false)
	if WaitExited(50*time.Millisecond, p) {
		t.Fatal("WaitExited reports a running process as ended")
	}
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !WaitExited(KillWait, p) {
		t.Fatal("WaitExited does not see the end")
	}
	// Signalling an ended process does nothing: its pid may be reused.
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Errorf("Signal after the end: %v", err)
	}
}

func TestKillReportsHandlesThatDoNotEnd(t *testing.T) {
	err := killWithin(100*time.Millisecond, handleFunc(func() bool { return false }))
	if err == nil || !strings.Contains(err.Error(), "still alive") {
		t.Fatalf("Kill of an undying handle = %v", err)
	}
}

func TestTailKeepsTheLastLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	var b strings.Builder
	for i := range 30 {
		b.WriteString("line " + strconv.Itoa(i) + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := Tail(path, 2); got != "line 28\nline 29" {
		t.Errorf("Tail = %q", got)
	}
	if got := Tail(filepath.Join(t.TempDir(), "missing"), 2); !strings.Contains(got, "cannot read log") {
		t.Errorf("Tail of a missing file = %q", got)
	}
}

// handleFunc is a Handle whose end is decided by a function; it ignores
// signals.
type handleFunc func() bool

func (f handleFunc) Signal(syscall.Signal) error { return nil }
func (f handleFunc) Exited() bool                { return f() }
func (f handleFunc) String() string              { return "handleFunc" }
