package quota

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/utils/keymutex"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/catalog"
	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
)

// maxAttempts bounds the compare-and-swap rounds of one charge. Every round
// that loses a conflict lost it to a write that succeeded, so a request
// retries at most once per concurrent winner; a quota fills after a few.
const maxAttempts = 100

// Tracker checks what clusters take against the tenants' ResourceQuotas and
// the platform's GPU capacity, and keeps the usage in records every
// hikube-apiserver replica shares: status.used of the ResourceQuotas, and
// the GPU usage ConfigMap (hikube-system/gpu-usage). A check reads a record,
// and an admitted write adds its usage to it with an update conditioned on
// the resourceVersion read; on a conflict it reads again and checks again.
// So two replicas can never both take the last unit: the second one's
// update fails and its re-check sees the first one's charge. This is how
// Kubernetes' own quota admission works.
//
// What is charged is given back by Release when a cluster is deleted or
// lowered, and by the registry when a write fails after admission; what a
// crash loses in between, hikube-controller's quota status controller
// recomputes from the store (pkg/controller/quotastatus).
//
// Within one process, the charges of one namespace (and those of GPUs) take
// turns: not for correctness, which the compare-and-swap gives across
// replicas, but so that a burst of creates into one replica does not spend
// its time losing conflicts to itself. Kubernetes' quota admission
// serializes a namespace's requests in-process the same way.
type Tracker struct {
	clusters clientset.Interface
	host     kubernetes.Interface
	capacity CapacityFunc
	turns    keymutex.KeyMutex
	// quotaReads are the live reads of a namespace's quotas, shared by
	// concurrent requests that arrived before the read began.
	quotaReads *sharedReads[[]corev1.ResourceQuota]
	// quotaLister, when set, is the informer's view of the quotas: where it
	// shows one, admission charges it (reading it live); where it shows none,
	// quotaLookups says whether a live lookup found one in the last TTL.
	quotaLister  corelisters.ResourceQuotaLister
	quotaLookups *quotaLookups
}

// readTimeout bounds one live read of a record.
const readTimeout = 30 * time.Second

// NewTracker counts from clusters (our store, to seed a record that has no
// figure yet), keeps the records in host and reads the GPU capacity from
// capacity.
func NewTracker(clusters clientset.Interface, host kubernetes.Interface, capacity CapacityFunc) *Tracker {
	t := &Tracker{clusters: clusters, host: host, capacity: capacity, turns: keymutex.NewHashed(0)}
	t.quotaReads = newSharedReads(t.listQuotas)
	t.quotaLookups = newQuotaLookups(t.listQuotas, QuotaLookupTTL)
	return t
}

// SetQuotaLister gives the Tracker an informer's view of the ResourceQuotas,
// from which it learns whether a namespace has a quota at all (see
// hasQuota). A quota is still checked and charged on a live read.
func (t *Tracker) SetQuotaLister(l corelisters.ResourceQuotaLister) { t.quotaLister = l }

// Reserve checks the keys c raises (over old, the stored cluster on update)
// against the ResourceQuotas of namespace, then the GPU models it raises
// against the free capacity, and returns the refusals of the first check
// that fails. Unless dryRun, an admitted request's increase is charged to
// the records and noted in the Charges of ctx (WithCharges).
func (t *Tracker) Reserve(ctx context.Context, namespace string, c, old *apps.Cluster, dryRun bool) ([]string, error) {
	newUsage, oldUsage := ClusterUsage(c), corev1.ResourceList{}
	if old != nil {
		oldUsage = ClusterUsage(old)
	}
	var attempt []Charge
	defer func() { chargesFrom(ctx).add(attempt) }()
	increased := Increased(oldUsage, newUsage)
	if len(increased) == 0 {
		return nil, nil
	}
	delta := corev1.ResourceList{}
	for _, k := range increased {
		d := newUsage[k].DeepCopy()
		d.Sub(oldUsage[k])
		delta[k] = d
	}
	u := usageChange{namespace: namespace, cluster: c, newUsage: newUsage, oldUsage: oldUsage, delta: delta, increased: increased, dryRun: dryRun}

	charged, msgs, err := t.chargeQuotas(ctx, u)
	if err != nil || len(msgs) > 0 {
		t.giveBack(ctx, charged)
		return msgs, err
	}
	gpu, msgs, err := t.chargeGPUs(ctx, u)
	if err != nil || len(msgs) > 0 {
		t.giveBack(ctx, charged)
		return msgs, err
	}
	attempt = append(charged, gpu...)
	return nil, nil
}

