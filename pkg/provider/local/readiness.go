package local

import (
	"context"
	"maps"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/hikube/hikube/pkg/provider"
)

// A kube-apiserver takes a second or more to answer /readyz after it starts.
// EnsureControlPlane never waits for it; instead a readiness watch probes the
// starting replicas and tells the core (provider.ChangeNotifier) the moment
// each one is ready, so the core's next round finds it without polling at
// its own pace. The probes start a few milliseconds apart and back off, so
// the many refused connections of the first second cost nothing much.
const (
	readyProbeFirst = 5 * time.Millisecond
	readyProbeMax   = 100 * time.Millisecond
	// readyWatchLimit ends a watch whose replica never gets ready (a bad
	// flag, a crash loop): the core's own resync covers it from there.
	readyWatchLimit = 2 * time.Minute
)

// readyWatches are the running readiness watches, by cluster directory.
type readyWatches struct {
	mu      sync.Mutex
	notify  func(provider.ClusterRef)
	running map[string]*readyWatch
}

// readyWatch is one cluster's watch; pending (guarded by readyWatches.mu)
// holds the replicas it still waits for, by the process it waits on.
type readyWatch struct {
	cancel  context.CancelFunc
	pending map[int]procRecord
}

var _ provider.ChangeNotifier = (*Provider)(nil)

// NotifyChanges makes the provider call fn when a kube-apiserver replica it
// started answers /readyz.
func (p *Provider) NotifyChanges(fn func(provider.ClusterRef)) {
	p.watches.mu.Lock()
	defer p.watches.mu.Unlock()
	p.watches.notify = fn
}

// watchReadiness starts a watch over the replicas in pending (replica →
// record) unless one runs for the cluster already.
func (p *Provider) watchReadiness(c provider.ClusterRef, dir string, admin *rest.Config, ports []int, pending map[int]procRecord) {
	w := &p.watches
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.notify == nil || len(pending) == 0 || w.running[dir] != nil {
		return
	}
	if w.running == nil {
		w.running = map[string]*readyWatch{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyWatchLimit)
	me := &readyWatch{cancel: cancel, pending: maps.Clone(pending)}
	w.running[dir] = me
	notify := w.notify
	go func() {
		defer func() {
			w.mu.Lock()
			if w.running[dir] == me {
				delete(w.running, dir)
			}
			w.mu.Unlock()
			cancel()
		}()
		delay := readyProbeFirst
		for {
			w.mu.Lock()
			left := maps.Clone(me.pending)
			w.mu.Unlock()
			if len(left) == 0 {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			delay = min(delay*3/2, readyProbeMax)
			for i, rec := range left {
				news := i >= len(ports)
				if !news {
					_, err := get(ctx, admin, ports[i], readyzPath(files{dir: dir}, rec.Binary))
					// Ready, or dead: either way news for the core.
					news = err == nil || !alive(rec)
				}
				if news {
					w.mu.Lock()
					delete(me.pending, i)
					w.mu.Unlock()
					notify(c)
				}
			}
		}
	}()
}

// awaited are the replicas of a cluster directory that a running watch
// still waits for, with the process it waits on. A round need not probe
// such a replica itself: it is not ready yet, and the watch tells the core
// the moment it is. A starting kube-apiserver listens before it serves, so
// a probe of one would hang until its timeout.
func (p *Provider) awaited(dir string) map[int]procRecord {
	p.watches.mu.Lock()
	defer p.watches.mu.Unlock()
	if rw := p.watches.running[dir]; rw != nil {
		return maps.Clone(rw.pending)
	}
	return nil
}

// stopWatch ends the readiness watch of a cluster directory, if any.
func (p *Provider) stopWatch(dir string) {
	p.watches.mu.Lock()
	defer p.watches.mu.Unlock()
	if rw := p.watches.running[dir]; rw != nil {
		rw.cancel()
		delete(p.watches.running, dir)
	}
}
