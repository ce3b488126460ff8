// Package workers runs the add-ons' Helm work off the reconcile path: one
// worker per (cluster, add-on), one job at a time, each with a deadline. A
// reconcile submits what it wants and reads the outcome of the last job; the
// worker tells it when a job ends.
package workers

import (
	"context"
	"sync"
	"time"
)

// Key names a worker.
type Key struct {
	// Cluster is the cluster's UID, Name its namespace/name (to requeue it),
	// Addon the spec key.
	Cluster, Name, Addon string
}

// Job does the Helm work for an intent and returns its outcome.
type Job[O any] func(ctx context.Context) O

// Outcome is the last finished job of a worker.
type Outcome[O any] struct {
	// Intent is what the job was submitted for (a hash of the spec).
	Intent string
	Value  O
	Done   time.Time
}

type worker[O any] struct {
	running string // intent of the job under way, "" when idle
	last    *Outcome[O]
}

// Pool holds the workers.
type Pool[O any] struct {
	ctx      context.Context
	deadline time.Duration
	// notify is called with the key after each job, to requeue the cluster.
	notify func(Key)

	mu      sync.Mutex
	workers map[Key]*worker[O]
	wg      sync.WaitGroup
}

// New returns a pool whose jobs end with ctx and last at most deadline.
func New[O any](ctx context.Context, deadline time.Duration, notify func(Key)) *Pool[O] {
	return &Pool[O]{ctx: ctx, deadline: deadline, notify: notify, workers: map[Key]*worker[O]{}}
}

// Ensure starts job for intent unless the worker is busy, or its last
// outcome is for the same intent and younger than maxAge. It returns the
// last outcome (nil before the first) and whether a job is under way.
func (p *Pool[O]) Ensure(k Key, intent string, maxAge time.Duration, job Job[O]) (*Outcome[O], bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w, ok := p.workers[k]
	if !ok {
		w = &worker[O]{}
		p.workers[k] = w
	}
	if w.running != "" {
		return w.last, true
	}
	if w.last != nil && w.last.Intent == intent && time.Since(w.last.Done) < maxAge {
		return w.last, false
	}
	w.running = intent
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ctx, cancel := context.WithTimeout(p.ctx, p.deadline)
		v := job(ctx)
		cancel()
		p.mu.Lock()
		w.last = &Outcome[O]{Intent: intent, Value: v, Done: time.Now()}
		w.running = ""
		p.mu.Unlock()
		if p.notify != nil {
			p.notify(k)
		}
	}()
	return w.last, true
}

// Known says whether the worker ran or runs a job.
func (p *Pool[O]) Known(k Key) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	w, ok := p.workers[k]
	return ok && (w.running != "" || w.last != nil)
}

// Forget drops the idle workers of every cluster named namespace/name once
// it is gone; a job under way finishes on its own.
func (p *Pool[O]) Forget(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, w := range p.workers {
		if k.Name == name && w.running == "" {
			delete(p.workers, k)
		}
	}
}

// Wait waits for the jobs under way (tests, shutdown).
func (p *Pool[O]) Wait() { p.wg.Wait() }