// usageChange is what one admission asks for.
type usageChange struct {
	namespace          string
	cluster            *apps.Cluster
	newUsage, oldUsage corev1.ResourceList
	delta              corev1.ResourceList // the increase, on the increased keys
	increased          []corev1.ResourceName
	dryRun             bool
}

// Release gives back usage: that of a deleted cluster, or the decrease of an
// update. Records never go below zero.
func (t *Tracker) Release(ctx context.Context, namespace string, usage corev1.ResourceList) error {
	if isZero(usage) {
		return nil
	}
	var errs []error
	if err := t.releaseQuotas(ctx, namespace, "", usage); err != nil {
		errs = append(errs, err)
	}
	if err := t.releaseGPUs(ctx, usage); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("releasing the usage of a cluster in %s: %v", namespace, errs)
	}
	return nil
}

// ReleaseCharges gives back charges made by admission for a write that did
// not land (or an admission attempt the storage layer superseded).
func (t *Tracker) ReleaseCharges(ctx context.Context, charges []Charge) error {
	var errs []error
	for _, ch := range charges {
		var err error
		if ch.Quota == "" {
			err = t.releaseGPUs(ctx, ch.Delta)
		} else {
			err = t.releaseQuotas(ctx, ch.Namespace, ch.Quota, ch.Delta)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("giving back admission charges: %v", errs)
	}
	return nil
}

// giveBack releases charges of a request refused after part of it was
// charged (one quota passed, another or the GPU capacity refused). A
// failure leaves the record too high until the quota status controller
// corrects it: safe, never an overshoot.
func (t *Tracker) giveBack(ctx context.Context, charges []Charge) {
	if len(charges) == 0 {
		return
	}
	_ = t.ReleaseCharges(context.WithoutCancel(ctx), charges)
}

// GPUStatus is, per GPU model, the capacity, reservation and free GPUs per
// datacenter: the status of the gpumodels catalog. The reservation is the
// shared GPU usage record, the figure admission checks against. A nil
// Tracker knows no capacity.
func (t *Tracker) GPUStatus(ctx context.Context) (map[string][]apps.GPUDatacenterStatus, error) {
	if t == nil {
		return nil, nil
	}
	capacity, err := t.capacity(ctx)
	if err != nil {
		return nil, err
	}
	rec, err := t.readGPUUsage(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]apps.GPUDatacenterStatus{}
	for _, m := range catalog.GPUModels() {
		out[m.Name] = Allocate(capacity[m.Name], rec.reserved[m.Name])
	}
	return out, nil
}

// storeUsage sums the usage of the clusters of namespace ("" for all), read
// live from our store: the seed of a record that has no figure yet.
func (t *Tracker) storeUsage(ctx context.Context, namespace string) (corev1.ResourceList, error) {
	list, err := t.clusters.AppsV1alpha1().Clusters(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing clusters: %w", err)
	}
	total := corev1.ResourceList{}
	for i := range list.Items {
		total = Sum(total, VersionedClusterUsage(&list.Items[i]))
	}
	return total, nil
}

// VersionedClusterUsage is ClusterUsage of a cluster read through the
// versioned client.
func VersionedClusterUsage(c *v1alpha1.Cluster) corev1.ResourceList {
	var internal apps.Cluster
	// The generated conversion needs no scope for clusters.
	if err := v1alpha1.Convert_v1alpha1_Cluster_To_apps_Cluster(c, &internal, nil); err != nil {
		return corev1.ResourceList{}
	}
	return ClusterUsage(&internal)
}

// backoff waits a little before another compare-and-swap round, jittered so
// that the losers of a round do not collide again.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(rand.Int64N(int64(time.Millisecond)*int64(min(attempt+1, 20)))) + time.Millisecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func isZero(l corev1.ResourceList) bool {
	for _, v := range l {
		if !v.IsZero() {
			return false
		}
	}
	return true
}

// subtract returns l - d on the keys of d present in l, never below zero.
func subtract(l, d corev1.ResourceList) (corev1.ResourceList, bool) {
	out := l.DeepCopy()
	changed := false
	for k, v := range d {
		cur, ok := out[k]
		if !ok || v.IsZero() {
			continue
		}
		cur.Sub(v)
		if cur.Sign() < 0 {
			cur.Set(0)
		}
		out[k] = cur
		changed = true
	}
	return out, changed
}
