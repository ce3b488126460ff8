package cluster

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/addons/catalog"
	"github.com/hikube/hikube/pkg/addons/chartsource"
	"github.com/hikube/hikube/pkg/addons/helm"
	"github.com/hikube/hikube/pkg/addons/workers"
)

// AddonOptions configure the add-ons' Helm releases.
type AddonOptions struct {
	// ChartSource is where charts come from: an https:// chart repository,
	// an oci:// registry, or a local directory of packaged charts. Empty
	// reports every enabled add-on ChartUnavailable.
	ChartSource string
	// Timeout bounds one Helm action; a release pending for longer is stuck
	// and repaired.
	Timeout time.Duration
	// Recheck is how often an add-on whose spec did not change is compared
	// with its release again (someone deleted it, a failed one is retried).
	Recheck time.Duration
	// AdmissionWebhooks is false on platforms where the tenant API server
	// cannot reach pods: charts then run without their webhooks.
	AdmissionWebhooks bool
}

// DefaultAddonOptions are the defaults of hikube-controller's flags.
func DefaultAddonOptions() AddonOptions {
	return AddonOptions{Timeout: 5 * time.Minute, Recheck: 30 * time.Second, AdmissionWebhooks: true}
}

const (
	labelAddon   = "apps.hikube.io/addon"
	labelManaged = "apps.hikube.io/managed"
)

// addonOutcome is what an add-on's job found or did.
type addonOutcome struct {
	status    v1alpha1.AddonStatus
	workloads []workloadRef
	events    []string
	// gone is true when a disabled add-on's namespace no longer exists.
	gone bool
}

// addonsReconciler reports the add-ons and hands their Helm work to a
// worker per (cluster, add-on): a reconcile never waits for Helm.
type addonsReconciler struct {
	opts     AddonOptions
	source   chartsource.Source
	pool     *workers.Pool[addonOutcome]
	recorder record.EventRecorder
	// resyncProgressing is how soon to look again while add-ons converge.
	resyncProgressing time.Duration

	mu    sync.Mutex
	helms map[string]*helm.Client // by namespace/name/UID@endpoint
	// seen are the outcomes whose events were recorded already.
	seen map[workers.Key]time.Time
}

func newAddonsReconciler(ctx context.Context, opts AddonOptions, recorder record.EventRecorder, resync time.Duration, notify func(workers.Key)) *addonsReconciler {
	r := &addonsReconciler{opts: opts, recorder: recorder, resyncProgressing: resync,
		helms: map[string]*helm.Client{}, seen: map[workers.Key]time.Time{}}
	if opts.ChartSource != "" {
		if src, err := chartsource.New(opts.ChartSource); err != nil {
			klog.FromContext(ctx).Error(err, "Add-on chart source unusable; add-ons will report ChartUnavailable", "source", opts.ChartSource)
		} else {
			r.source = chartsource.Cached(src)
		}
	}
	// A job's deadline covers a repair and an install of each release of the
	// largest add-on (three charts), plus the chart pulls.
	r.pool = workers.New[addonOutcome](ctx, opts.Timeout*7+time.Minute, notify)
	return r
}

func (r *addonsReconciler) reconcile(ctx context.Context, s *state) (reconcileStatus, error) {
	st := map[string]v1alpha1.AddonStatus{}
	for _, a := range catalog.Addons {
		status, present, err := r.addon(ctx, s, a)
		if err != nil {
			return reconcileStop, fmt.Errorf("add-on %s of %s: %w", a.Key, s.ref, err)
		}
		if present {
			st[a.Key] = status
		}
	}
	s.status.Addons = st
	var waiting, failed []string
	for _, a := range catalog.Addons {
		x, ok := st[a.Key]
		switch {
		case !ok || x.State == v1alpha1.AddonReady:
		case x.State == v1alpha1.AddonFailed:
			failed = append(failed, a.Key+": "+x.Message)
		default:
			waiting = append(waiting, a.Key+" "+string(x.State))
		}
	}
	switch {
	case len(failed) > 0:
		setCondition(s, v1alpha1.ConditionAddonsReady, metav1.ConditionFalse, v1alpha1.ReasonAddonsFailed, "failed: "+strings.Join(failed, "; "))
	case len(waiting) > 0:
		setCondition(s, v1alpha1.ConditionAddonsReady, metav1.ConditionFalse, v1alpha1.ReasonAddonsProgressing, "waiting for add-ons: "+joinComma(waiting))
	default:
		setCondition(s, v1alpha1.ConditionAddonsReady, metav1.ConditionTrue, v1alpha1.ReasonAddonsReady, fmt.Sprintf("%d add-ons ready", len(st)))
	}
	if len(waiting) > 0 {
		// Workloads becoming available are polled; a failed add-on waits for
		// its next job, whose end requeues the cluster.
		s.requeueAfter(r.resyncProgressing)
	}
	return reconcileContinue, nil
}

