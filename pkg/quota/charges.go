package quota

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
)

// Charge is what one admission added to one usage record: a tenant's
// ResourceQuota (Quota names it) or, with Quota "", the platform's GPU usage.
type Charge struct {
	Namespace string
	Quota     string
	Delta     corev1.ResourceList
}

// Charges collects the charges admission made for one request, attempt by
// attempt: the storage layer may run admission more than once for one update
// (it retries on a conflict with another writer), and only the last
// attempt's charges stand when the write succeeds. The registry reads them
// after the write to give back what did not land (pkg/registry).
type Charges struct {
	mu       sync.Mutex
	attempts [][]Charge
}

type chargesKey struct{}

// WithCharges returns a context that collects the charges admission makes
// under it.
func WithCharges(ctx context.Context) (context.Context, *Charges) {
	c := &Charges{}
	return context.WithValue(ctx, chargesKey{}, c), c
}

func chargesFrom(ctx context.Context) *Charges {
	c, _ := ctx.Value(chargesKey{}).(*Charges)
	return c
}

// add records the charges of one admission attempt.
func (c *Charges) add(attempt []Charge) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.attempts = append(c.attempts, attempt)
}

// All returns every charge (what a failed write gives back).
func (c *Charges) All() []Charge {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Charge
	for _, a := range c.attempts {
		out = append(out, a...)
	}
	return out
}

// Superseded returns the charges of every attempt but the last (what a
// successful write gives back).
func (c *Charges) Superseded() []Charge {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Charge
	for i := 0; i+1 < len(c.attempts); i++ {
		out = append(out, c.attempts[i]...)
	}
	return out
}
