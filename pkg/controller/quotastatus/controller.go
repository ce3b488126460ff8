// Package quotastatus is the reconciler of the usage records quota
// admission charges: status.used (and status.hard) of the hikube keys of
// every ResourceQuota, and the GPU usage ConfigMap hikube-system/gpu-usage.
// hikube-apiserver keeps them exact as it admits, releases and deletes
// (pkg/quota); this controller recomputes them from the store and corrects
// what a crash or a lost update left behind, as Kubernetes' resource-quota
// controller does for its own keys. It runs in hikube-controller under its
// leader election. The host's resource-quota controller has no evaluator for
// the hikube.io/ keys and leaves them to us; keys of other owners (pods, the
// host's own count of clusters) are left alone.
//
// Raising a figure is always safe and done at once. Lowering is not: an
// admitted create is charged before it is stored, so for a moment the
// record is rightly above what the store shows. A figure is therefore
// lowered only once the record has gone Grace without a raise (any charge
// in flight has landed or failed by then), and with an update conditioned on
// the resourceVersion read, so a charge made meanwhile makes it conflict.
package quotastatus

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/pkg/catalog"
	appsinformers "github.com/hikube/hikube/pkg/generated/informers/externalversions/apps/v1alpha1"
	listers "github.com/hikube/hikube/pkg/generated/listers/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/quota"
)

// Name names the controller's work queue and logger.
const Name = "hikube-quota-status"

// DefaultGrace is how long a record goes without a raise before the
// controller lowers it: far longer than an admitted write takes to land.
const DefaultGrace = 30 * time.Second

// gpuKey is the work-queue key of the GPU usage record; namespace names
// cannot contain a slash.
const gpuKey = "/" + quota.GPUUsageName

// Controller recomputes the usage records on every change of a cluster, a
// quota or the GPU usage record.
type Controller struct {
	host       kubernetes.Interface
	clusters   listers.ClusterLister
	quotas     corelisters.ResourceQuotaLister
	configMaps corelisters.ConfigMapLister
	synced     []cache.InformerSynced
	queue      workqueue.TypedRateLimitingInterface[string]

	// Grace is how long a record must go without a raise before a figure of
	// it is lowered (DefaultGrace; set before Run).
	Grace time.Duration
	now   func() time.Time

	mu     sync.Mutex
	raised map[string]time.Time // record key → when one of its figures last rose
}

// New watches clusters, the host's ResourceQuotas and its ConfigMaps (of
// hikube-system is enough) through the informers (start their factories
// after New) and writes the records with host.
func New(host kubernetes.Interface, clusters appsinformers.ClusterInformer, quotas coreinformers.ResourceQuotaInformer, configMaps coreinformers.ConfigMapInformer) (*Controller, error) {
	c := &Controller{
		host:       host,
		clusters:   clusters.Lister(),
		quotas:     quotas.Lister(),
		configMaps: configMaps.Lister(),
		synced:     []cache.InformerSynced{clusters.Informer().HasSynced, quotas.Informer().HasSynced, configMaps.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: Name}),
		Grace:  DefaultGrace,
		now:    time.Now,
		raised: map[string]time.Time{},
	}
	if _, err := clusters.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.clusterChanged,
		UpdateFunc: func(_, obj any) { c.clusterChanged(obj) },
		DeleteFunc: c.clusterChanged,
	}); err != nil {
		return nil, fmt.Errorf("watching clusters for quota status: %w", err)
	}
	if _, err := quotas.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { c.recordChanged(nil, obj) },
		UpdateFunc: func(old, obj any) {
			c.recordChanged(old, obj)
		},
		DeleteFunc: func(obj any) { c.recordChanged(nil, obj) },
	}); err != nil {
		return nil, fmt.Errorf("watching resource quotas for quota status: %w", err)
	}
	if _, err := configMaps.Informer().AddEventHandler(cache.FilteringResourceEventHandler{
		FilterFunc: isGPUUsage,
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.recordChanged(nil, obj) },
			UpdateFunc: func(old, obj any) { c.recordChanged(old, obj) },
		},
	}); err != nil {
		return nil, fmt.Errorf("watching the GPU usage for quota status: %w", err)
	}
	return c, nil
}

