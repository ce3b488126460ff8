package quota

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// QuotaLookupTTL is how long the answer of a live lookup of a namespace's
// ResourceQuotas is reused when the informer knows none there: 30 s, like
// Kubernetes' own quota admission (liveTTL of its quotaAccessor).
const QuotaLookupTTL = 30 * time.Second

// maxLookups bounds the namespaces whose lookup is remembered; past it the
// expired answers go, then the oldest.
const maxLookups = 1024

// quotaLookups remembers, per namespace, a live lookup of its ResourceQuotas
// for a TTL. It only answers "is there any quota here?" for namespaces the
// informer shows none in: a tenant without quota then costs no read per
// create, while the informer catches a quota created later within its lag.
// Concurrent requests for a namespace whose answer is missing or expired
// share one read; a failed read is not remembered.
type quotaLookups struct {
	read func(ctx context.Context, ns string) ([]corev1.ResourceQuota, error)
	ttl  time.Duration
	now  func() time.Time

	mu      sync.Mutex
	entries map[string]*lookup
}

type lookup struct {
	done    chan struct{}
	expires time.Time // set before done is closed
	quotas  []corev1.ResourceQuota
	err     error
}

func newQuotaLookups(read func(context.Context, string) ([]corev1.ResourceQuota, error), ttl time.Duration) *quotaLookups {
	return &quotaLookups{read: read, ttl: ttl, now: time.Now, entries: map[string]*lookup{}}
}

// get returns the quotas of ns as last looked up, looking up again when the
// answer is missing, failed or older than the TTL. Callers must not change
// what it returns.
func (l *quotaLookups) get(ctx context.Context, ns string) ([]corev1.ResourceQuota, error) {
	l.mu.Lock()
	e := l.entries[ns]
	if e == nil || (e.finished() && (e.err != nil || !l.now().Before(e.expires))) {
		e = &lookup{done: make(chan struct{})}
		l.entries[ns] = e
		l.prune(ns)
		l.mu.Unlock()
		// Others may wait on this read: it must not end with this request.
		e.quotas, e.err = l.read(context.WithoutCancel(ctx), ns)
		e.expires = l.now().Add(l.ttl)
		close(e.done)
		return e.quotas, e.err
	}
	l.mu.Unlock()
	select {
	case <-e.done:
		return e.quotas, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// prune keeps the map under maxLookups (keep is the entry just added).
// Called with mu held.
func (l *quotaLookups) prune(keep string) {
	if len(l.entries) <= maxLookups {
		return
	}
	now := l.now()
	var oldest string
	var oldestAt time.Time
	for ns, e := range l.entries {
		if ns == keep || !e.finished() {
			continue
		}
		if !now.Before(e.expires) || e.err != nil {
			delete(l.entries, ns)
			continue
		}
		if oldest == "" || e.expires.Before(oldestAt) {
			oldest, oldestAt = ns, e.expires
		}
	}
	if len(l.entries) > maxLookups && oldest != "" {
		delete(l.entries, oldest)
	}
}

func (e *lookup) finished() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}
