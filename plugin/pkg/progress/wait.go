// Package progress waits for a cluster to reach a state (Ready at a given
// generation, or gone) and reports what changes on the way, one line per
// change, on the error stream. On timeout it says what exists and what to
// run next.
package progress

import (
	"context"
	"fmt"
	"io"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	typedv1alpha1 "github.com/hikube/hikube/pkg/generated/clientset/versioned/typed/apps/v1alpha1"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
	"github.com/hikube/hikube/plugin/pkg/printers"
)

// For is what to wait for.
type For string

const (
	// Ready: condition Ready=True for the spec generation given (or later).
	Ready For = "ready"
	// Deleted: the cluster is gone.
	Deleted For = "delete"
)

// Interval is how often the cluster is read; short, so a 5 s provisioning is
// seen at once, and cheap (one GET).
var Interval = 500 * time.Millisecond

// Waiter waits on one cluster.
type Waiter struct {
	Client    typedv1alpha1.ClusterInterface
	Name      string
	Namespace string
	Out       io.Writer // progress lines; nil for none
	Now       func() time.Time
}

// IsReady says whether c is Ready for generation gen (0: its own).
func IsReady(c *v1alpha1.Cluster, gen int64) bool {
	if gen == 0 {
		gen = c.Generation
	}
	cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionReady)
	return cond != nil && cond.Status == metav1.ConditionTrue && c.Status.ObservedGeneration >= gen
}

// Wait blocks until the cluster is what f asks, or timeout passes.
func (w *Waiter) Wait(ctx context.Context, f For, gen int64, timeout time.Duration) (*v1alpha1.Cluster, error) {
	now := w.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last *v1alpha1.Cluster
	lastLine := ""
	ticker := time.NewTicker(Interval)
	defer ticker.Stop()
	for {
		c, err := w.Client.Get(ctx, w.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			if f == Deleted {
				w.printf(start, now, "cluster %s/%s deleted", w.Namespace, w.Name)
				return nil, nil
			}
			return nil, err
		case err != nil && ctx.Err() == nil:
			return nil, err
		case err == nil:
			last = c
			if line := printers.Progress(c); line != lastLine {
				w.printf(start, now, "%s", line)
				lastLine = line
			}
			if f == Ready && IsReady(c, gen) {
				return c, nil
			}
			if f == Ready && c.Status.Phase == v1alpha1.ClusterFailed {
				return c, fmt.Errorf("cluster %s/%s failed: %s; see `kubectl hikube status %s -n %s`", w.Namespace, w.Name, readyMessage(c), w.Name, w.Namespace)
			}
		}
		select {
		case <-ctx.Done():
			return last, w.timeoutError(f, last, timeout)
		case <-ticker.C:
		}
	}
}

func (w *Waiter) printf(start time.Time, now func() time.Time, format string, args ...any) {
	if w.Out == nil {
		return
	}
	fmt.Fprintf(w.Out, "[%5.1fs] %s\n", now().Sub(start).Seconds(), fmt.Sprintf(format, args...))
}

func readyMessage(c *v1alpha1.Cluster) string {
	if cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionReady); cond != nil && cond.Message != "" {
		return cond.Reason + ": " + cond.Message
	}
	return "phase " + string(c.Status.Phase)
}

func (w *Waiter) timeoutError(f For, last *v1alpha1.Cluster, timeout time.Duration) error {
	what := v1alpha1.ConditionReady
	if f == Deleted {
		what = "deleted"
	}
	state := "it could not be read"
	if last != nil {
		state = printers.Progress(last) + "; " + readyMessage(last)
	}
	return exitcode.New(exitcode.Timeout, "timed out after %s waiting for cluster %s/%s to be %s: %s; it still exists and keeps converging: run `kubectl hikube status %s -n %s`, or wait longer with `kubectl hikube wait %s -n %s --timeout 10m`",
		timeout, w.Namespace, w.Name, what, state, w.Name, w.Namespace, w.Name, w.Namespace)
}
