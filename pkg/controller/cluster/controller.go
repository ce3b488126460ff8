// Package cluster is the reconciler of clusters.apps.hikube.io. The core
// decides what a cluster needs (PKI, control-plane version and placement,
// node counts through pkg/autoscaler, add-ons) and a provider.Provider carries
// it out. A reconcile is an ordered list of small steps (reconcile.go), each
// idempotent, each in its own file with the clients it needs injected, so
// that each is tested alone with fakes; status is written only through
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
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/pkg/addons/workers"
	"github.com/hikube/hikube/pkg/clusterpki"
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
	// ResyncReady is how often a Ready cluster is looked at again when
	// nothing happened: a safety net, since the tenant informers requeue a
	// cluster on the events that matter (an unschedulable pod, a node
	// change, a failed watch or health check).
	ResyncReady time.Duration
	// TenantHealthInterval is how often each tenant API is probed; a failed
	// probe requeues its cluster. Zero disables the probes.
	TenantHealthInterval time.Duration
	// ResyncProgressing is how soon a cluster that is still converging is
	// looked at again.
	ResyncProgressing time.Duration
	// Addons configure the add-ons' Helm releases.
	Addons AddonOptions
	// NewTenantClient builds the admin client of a tenant cluster from the
	// provider's configuration; nil means kubernetes.NewForConfig.
	NewTenantClient func(*rest.Config) (kubernetes.Interface, error)
}

// DefaultOptions are the defaults of hikube-controller's flags.
func DefaultOptions() Options {
	return Options{ScaleDownGrace: 10 * time.Minute, ResyncReady: 30 * time.Second, TenantHealthInterval: 10 * time.Second, ResyncProgressing: 250 * time.Millisecond, Addons: DefaultAddonOptions()}
}

// Controller reconciles clusters.
type Controller struct {
	lister       listers.ClusterLister
	synced       cache.InformerSynced
	queue        workqueue.TypedRateLimitingInterface[string]
	providerName string
	reconciler   *reconciler
	tenants      *tenantClients
	addons       *addonsReconciler
}

// New returns a controller fed by the cluster informer.
func New(hikube clientset.Interface, kube kubernetes.Interface, inf informers.ClusterInformer,
	p provider.Provider, recorder record.EventRecorder, opts Options) (*Controller, error) {
	// An add-on's finished Helm job requeues its cluster; c is set below,
	// before any job can start.
	var c *Controller
	newTenantClient := opts.NewTenantClient
	if newTenantClient == nil {
		newTenantClient = func(cfg *rest.Config) (kubernetes.Interface, error) { return kubernetes.NewForConfig(cfg) }
	}
	r, tenants := newReconciler(wiring{
		notifyAddon:     func(k workers.Key) { c.queue.Add(k.Name) },
		clusters:        apiClusterWriter{clusters: hikube.AppsV1alpha1()},
		core:            kube.CoreV1(),
		provider:        p,
		recorder:        recorder,
		newTenantClient: newTenantClient,
		generatePKI:     clusterpki.Generate,
		now:             time.Now,
		opts:            opts,
	})
	c = &Controller{
		lister:       inf.Lister(),
		synced:       inf.Informer().HasSynced,
		queue:        workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](), workqueue.TypedRateLimitingQueueConfig[string]{Name: "clusters"}),
		providerName: p.Name(),
		reconciler:   r,
		tenants:      tenants,
		addons:       r.addons,
	}
	tenants.watch = &tenantWatch{enqueue: c.enqueueKey, healthInterval: opts.TenantHealthInterval}
	// A provider that says when a control plane became ready spares the
	// wait for the next progressing resync.
	if n, ok := p.(provider.ChangeNotifier); ok {
		n.NotifyChanges(func(ref provider.ClusterRef) { c.queue.Add(ref.Namespace + "/" + ref.Name) })
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

// enqueueKey asks for a reconcile of a cluster by key, after delay.
func (c *Controller) enqueueKey(key string, delay time.Duration) {
	if delay <= 0 {
		c.queue.Add(key)
		return
	}
	c.queue.AddAfter(key, delay)
}

// Run processes the queue with the given number of workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	defer c.tenants.stopAll()
	logger := klog.FromContext(ctx)
	logger.Info("Starting cluster controller", "provider", c.providerName, "workers", workers)
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
	took := time.Since(began)
	reconcileDuration.Observe(took.Seconds())
	klog.FromContext(ctx).V(4).Info("Reconciled", "cluster", key, "duration", took, "requeueAfter", requeue, "failed", err != nil)
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
		c.tenants.forget(ns, name)
		c.addons.forget(ns, name)
		c.reconciler.pki.forget(ns, name)
		c.reconciler.writes.forget(ns, name)
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading cluster %s: %w", key, err)
	}
	ctx = klog.NewContext(ctx, klog.FromContext(ctx).WithValues("cluster", klog.KObj(cl)))
	return c.reconciler.reconcile(ctx, cl.DeepCopy())
}

