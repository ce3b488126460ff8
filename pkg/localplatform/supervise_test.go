package localplatform

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hikube/hikube/pkg/process"
)

func TestSupervisorRestartsAnExitedProcessWithBackoffAndSaysWhy(t *testing.T) {
	var log bytes.Buffer
	p := &Platform{opts: Options{Log: &log}, home: t.TempDir(), bin: "/bin", procs: map[string]*process.Process{}, specs: map[string]launchSpec{}}
	if _, err := p.launchBinary("flaky", "sh", []string{"-c", "exit 3"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	waitExited := func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !p.proc("flaky").Exited() {
			if time.Now().After(deadline) {
				t.Fatal("sh -c 'exit 3' did not exit")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitExited()
	first := p.proc("flaky")

	var s supervisor
	s.restarts, s.next = map[string]int{}, map[string]time.Time{}
	now := time.Now()
	s.round(p, now)
	if p.proc("flaky") == first {
		t.Fatal("the exited process was not restarted")
	}
	if !strings.Contains(log.String(), "supervisor: flaky exited (exit status 3); restarted it (restart 1, log ") {
		t.Errorf("log does not say why:\n%s", log.String())
	}
	waitExited()
	second := p.proc("flaky")
	s.round(p, now.Add(500*time.Millisecond)) // within the 1 s back-off
	if p.proc("flaky") != second {
		t.Error("restarted again before its back-off passed")
	}
	s.round(p, now.Add(1100*time.Millisecond))
	if p.proc("flaky") == second || s.restarts["flaky"] != 2 {
		t.Errorf("not restarted after its back-off (restarts %d)", s.restarts["flaky"])
	}
	s.stop()
	waitExited()
	s.round(p, now.Add(time.Hour))
	if s.restarts["flaky"] != 2 {
		t.Error("restarted after the supervisor stopped")
	}
}
