package cluster

import (
	"context"
	"errors"
	"time"

	"k8s.io/klog/v2"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/clusterpki"
	"github.com/hikube/hikube/pkg/provider"
)

// state is what the steps of one reconcile share.
type state struct {
	cluster *v1alpha1.Cluster
	ref     clusterpki.ClusterRef
	// status is built by the steps and written once at the end.
	status v1alpha1.ClusterStatus
	pki    clusterpki.PKI
	cp     provider.ControlPlaneStatus
	tenant *tenantClient
	// requeue asks to look again that soon (the smallest asked wins).
	requeue time.Duration
}

func newState(cl *v1alpha1.Cluster) *state {
	return &state{cluster: cl, ref: refOf(cl), status: *cl.Status.DeepCopy()}
}

func refOf(cl *v1alpha1.Cluster) clusterpki.ClusterRef {
	return clusterpki.ClusterRef{Namespace: cl.Namespace, Name: cl.Name, UID: string(cl.UID)}
}

func (s *state) requeueAfter(d time.Duration) {
	if d > 0 && (s.requeue == 0 || d < s.requeue) {
		s.requeue = d
	}
}

// reconcileStatus says whether the steps after this one may run.
type reconcileStatus int

const (
	// reconcileContinue: go on with the next step.
	reconcileContinue reconcileStatus = iota
	// reconcileStop: what follows depends on something not ready yet (the
	// control plane starting, say); the step asked, through the state, to be
	// called again.
	reconcileStop
)

// step is one part of a reconcile: idempotent, with the clients and the
// provider it needs injected, so that it can be tested alone.
type step interface {
	reconcile(ctx context.Context, s *state) (reconcileStatus, error)
}

// namedStep names a step for logs.
type namedStep struct {
	name string
	step step
}

// reconciler runs the steps of one reconcile over a cluster and writes the
// status they built. The Controller wires the live clients into it (New),
// tests wire fakes (newReconciler).
type reconciler struct {
	// steps run in order while the cluster exists.
	steps []namedStep
	// delete runs once the cluster is being deleted.
	delete step
	status *statusWriter
	// resyncReady is when to look again at a cluster no step asked about.
	resyncReady time.Duration
	// addons is the add-ons step, whose workers outlive a reconcile.
	addons *addonsReconciler
	// pki is the PKI step, whose cache outlives a reconcile.
	pki *pkiReconciler
	// writes knows which versions of a cluster its own writes replaced.
	writes *writeTracker
	// staleRetry is how soon to look again at a cluster whose informer copy
	// is older than the controller's last write, should the informer's
	// update event (which requeues it at once) be late.
	staleRetry time.Duration
}

// reconcile runs the steps and writes the status they built; it says when to
// look at the cluster again.
func (r *reconciler) reconcile(ctx context.Context, cl *v1alpha1.Cluster) (time.Duration, error) {
	logger := klog.FromContext(ctx)
	if r.writes.stale(cl) {
		logger.V(4).Info("Waiting for the informer to show the controller's last write", "resourceVersion", cl.ResourceVersion)
		return r.staleRetry, nil
	}
	s := newState(cl)
	steps := r.steps
	if cl.DeletionTimestamp != nil {
		steps = []namedStep{{"delete", r.delete}}
	}
	var stepErr error
	for _, st := range steps {
		began := time.Now()
		status, err := st.step.reconcile(ctx, s)
		if err != nil {
			logger.V(2).Info("Step failed", "step", st.name, "err", err)
			stepErr = err
			break
		}
		// Where a reconcile spends its time, for tracing a slow create.
		logger.V(4).Info("Step done", "step", st.name, "stop", status == reconcileStop, "duration", time.Since(began))
		if status == reconcileStop {
			break
		}
	}
	if s.cluster == nil { // deleted for good: no status to write
		return 0, stepErr
	}
	summarize(s, stepErr)
	if err := r.status.write(ctx, s); err != nil {
		return 0, errors.Join(stepErr, err)
	}
	if stepErr != nil {
		return 0, stepErr
	}
	if s.requeue == 0 || s.requeue > r.resyncReady {
		s.requeue = r.resyncReady
	}
	return s.requeue, nil
}
