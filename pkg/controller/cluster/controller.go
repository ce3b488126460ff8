// Package cluster is the reconciler of clusters.apps.hikube.io. The core
// decides what a cluster needs (PKI, control-plane version and placement,
// node counts through pkg/autoscaler, add-ons) and a provider.Provider carries
// it out. A reconcile is an ordered list of small steps (reconcile.go), each
// idempotent, each in its own file; status is written only through
// clusters/status.
package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
	informers "github.com/hikube/hikube/pkg/generated/informers/externalversions/apps/v1alpha1"
	listers "github.com/hikube/hikube/pkg/generated/listers/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/provider"
)

// Finalizer is added before any side effect and removed when everything the
// cluster owns is gone.
const Finalizer = "apps.hikube.io/cluster"

// Options tune the controller.
type Options struct {
	// ScaleDownGrace is how long a node must stay empty before it is removed.
	ScaleDownGrace time.Duration
	// ResyncReady is how often a Ready cluster is looked at again (health of
	// the control plane, pending pods for the autoscaler).
	ResyncReady time.Duration
	// ResyncProgressing is how soon a cluster that is still converging is
	// looked at again.
	ResyncProgressing time.Duration
}

// DefaultOptions are the defaults of hikube-controller's flags.
func DefaultOptions() Options {
	return Options{ScaleDownGrace: 10 * time.Minute, ResyncReady: time.Second, ResyncProgressing: 250 * time.Millisecond}
}

// Controller reconciles clusters.
type Controller struct {
	hikube   clientset.Interface
	kube     kubernetes.Interface
	lister   listers.ClusterLister
	synced   cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
	provider provider.Provider
	recorder record.EventRecorder
	opts     Options
	now      func() time.Time

	// tenants caches a client per tenant cluster (by UID).
	tenants sync.Map
	// emptySince remembers when each node was first seen without workload
	// pods; a restart forgets it, which only delays a scale-down.
	emptyMu    sync.Mutex
	emptySince map[string]time.Time
}

// New returns a controller fed by the cluster informer.
func New(hikube clientset.Interface, kube kubernetes.Interface, inf informers.ClusterInformer,
	p provider.Provider, recorder record.EventRecorder, opts Options) (*Controller, error) {
	c := &Controller{
		hikube:     hikube,
		kube:       kube,
		lister:     inf.Lister(),
		synced:     inf.Informer().HasSynced,
		queue:      workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](), workqueue.TypedRateLimitingQueueConfig[string]{Name: "clusters"}),
		provider:   p,
		recorder:   recorder,
		opts:       opts,
		now:        time.Now,
		emptySince: map[string]time.Time{},
	}
	_, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj interface{}) { c.enqueue(obj) },
		DeleteFunc: c.enqueue,
	})
	if err != nil {
		return nil, fmt.Errorf("registering the cluster event handler: %w", err)
	}
	return c, nil
}

func (c *Controller) enqueue(obj interface{}) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	c.queue.Add(key)
}

// Run processes the queue with the given number of workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	logger := klog.FromContext(ctx)
	logger.Info("Starting cluster controller", "provider", c.provider.Name(), "workers", workers)
	if !cache.WaitForCacheSync(ctx.Done(), c.synced) {
		return fmt.Errorf("waiting for the cluster informer to sync")
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wait.UntilWithContext(ctx, c.worker, time.Second)
		}()
	}
	<-ctx.Done()
	logger.Info("Stopping cluster controller")
	c.queue.ShutDown()
	wg.Wait()
	return nil
}

func (c *Controller) worker(ctx context.Context) {
	for c.processNext(ctx) {
	}
}

func (c *Controller) processNext(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	began := time.Now()
	requeue, err := c.sync(ctx, key)
	reconcileDuration.Observe(time.Since(began).Seconds())
	switch {
	case err != nil:
		reconcileErrors.Inc()
		klog.FromContext(ctx).Error(err, "Reconcile failed; retrying", "cluster", key)
		c.queue.AddRateLimited(key)
	case requeue > 0:
		c.queue.Forget(key)
		c.queue.AddAfter(key, requeue)
	default:
		c.queue.Forget(key)
	}
	return true
}

// sync reconciles one cluster by key and says when to look again.
func (c *Controller) sync(ctx context.Context, key string) (time.Duration, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return 0, nil
	}
	cl, err := c.lister.Clusters(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.forget(ns, name)
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading cluster %s: %w", key, err)
	}
	ctx = klog.NewContext(ctx, klog.FromContext(ctx).WithValues("cluster", klog.KObj(cl)))
	return c.reconcile(ctx, cl.DeepCopy())
}

// forget drops per-cluster caches of a cluster that is gone.
func (c *Controller) forget(ns, name string) {
	c.tenants.Range(func(k, v any) bool {
		if t := v.(*tenantClient); t.ref.Namespace == ns && t.ref.Name == name {
			c.tenants.Delete(k)
		}
		return true
	})
}

func refOf(cl *v1alpha1.Cluster) provider.ClusterRef {
	return provider.ClusterRef{Namespace: cl.Namespace, Name: cl.Name, UID: string(cl.UID)}
}
