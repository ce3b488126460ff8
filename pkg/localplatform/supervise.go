package localplatform

import (
	"sync"
	"time"

	"github.com/hikube/hikube/pkg/process"
)

// launchSpec is how a process was started, so that the supervisor can start
// it again the same way.
type launchSpec struct {
	binary string
	args   []string
}

const (
	superviseInterval = 500 * time.Millisecond
	restartBackoffMax = 30 * time.Second
)

// supervisor restarts the platform's processes that exit, as a kubelet
// restarts a container: at once the first time, then with a doubling
// back-off up to restartBackoffMax, each restart logged with the exit that
// caused it. The tenant control planes are hikube-controller's to restart.
type supervisor struct {
	// mu is held for a whole round of restarts, and by stop, so that once
	// stop returns no restart is under way or will begin.
	mu       sync.Mutex
	stopped  bool
	done     chan struct{}
	wg       sync.WaitGroup
	restarts map[string]int
	next     map[string]time.Time
}

func (s *supervisor) start(p *Platform) {
	s.done = make(chan struct{})
	s.restarts = map[string]int{}
	s.next = map[string]time.Time{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ticker := time.NewTicker(superviseInterval)
		defer ticker.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-ticker.C:
				s.round(p, time.Now())
			}
		}
	}()
}

// round restarts every process that has exited and whose back-off passed.
func (s *supervisor) round(p *Platform, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	p.mu.Lock()
	type dead struct {
		name string
		spec launchSpec
		err  string
	}
	var exited []dead
	for _, name := range p.order {
		if proc := p.procs[name]; proc != nil && proc.Exited() {
			exited = append(exited, dead{name, p.specs[name], exitReason(proc)})
		}
	}
	p.mu.Unlock()
	for _, d := range exited {
		if now.Before(s.next[d.name]) {
			continue
		}
		s.restarts[d.name]++
		n := s.restarts[d.name]
		backoff := time.Second << min(n-1, 5)
		s.next[d.name] = now.Add(min(backoff, restartBackoffMax))
		if _, err := p.launchBinary(d.name, d.spec.binary, d.spec.args); err != nil {
			p.logf("supervisor: %s %s; restart %d failed: %v (next try in %s)", d.name, d.err, n, err, backoff)
			continue
		}
		p.logf("supervisor: %s %s; restarted it (restart %d, log %s)", d.name, d.err, n, p.LogPath(d.name))
	}
}

// stop ends supervision; safe to call when it never started.
func (s *supervisor) stop() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	if s.done != nil {
		close(s.done)
		s.done = nil
		s.wg.Wait()
	}
}

// exitReason says in a few words how a process ended.
func exitReason(proc *process.Process) string {
	if err := proc.Err(); err != nil {
		return "exited (" + err.Error() + ")"
	}
	return "exited (status 0)"
}
