// Package quotastatus keeps status.hard and status.used of the hikube keys of
// every ResourceQuota current, so that `kubectl describe quota` shows what a
// tenant's clusters take. It is a display: quota admission never reads it (it
// counts from the store, pkg/quota), so it runs in hikube-controller, under
// its leader election, rather than in every API server replica. The host's
// resource-quota controller has no evaluator for these keys and leaves them
// to us; keys of other owners (pods, the host's own count of clusters) are
// left alone.
package quotastatus

import (
	"context"
	"fmt"
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

	appsinformers "github.com/hikube/hikube/pkg/generated/informers/externalversions/apps/v1alpha1"
	listers "github.com/hikube/hikube/pkg/generated/listers/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/quota"
)

// Name names the controller's work queue and logger.
const Name = "hikube-quota-status"

// Controller writes the usage of each namespace's clusters into its quotas,
// recomputed on every change of a cluster or a quota.
type Controller struct {
	host     kubernetes.Interface
	clusters listers.ClusterLister
	quotas   corelisters.ResourceQuotaLister
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
}

// New watches clusters and the host's ResourceQuotas through the informers
// (start their factories after New) and writes quota status with host.
func New(host kubernetes.Interface, clusters appsinformers.ClusterInformer, quotas coreinformers.ResourceQuotaInformer) (*Controller, error) {
	c := &Controller{
		host:     host,
		clusters: clusters.Lister(),
		quotas:   quotas.Lister(),
		synced:   []cache.InformerSynced{clusters.Informer().HasSynced, quotas.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: Name}),
	}
	// Either kind of change can move a namespace's figures; the namespace is
	// the unit of work.
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
		DeleteFunc: c.enqueue,
	}
	if _, err := clusters.Informer().AddEventHandler(handler); err != nil {
		return nil, fmt.Errorf("watching clusters for quota status: %w", err)
	}
	if _, err := quotas.Informer().AddEventHandler(handler); err != nil {
		return nil, fmt.Errorf("watching resource quotas for quota status: %w", err)
	}
	return c, nil
}

func (c *Controller) enqueue(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if m, err := meta.Accessor(obj); err == nil {
		c.queue.Add(m.GetNamespace())
	}
}

// Run processes namespaces with workers goroutines until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer c.queue.ShutDown()
	logger := klog.FromContext(ctx).WithName(Name)
	ctx = klog.NewContext(ctx, logger)
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return fmt.Errorf("%s: caches did not sync before shutdown", Name)
	}
	logger.Info("Keeping quota status current", "workers", workers)
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
	ns, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(ns)
	if err := c.sync(ctx, ns); err != nil {
		// A conflict means the quota moved under us; its watch event brings
		// the namespace back anyway, so only other errors are worth a line.
		if !apierrors.IsConflict(err) {
			klog.FromContext(ctx).Error(err, "Updating quota status", "namespace", ns)
		}
		c.queue.AddRateLimited(ns)
		return true
	}
	c.queue.Forget(ns)
	return true
}

// sync writes the usage of the namespace's clusters into its quotas.
func (c *Controller) sync(ctx context.Context, ns string) error {
	quotas, err := c.quotas.ResourceQuotas(ns).List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing the quotas of %s: %w", ns, err)
	}
	var used corev1.ResourceList
	for _, q := range quotas {
		if !quota.Applies(q) {
			continue
		}
		if used == nil {
			clusters, err := c.clusters.Clusters(ns).List(labels.Everything())
			if err != nil {
				return fmt.Errorf("listing the clusters of %s: %w", ns, err)
			}
			used = corev1.ResourceList{}
			for _, cl := range clusters {
				used = quota.Sum(used, quota.VersionedClusterUsage(cl))
			}
		}
		if updated, changed := withStatus(q, used); changed {
			if _, err := c.host.CoreV1().ResourceQuotas(ns).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("updating the status of quota %s/%s: %w", ns, q.Name, err)
			}
		}
	}
	return nil
}

// withStatus returns q with status.hard and status.used of its hikube keys
// set from spec.hard and used, and whether that changed anything.
func withStatus(q *corev1.ResourceQuota, used corev1.ResourceList) (*corev1.ResourceQuota, bool) {
	out := q.DeepCopy()
	if out.Status.Hard == nil {
		out.Status.Hard = corev1.ResourceList{}
	}
	if out.Status.Used == nil {
		out.Status.Used = corev1.ResourceList{}
	}
	changed := false
	set := func(l corev1.ResourceList, k corev1.ResourceName, v resource.Quantity) {
		if cur, ok := l[k]; !ok || cur.Cmp(v) != 0 {
			l[k] = v
			changed = true
		}
	}
	for k, hard := range q.Spec.Hard {
		if !quota.IsHikubeResource(k) {
			continue
		}
		set(out.Status.Hard, k, hard)
		u, ok := used[k]
		if !ok {
			u = *resource.NewQuantity(0, resource.DecimalSI)
		}
		set(out.Status.Used, k, u)
	}
	for _, l := range []corev1.ResourceList{out.Status.Hard, out.Status.Used} {
		for k := range l {
			if _, ok := q.Spec.Hard[k]; !ok && quota.IsHikubeResource(k) {
				delete(l, k)
				changed = true
			}
		}
	}
	return out, changed
}
