// Package authzretry asks the host's authorization again when the answer
// did not come for a reason that passes.
//
// hikube-apiserver delegates authorization to the host kube-apiserver with a
// SubjectAccessReview per request (cached for seconds). The delegated webhook
// retries what the host answers with a retriable status, but not a review
// that ran out of its client timeout: on a loaded host that becomes a 500 for
// the tenant, which no client retries. This authorizer tries again, with
// backoff, while the tenant's request still has time. It never turns an error
// into a decision: what still fails after the last attempt stays an error.
package authzretry

import (
	"context"
	"errors"
	"net"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/klog/v2"
)

// DefaultBackoff waits 200 ms, then 400 ms: three attempts in all.
var DefaultBackoff = wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Jitter: 0.2, Steps: 3}

type retrying struct {
	delegate authorizer.Authorizer
	backoff  wait.Backoff
}

// New wraps delegate; backoff.Steps is the number of attempts.
func New(delegate authorizer.Authorizer, backoff wait.Backoff) authorizer.Authorizer {
	return &retrying{delegate: delegate, backoff: backoff}
}

func (r *retrying) Authorize(ctx context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	b := r.backoff // Step counts b.Steps down
	for attempt := 1; ; attempt++ {
		decision, reason, err := r.delegate.Authorize(ctx, a)
		if err == nil || decision == authorizer.DecisionAllow || attempt >= r.backoff.Steps || ctx.Err() != nil || !Transient(err) {
			return decision, reason, err
		}
		wait := b.Step()
		klog.FromContext(ctx).V(2).Info("Authorization failed for a passing reason; asking again",
			"user", a.GetUser().GetName(), "verb", a.GetVerb(), "resource", a.GetResource(), "attempt", attempt, "after", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return decision, reason, err
		case <-t.C:
		}
	}
}

// ConditionsAwareAuthorize: the delegated authorizer is not conditions-aware,
// and neither is this one.
func (r *retrying) ConditionsAwareAuthorize(ctx context.Context, a authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(r.Authorize(ctx, a))
}

// EvaluateConditions fails closed, as an authorizer without conditions must.
func (*retrying) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

// Transient reports whether err is one that asking again can cure: the
// review ran out of its own time, the connection broke, or the host said it
// was busy or failed inside.
func Transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || utilnet.IsConnectionReset(err) || utilnet.IsConnectionRefused(err) ||
		utilnet.IsProbableEOF(err) || utilnet.IsHTTP2ConnectionLost(err) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err)
}
