package quota

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
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	informers "github.com/hikube/hikube/pkg/generated/informers/externalversions"
	listers "github.com/hikube/hikube/pkg/generated/listers/apps/v1alpha1"
	usage "github.com/hikube/hikube/pkg/quota"
)

// StatusHookName is the post-start hook that keeps quota status current.
const StatusHookName = "hikube-quota-status"

// RunStatusSync is a post-start hook: it starts the loop that writes
// status.hard and status.used of the hikube keys of every ResourceQuota, so
// that kubectl describe quota shows them. Admission never reads that status
// (it counts from the store); it is a display, recomputed on every change of
// a cluster or a quota. Keys of other owners (pods, the host's own count of
// clusters) are left alone.
func (s *Service) RunStatusSync(hook genericapiserver.PostStartHookContext) error {
	go s.syncStatus(hook.Context)
	return nil
}

func (s *Service) syncStatus(ctx context.Context) {
	factory := informers.NewSharedInformerFactory(s.clusters, 10*time.Minute)
	clusters := factory.Apps().V1alpha1().Clusters()
	queue := workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "hikube-quota-status"})
	defer queue.ShutDown()
	enqueue := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		if m, err := meta.Accessor(obj); err == nil {
			queue.Add(m.GetNamespace())
		}
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: enqueue,
	}
	if _, err := clusters.Informer().AddEventHandler(handler); err != nil {
		utilruntime.HandleError(fmt.Errorf("watching clusters for quota status: %w", err))
		return
	}
	// The same watch tells the ledger which admitted writes have landed.
	if _, err := clusters.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.observe(obj, false) },
		UpdateFunc: func(_, obj any) { s.observe(obj, false) },
		DeleteFunc: func(obj any) { s.observe(obj, true) },
	}); err != nil {
		utilruntime.HandleError(fmt.Errorf("watching clusters for the quota ledger: %w", err))
		return
	}
	if _, err := s.quotaInformer.AddEventHandler(handler); err != nil {
		utilruntime.HandleError(fmt.Errorf("watching resource quotas for quota status: %w", err))
		return
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), clusters.Informer().HasSynced, s.quotaInformer.HasSynced) {
		return
	}
	lister := clusters.Lister()
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		for s.processNext(ctx, queue, lister) {
		}
	}, time.Second)
	<-ctx.Done()
}

func (s *Service) processNext(ctx context.Context, queue workqueue.TypedRateLimitingInterface[string], lister listers.ClusterLister) bool {
	ns, quit := queue.Get()
	if quit {
		return false
	}
	defer queue.Done(ns)
	if err := s.syncNamespace(ctx, ns, lister); err != nil {
		if !apierrors.IsConflict(err) {
			klog.ErrorS(err, "Updating quota status", "namespace", ns)
		}
		queue.AddRateLimited(ns)
		return true
	}
	queue.Forget(ns)
	return true
}

// syncNamespace writes the usage of the namespace's clusters into its quotas.
func (s *Service) syncNamespace(ctx context.Context, ns string, lister listers.ClusterLister) error {
	quotas, err := s.quotas.ResourceQuotas(ns).List(labels.Everything())
	if err != nil {
		return err
	}
	var used corev1.ResourceList
	for _, q := range quotas {
		if !usage.Applies(q) {
			continue
		}
		if used == nil {
			clusters, err := lister.Clusters(ns).List(labels.Everything())
			if err != nil {
				return err
			}
			used = corev1.ResourceList{}
			for _, c := range clusters {
				used = usage.Sum(used, usageOf(c))
			}
		}
		if updated, changed := withStatus(q, used); changed {
			if _, err := s.host.CoreV1().ResourceQuotas(ns).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
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
		if !usage.IsHikubeResource(k) {
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
			if _, ok := q.Spec.Hard[k]; !ok && usage.IsHikubeResource(k) {
				delete(l, k)
				changed = true
			}
		}
	}
	return out, changed
}

func (s *Service) observe(obj any, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj, deleted = d.Obj, true
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	rv := m.GetResourceVersion()
	if deleted {
		rv = ""
	}
	s.ledger.observed(m.GetNamespace(), m.GetName(), rv)
}
