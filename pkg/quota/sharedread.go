package quota

import (
	"context"
	"sync"
)

// sharedReads lets concurrent requests share one live read of a key (a
// namespace's ResourceQuotas) without reading anything older than their own
// arrival: a request only takes the result of a read that started after it
// arrived. A read that started earlier may miss what was written just before
// the request (a quota whose create returned a moment ago), so a request that
// finds one running waits for it to end and then starts, or joins, a newer
// one. A burst of requests into one namespace therefore costs two reads in a
// row, not one per request, and each still sees every quota created before it
// arrived.
type sharedReads[T any] struct {
	read func(ctx context.Context, key string) (T, error)

	mu     sync.Mutex
	seq    uint64
	latest map[string]*flight[T]
}

type flight[T any] struct {
	started uint64 // the sequence number when the read began
	done    chan struct{}
	val     T
	err     error
}

func newSharedReads[T any](read func(ctx context.Context, key string) (T, error)) *sharedReads[T] {
	return &sharedReads[T]{read: read, latest: map[string]*flight[T]{}}
}

// get returns the result of a read of key that started after the call.
func (s *sharedReads[T]) get(ctx context.Context, key string) (T, error) {
	s.mu.Lock()
	s.seq++
	arrived := s.seq
	for {
		f := s.latest[key]
		if f != nil && f.started > arrived {
			s.mu.Unlock()
			return f.wait(ctx)
		}
		if f != nil && !f.finished() {
			// Too old for this request; once it ends, a newer one is started
			// (by this request or by another that arrived before it ended).
			s.mu.Unlock()
			if _, err := f.wait(ctx); ctx.Err() != nil {
				var zero T
				return zero, err
			}
			s.mu.Lock()
			continue
		}
		s.seq++
		f = &flight[T]{started: s.seq, done: make(chan struct{})}
		s.latest[key] = f
		s.mu.Unlock()
		// The read must not end with the first caller's request: others wait on it.
		f.val, f.err = s.read(context.WithoutCancel(ctx), key)
		close(f.done)
		s.mu.Lock()
		if s.latest[key] == f && len(s.latest) > 1024 {
			delete(s.latest, key) // keep the map to the namespaces being written
		}
		s.mu.Unlock()
		return f.val, f.err
	}
}

func (f *flight[T]) finished() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

func (f *flight[T]) wait(ctx context.Context) (T, error) {
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
