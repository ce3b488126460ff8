package cluster

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/provider"
)

// state is what the steps of one reconcile share.
type state struct {
	cluster *v1alpha1.Cluster
	ref     provider.ClusterRef
	// status is built by the steps and written once at the end.
	status v1alpha1.ClusterStatus
	pki    provider.PKI
	cp     provider.ControlPlaneStatus
	tenant *tenantClient
	// requeue asks to look again that soon (the smallest asked wins).
	requeue time.Duration
}

func (s *state) requeueAfter(d time.Duration) {
	if d > 0 && (s.requeue == 0 || d < s.requeue) {
		s.requeue = d
	}
}

// errStop ends the steps of a reconcile early without an error: a step is
// waiting for something (the control plane to start, say) and asked to be
// called again.
var errStop = errors.New("waiting")

// step is one part of a reconcile, in the order of createSteps.
type step struct {
	name string
	run  func(ctx context.Context, s *state) error
}

// createSteps are run in order while the cluster exists; each is idempotent
// and may stop the sequence with errStop when what follows depends on
// something not ready yet.
func (c *Controller) createSteps() []step {
	return []step{
		{"finalizer", c.ensureFinalizer},
		{"pki", c.ensurePKI},
		{"control plane", c.ensureControlPlane},
		{"tenant bootstrap", c.ensureTenantBootstrap},
		{"node groups", c.ensureNodeGroups},
		{"add-ons", c.ensureAddons},
	}
}

// reconcile runs the steps and writes the status they built.
func (c *Controller) reconcile(ctx context.Context, cl *v1alpha1.Cluster) (time.Duration, error) {
	s := &state{cluster: cl, ref: refOf(cl), status: *cl.Status.DeepCopy()}
	var stepErr error
	if cl.DeletionTimestamp != nil {
		stepErr = c.reconcileDelete(ctx, s)
	} else {
		for _, st := range c.createSteps() {
			if err := st.run(ctx, s); err != nil {
				if !errors.Is(err, errStop) {
					klog.FromContext(ctx).V(2).Info("Step failed", "step", st.name, "err", err)
					stepErr = err
				}
				break
			}
		}
	}
	if s.cluster == nil { // deleted for good: no status to write
		return 0, stepErr
	}
	c.summarize(s, stepErr)
	if err := c.writeStatus(ctx, s); err != nil {
		return 0, errors.Join(stepErr, err)
	}
	if stepErr != nil {
		return 0, stepErr
	}
	if s.requeue == 0 {
		s.requeue = c.opts.ResyncReady
	}
	return s.requeue, nil
}

// writeStatus writes the status through clusters/status when it changed,
// with an event for each phase transition.
func (c *Controller) writeStatus(ctx context.Context, s *state) error {
	if apiequality.Semantic.DeepEqual(s.cluster.Status, s.status) {
		return nil
	}
	old := s.cluster.Status.Phase
	upd := s.cluster.DeepCopy()
	upd.Status = s.status
	_, err := c.hikube.AppsV1alpha1().Clusters(upd.Namespace).UpdateStatus(ctx, upd, metaUpdateOptions)
	if err != nil {
		return err
	}
	if old != s.status.Phase {
		c.recorder.Eventf(s.cluster, "Normal", "Phase"+string(s.status.Phase), "Phase %s → %s", phaseOrNone(old), s.status.Phase)
	}
	c.conditionEvents(s.cluster, s.cluster.Status.Conditions, s.status.Conditions)
	return nil
}

// conditionEvents records an event for every condition that changed status
// or reason, so `kubectl describe` tells the story (a control-plane process
// that died and came back, nodes that joined).
func (c *Controller) conditionEvents(obj runtime.Object, before, after []metav1.Condition) {
	for _, cond := range after {
		if cond.Type == v1alpha1.ConditionReady {
			continue // the phase events say it
		}
		old := meta.FindStatusCondition(before, cond.Type)
		if old != nil && old.Status == cond.Status && old.Reason == cond.Reason {
			continue
		}
		typ := corev1.EventTypeNormal
		if cond.Status != metav1.ConditionTrue && old != nil && old.Status == metav1.ConditionTrue {
			typ = corev1.EventTypeWarning
		}
		c.recorder.Eventf(obj, typ, cond.Reason, "%s=%s: %s", cond.Type, cond.Status, cond.Message)
	}
}

func phaseOrNone(p v1alpha1.ClusterPhase) string {
	if p == "" {
		return "<none>"
	}
	return string(p)
}