func isGPUUsage(obj any) bool {
	m, err := meta.Accessor(obj)
	return err == nil && m.GetNamespace() == quota.InventoryNamespace && m.GetName() == quota.GPUUsageName
}

// clusterChanged queues the cluster's namespace and the GPU usage.
func (c *Controller) clusterChanged(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if m, err := meta.Accessor(obj); err == nil {
		c.queue.Add(m.GetNamespace())
		c.queue.Add(gpuKey)
	}
}

// recordChanged queues a quota's namespace or the GPU usage, and notes when
// one of the record's figures rose (a new record counts as risen).
func (c *Controller) recordChanged(old, obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	var key, queued string
	var rose bool
	switch o := obj.(type) {
	case *corev1.ResourceQuota:
		key, queued = o.Namespace+"/"+o.Name, o.Namespace
		prev, _ := old.(*corev1.ResourceQuota)
		rose = prev == nil || risen(prev.Status.Used, o.Status.Used)
	case *corev1.ConfigMap:
		key, queued = gpuKey, gpuKey
		prev, _ := old.(*corev1.ConfigMap)
		if prev == nil {
			rose = true
		} else {
			before, after := quota.GPUUsageFigures(prev.Data), quota.GPUUsageFigures(o.Data)
			for m, n := range after {
				if n > before[m] {
					rose = true
				}
			}
		}
	default:
		return
	}
	if rose {
		c.mu.Lock()
		c.raised[key] = c.now()
		c.mu.Unlock()
	}
	c.queue.Add(queued)
}

// risen reports whether a hikube figure of after is above before.
func risen(before, after corev1.ResourceList) bool {
	for k, v := range after {
		if !quota.IsHikubeResource(k) {
			continue
		}
		if b, ok := before[k]; !ok || v.Cmp(b) > 0 {
			return true
		}
	}
	return false
}

// lowerable reports whether the record key went Grace without a raise, or
// how long until it will have.
func (c *Controller) lowerable(key string) (bool, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	since := c.now().Sub(c.raised[key])
	if since >= c.Grace {
		return true, 0
	}
	return false, c.Grace - since
}

// Run processes the queue with workers goroutines until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer c.queue.ShutDown()
	logger := klog.FromContext(ctx).WithName(Name)
	ctx = klog.NewContext(ctx, logger)
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return fmt.Errorf("%s: caches did not sync before shutdown", Name)
	}
	logger.Info("Reconciling quota usage", "workers", workers, "grace", c.Grace)
	for range workers {
		go wait.UntilWithContext(ctx, func(ctx context.Context) {
			for c.processNext(ctx) {
			}
		}, time.Second)
	}
	<-ctx.Done()
	return nil
}

func (c *Controller) processNext(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	var after time.Duration
	var err error
	if key == gpuKey {
		after, err = c.syncGPUs(ctx)
	} else {
		after, err = c.sync(ctx, key)
	}
	if err != nil {
		// A conflict means the record moved under us (a charge); its watch
		// event brings the key back anyway, so only other errors are worth
		// a line.
		if !apierrors.IsConflict(err) {
			klog.FromContext(ctx).Error(err, "Updating quota usage", "key", key)
		}
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	if after > 0 {
		// A figure is too high but the record rose recently: look again
		// when the grace has passed.
		c.queue.AddAfter(key, after)
	}
	return true
}

// sync writes the usage of the namespace's clusters into its quotas, and
// returns when to look again for a lowering it deferred.
func (c *Controller) sync(ctx context.Context, ns string) (time.Duration, error) {
	quotas, err := c.quotas.ResourceQuotas(ns).List(labels.Everything())
	if err != nil {
		return 0, fmt.Errorf("listing the quotas of %s: %w", ns, err)
	}
	var used corev1.ResourceList
	var again time.Duration
	for _, q := range quotas {
		if !quota.Applies(q) {
			continue
		}
		if used == nil {
			clusters, err := c.clusters.Clusters(ns).List(labels.Everything())
			if err != nil {
				return 0, fmt.Errorf("listing the clusters of %s: %w", ns, err)
			}
			used = corev1.ResourceList{}
			for _, cl := range clusters {
				used = quota.Sum(used, quota.VersionedClusterUsage(cl))
			}
		}
		lower, wait := c.lowerable(ns + "/" + q.Name)
		updated, changed, deferred := withStatus(q, used, lower)
		if deferred && (again == 0 || wait < again) {
			again = wait
		}
		if changed {
			if _, err := c.host.CoreV1().ResourceQuotas(ns).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
				return 0, fmt.Errorf("updating the status of quota %s/%s: %w", ns, q.Name, err)
			}
		}
	}
	return again, nil
}