// wiring is what the steps talk to: New wires the live clients, tests fakes.
type wiring struct {
	clusters clusterWriter
	// core reaches the host cluster's Secrets (PKI) and ConfigMaps (GPU inventory).
	core interface {
		corev1client.SecretsGetter
		corev1client.ConfigMapsGetter
	}
	provider        provider.Provider
	recorder        record.EventRecorder
	newTenantClient func(*rest.Config) (kubernetes.Interface, error)
	generatePKI     func(clusterpki.ClusterRef) (clusterpki.PKI, error)
	now             func() time.Time
	opts            Options
	// notifyAddon requeues a cluster when one of its add-on jobs ends.
	notifyAddon func(workers.Key)
}

// newReconciler builds the steps of a reconcile, in their order, and the
// cache of tenant clients they share.
func newReconciler(w wiring) (*reconciler, *tenantClients) {
	tenants := newTenantClients(w.provider.AdminConfig, w.newTenantClient)
	writes := newWriteTracker()
	w.clusters = trackedWriter{clusterWriter: w.clusters, tracker: writes}
	status := &statusWriter{clusters: w.clusters, recorder: w.recorder}
	pki := &pkiReconciler{secrets: w.core, generate: w.generatePKI, now: w.now}
	addons := newAddonsReconciler(context.Background(), w.opts.Addons, w.recorder, w.opts.ResyncProgressing, w.notifyAddon)
	return &reconciler{
		addons: addons,
		pki:    pki,
		steps: []namedStep{
			{"finalizer", &finalizerReconciler{clusters: w.clusters}},
			{"pki", pki},
			{"control plane", &controlPlaneReconciler{provider: w.provider, recorder: w.recorder, resyncProgressing: w.opts.ResyncProgressing}},
			{"tenant bootstrap", &tenantBootstrapReconciler{tenants: tenants, storage: tenantStorage(w.provider), now: w.now}},
			{"node groups", &nodeGroupsReconciler{provider: w.provider, configMaps: w.core, recorder: w.recorder, now: w.now,
				scaleDownGrace: w.opts.ScaleDownGrace, resyncProgressing: w.opts.ResyncProgressing, empty: newEmptyNodes()}},
			{"add-ons", addons},
		},
		delete: &deleteReconciler{provider: w.provider, secrets: w.core, clusters: w.clusters, tenants: tenants,
			recorder: w.recorder, resyncProgressing: w.opts.ResyncProgressing},
		status:      status,
		resyncReady: w.opts.ResyncReady,
		writes:      writes,
		staleRetry:  w.opts.ResyncProgressing,
	}, tenants
}

// tenantStorage is the provider's volume driver, if it has one.
func tenantStorage(p provider.Provider) provider.TenantStorage {
	ts, _ := p.(provider.TenantStorage)
	return ts
}
