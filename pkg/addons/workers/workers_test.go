package workers

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestOneJobAtATimeAndOutcomeReuse(t *testing.T) {
	notified := make(chan Key, 10)
	p := New[string](context.Background(), time.Minute, func(k Key) { notified <- k })
	k := Key{Cluster: "uid", Name: "t/c", Addon: "velero"}
	release := make(chan struct{})
	var runs atomic.Int32
	job := func(string) Job[string] {
		return func(context.Context) string { runs.Add(1); <-release; return "done" }
	}
	if last, running := p.Ensure(k, "a", time.Hour, job("a")); last != nil || !running {
		t.Fatalf("first Ensure = %v, %v; want a job started", last, running)
	}
	if _, running := p.Ensure(k, "b", time.Hour, job("b")); !running {
		t.Fatal("second Ensure while busy: not running")
	}
	close(release)
	if got := <-notified; got != k {
		t.Fatalf("notified %v", got)
	}
	last, running := p.Ensure(k, "a", time.Hour, job("a"))
	if running || last == nil || last.Intent != "a" || last.Value != "done" {
		t.Fatalf("after the job: %+v, running %v; want outcome a reused", last, running)
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("%d jobs ran, want 1 (no job while busy, none for the same intent)", n)
	}
	// Another intent starts a job.
	if _, running := p.Ensure(k, "b", time.Hour, job("b")); !running {
		t.Fatal("a new intent did not start a job")
	}
	<-notified
	p.Wait()
}

func TestJobsHaveADeadline(t *testing.T) {
	done := make(chan error, 1)
	p := New[string](context.Background(), 10*time.Millisecond, nil)
	p.Ensure(Key{"c", "t/c", "a"}, "x", time.Hour, func(ctx context.Context) string {
		<-ctx.Done()
		done <- ctx.Err()
		return ""
	})
	if err := <-done; err != context.DeadlineExceeded {
		t.Fatalf("job context ended with %v, want the deadline", err)
	}
	p.Wait()
}