// addon reports one add-on, starting its job when the spec or the recheck
// period asks for one. present is false for a disabled add-on that left
// nothing behind.
func (r *addonsReconciler) addon(ctx context.Context, s *state, a catalog.Addon) (v1alpha1.AddonStatus, bool, error) {
	spec := catalog.Spec(&s.cluster.Spec.Addons, a.Key)
	key := workers.Key{Cluster: string(s.cluster.UID), Name: s.cluster.Namespace + "/" + s.cluster.Name, Addon: a.Key}
	enabled := spec != nil && spec.Enabled
	var intent string
	var job workers.Job[addonOutcome]
	if enabled {
		desired, err := r.desired(s, a, spec)
		if err != nil {
			return v1alpha1.AddonStatus{State: v1alpha1.AddonFailed, Reason: v1alpha1.ReasonInstallFailed, Message: err.Error()}, true, nil
		}
		intent = "install"
		for _, d := range desired {
			intent += "/" + d.hash
		}
		job = r.installJob(s, a, desired)
	} else {
		if _, reported := s.cluster.Status.Addons[a.Key]; !reported && !r.pool.Known(key) {
			// Never reported by this or an earlier controller: nothing to
			// uninstall, and no need to ask the tenant cluster every resync.
			return v1alpha1.AddonStatus{}, false, nil
		}
		ns, err := s.tenant.kube.CoreV1().Namespaces().Get(ctx, a.Namespace, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || (err == nil && ns.Labels[labelAddon] != a.Key) {
			return v1alpha1.AddonStatus{}, false, nil // never installed, or not ours
		}
		if err != nil {
			return v1alpha1.AddonStatus{}, false, err
		}
		intent = "uninstall"
		job = r.uninstallJob(s, a)
	}
	last, _ := r.pool.Ensure(key, intent, r.opts.Recheck, job)
	if last != nil {
		r.recordEvents(s, key, last)
	}
	if last == nil || last.Intent != intent {
		st := v1alpha1.AddonStatus{State: v1alpha1.AddonInstalling, Reason: v1alpha1.ReasonInstalling, Message: "Helm is installing or upgrading the release"}
		if !enabled {
			st = v1alpha1.AddonStatus{State: v1alpha1.AddonUninstalling, Reason: v1alpha1.ReasonUninstalling, Message: "Helm is uninstalling the release"}
		}
		if last != nil {
			st.Releases = last.Value.status.Releases
		}
		return st, true, nil
	}
	out := last.Value
	if !enabled && out.gone {
		return v1alpha1.AddonStatus{}, false, nil
	}
	st := out.status
	if st.State == v1alpha1.AddonReady {
		// Deployed: the add-on is Ready once its workloads are available.
		if msg, err := unavailable(ctx, s, out.workloads); err != nil {
			return st, true, err
		} else if msg != "" {
			st.State, st.Reason, st.Message = v1alpha1.AddonInstalling, v1alpha1.ReasonWorkloadsNotAvailable, msg
		}
	}
	return st, true, nil
}

func (r *addonsReconciler) recordEvents(s *state, key workers.Key, o *workers.Outcome[addonOutcome]) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.seen[key].Before(o.Done) {
		return
	}
	r.seen[key] = o.Done
	for _, e := range o.Value.events {
		r.recorder.Eventf(s.cluster, corev1.EventTypeWarning, "AddonReleaseRepaired", "%s: %s", key.Addon, e)
	}
	if st := o.Value.status; st.State == v1alpha1.AddonFailed {
		r.recorder.Eventf(s.cluster, corev1.EventTypeWarning, "AddonFailed", "%s: %s: %s", key.Addon, st.Reason, st.Message)
	}
}

// helmClient returns a function giving the Helm client of the cluster's
// current endpoint, built on first use by a job.
func (r *addonsReconciler) helmClient(s *state) func() *helm.Client {
	key := s.cluster.Namespace + "/" + s.cluster.Name + "/" + string(s.cluster.UID) + "@" + s.tenant.host
	config, ref := s.tenant.config, s.ref
	return func() *helm.Client {
		r.mu.Lock()
		defer r.mu.Unlock()
		c, ok := r.helms[key]
		if !ok {
			log := logr.ToSlogHandler(klog.Background().WithValues("cluster", ref.String()))
			c = helm.NewClient(config, log)
			r.helms[key] = c
		}
		return c
	}
}

// forget drops what the reconciler keeps for a deleted cluster.
func (r *addonsReconciler) forget(ns, name string) {
	r.pool.Forget(ns + "/" + name)
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range r.seen {
		if k.Name == ns+"/"+name {
			delete(r.seen, k)
		}
	}
	for k := range r.helms {
		if strings.HasPrefix(k, ns+"/"+name+"/") {
			delete(r.helms, k)
		}
	}
}