// withStatus returns q with status.hard and status.used of its hikube keys
// set from spec.hard and used, whether that changed anything, and whether a
// figure above used was kept because lower is false.
func withStatus(q *corev1.ResourceQuota, used corev1.ResourceList, lower bool) (*corev1.ResourceQuota, bool, bool) {
	out := q.DeepCopy()
	if out.Status.Hard == nil {
		out.Status.Hard = corev1.ResourceList{}
	}
	if out.Status.Used == nil {
		out.Status.Used = corev1.ResourceList{}
	}
	changed, deferred := false, false
	for k, hard := range q.Spec.Hard {
		if !quota.IsHikubeResource(k) {
			continue
		}
		if cur, ok := out.Status.Hard[k]; !ok || cur.Cmp(hard) != 0 {
			out.Status.Hard[k] = hard
			changed = true
		}
		u, ok := used[k]
		if !ok {
			u = *resource.NewQuantity(0, resource.DecimalSI)
		}
		cur, ok := out.Status.Used[k]
		switch {
		case !ok || u.Cmp(cur) > 0:
			out.Status.Used[k] = u
			changed = true
		case u.Cmp(cur) < 0 && lower:
			out.Status.Used[k] = u
			changed = true
		case u.Cmp(cur) < 0:
			deferred = true
		}
	}
	for _, l := range []corev1.ResourceList{out.Status.Hard, out.Status.Used} {
		for k := range l {
			if _, ok := q.Spec.Hard[k]; !ok && quota.IsHikubeResource(k) {
				delete(l, k)
				changed = true
			}
		}
	}
	return out, changed, deferred
}

// syncGPUs writes the GPUs all clusters reserve into the GPU usage record,
// when it exists (hikube-apiserver creates it at the first GPU request).
func (c *Controller) syncGPUs(ctx context.Context) (time.Duration, error) {
	cm, err := c.configMaps.ConfigMaps(quota.InventoryNamespace).Get(quota.GPUUsageName)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading the GPU usage: %w", err)
	}
	clusters, err := c.clusters.List(labels.Everything())
	if err != nil {
		return 0, fmt.Errorf("listing clusters: %w", err)
	}
	all := corev1.ResourceList{}
	for _, cl := range clusters {
		all = quota.Sum(all, quota.VersionedClusterUsage(cl))
	}
	want := quota.Reservations(all)
	lower, wait := c.lowerable(gpuKey)
	figures, changed, deferred := reconcileFigures(quota.GPUUsageFigures(cm.Data), want, lower)
	if changed {
		updated := cm.DeepCopy()
		updated.Data = quota.FormatGPUUsage(figures)
		if _, err := c.host.CoreV1().ConfigMaps(quota.InventoryNamespace).Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
			return 0, fmt.Errorf("updating the GPU usage %s/%s: %w", quota.InventoryNamespace, quota.GPUUsageName, err)
		}
	}
	if deferred {
		return wait, nil
	}
	return 0, nil
}

// reconcileFigures is withStatus for the GPU usage: cur moved to want,
// downwards only when lower.
func reconcileFigures(cur, want map[string]int64, lower bool) (map[string]int64, bool, bool) {
	out := map[string]int64{}
	changed, deferred := false, false
	for m, n := range cur {
		out[m] = n
	}
	for _, gm := range catalog.GPUModels() {
		m := gm.Name
		c, ok := cur[m]
		w := want[m]
		switch {
		case !ok || w > c:
			out[m] = w
			changed = true
		case w < c && lower:
			out[m] = w
			changed = true
		case w < c:
			deferred = true
		}
	}
	return out, changed, deferred
}
