package cluster

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	storagev1 "k8s.io/client-go/applyconfigurations/storage/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/clusterpki"
	"github.com/hikube/hikube/pkg/provider"
	"github.com/hikube/hikube/pkg/tenantrbac"
)

// tenantClient is the core's admin client of one tenant cluster.
type tenantClient struct {
	ref  clusterpki.ClusterRef
	host string
	kube kubernetes.Interface
	// config is the admin configuration kube was built from; the add-ons'
	// Helm client is built from it too.
	config *rest.Config
	// informers, when the cache watches tenants, hold the tenant's group
	// nodes and unfinished pods; nil in tests that read live.
	informers *tenantInformers
	// cancel ends the informers and the health check; nil without them.
	cancel context.CancelFunc

	mu sync.Mutex
	// bootstrapped is when the bootstrap step last applied bootstrapKey.
	bootstrapped time.Time
	bootstrapKey string
	// healthy is the last health check's verdict.
	healthy bool
}

var applyOptions = metav1.ApplyOptions{FieldManager: fieldManager, Force: true}

// liveListTimeout bounds the live lists of a tenant whose caches have not
// synced yet, so that a tenant API that does not answer holds a worker for
// no longer than that.
const liveListTimeout = 10 * time.Second

// nodesAndPods returns the tenant's group nodes and unfinished pods: from the
// informers once they have synced, else (just built, or a tenant API that
// has not answered yet) live, bounded by liveListTimeout.
func (c *tenantClient) nodesAndPods(ctx context.Context) ([]corev1.Node, []corev1.Pod, error) {
	if c.informers != nil && c.informers.synced() {
		return c.informers.list()
	}
	ctx, cancel := context.WithTimeout(ctx, liveListTimeout)
	defer cancel()
	nodes, err := c.kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: provider.LabelNodeGroup})
	if err != nil {
		return nil, nil, fmt.Errorf("listing nodes of %s: %w", c.ref, err)
	}
	pods, err := c.kube.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: unfinishedPods})
	if err != nil {
		return nil, nil, fmt.Errorf("listing pods of %s: %w", c.ref, err)
	}
	return nodes.Items, pods.Items, nil
}

// stop ends the client's informers and health check, if it has them.
func (c *tenantClient) stop() {
	if c.cancel != nil {
		c.cancel()
	}
}

// tenantWatch configures the informers and health checks the cache runs for
// every tenant client it builds.
type tenantWatch struct {
	// enqueue asks for a reconcile of the cluster (namespace/name key)
	// after delay (0: now).
	enqueue func(key string, delay time.Duration)
	// healthInterval is how often each tenant API is probed.
	healthInterval time.Duration
	// probe checks a tenant API (probeReadyz).
	probe func(context.Context, kubernetes.Interface) error
}

// tenantClients caches an admin client per tenant cluster, keyed by UID: a
// cluster re-created under the same name has a new UID, and so never gets
// the client (nor the endpoint) of the one before it. With watch set, each
// client comes with informers of the tenant's nodes and pods and a health
// check, started when the client is built and stopped when it is replaced
// or forgotten (Cluster API's ClusterCache idea): the reconciles read the
// caches, and the informers' events requeue the cluster.
type tenantClients struct {
	// adminConfig is the provider's AdminConfig.
	adminConfig func(ctx context.Context, ref clusterpki.ClusterRef) (*rest.Config, error)
	// newClient builds a client from that config (kubernetes.NewForConfig).
	newClient func(*rest.Config) (kubernetes.Interface, error)
	// watch, when set, starts informers and health checks per tenant.
	watch *tenantWatch

	mu      sync.Mutex
	clients map[string]*tenantClient // by cluster UID
}

func newTenantClients(adminConfig func(context.Context, clusterpki.ClusterRef) (*rest.Config, error), newClient func(*rest.Config) (kubernetes.Interface, error)) *tenantClients {
	return &tenantClients{adminConfig: adminConfig, newClient: newClient, clients: map[string]*tenantClient{}}
}

// get returns the cached client of the tenant cluster, rebuilt when the
// provider moved its endpoint. It never waits for the tenant API: a new
// client's informers sync in the background.
func (t *tenantClients) get(ctx context.Context, ref clusterpki.ClusterRef) (*tenantClient, error) {
	cfg, err := t.adminConfig(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("admin access to %s: %w", ref, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old, ok := t.clients[ref.UID]
	if ok && old.host == cfg.Host {
		return old, nil
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := t.newClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("client of %s: %w", ref, err)
	}
	c := &tenantClient{ref: ref, host: cfg.Host, kube: cs, config: cfg, healthy: true}
	if t.watch != nil {
		if err := t.start(klog.FromContext(ctx), c); err != nil {
			return nil, fmt.Errorf("watching %s: %w", ref, err)
		}
	}
	if ok {
		old.stop()
	}
	t.clients[ref.UID] = c
	return c, nil
}

// start runs the informers and the health check of a new client until its
// stop is called.
func (t *tenantClients) start(logger klog.Logger, c *tenantClient) error {
	key := c.ref.Namespace + "/" + c.ref.Name
	ev := tenantEvents{
		now:   func() { t.watch.enqueue(key, 0) },
		later: func() { t.watch.enqueue(key, podChurnDelay) },
	}
	// A broken watch (the tenant API went away) is news for the control-plane
	// step; the reflector backs off on its own, so this cannot flood.
	inf, err := newTenantInformers(c.kube, ev, func(error) { ev.now() })
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(klog.NewContext(context.Background(), logger.WithValues("tenant", c.ref.String())))
	c.informers, c.cancel = inf, cancel
	inf.run(ctx)
	if t.watch.healthInterval > 0 {
		go t.healthCheck(ctx, c, ev.now)
	}
	return nil
}

// healthCheck probes the tenant API every healthInterval and requeues the
// cluster whenever a probe fails or the API comes back, so that a control
// plane that died is seen without waiting for the slow resync.
func (t *tenantClients) healthCheck(ctx context.Context, c *tenantClient, requeue func()) {
	probe := t.watch.probe
	if probe == nil {
		probe = probeReadyz
	}
	wait.JitterUntilWithContext(ctx, func(ctx context.Context) {
		pctx, cancel := context.WithTimeout(ctx, min(t.watch.healthInterval, 5*time.Second))
		err := probe(pctx, c.kube)
		cancel()
		if ctx.Err() != nil {
			return
		}
		c.mu.Lock()
		was := c.healthy
		c.healthy = err == nil
		c.mu.Unlock()
		if err != nil || !was {
			klog.FromContext(ctx).V(2).Info("Tenant API health", "healthy", err == nil, "err", err)
			requeue()
		}
	}, t.watch.healthInterval, 0.1, false)
}

// probeReadyz asks the tenant API's /readyz (its version where the client
// has no REST client, as a fake clientset).
func probeReadyz(ctx context.Context, kube kubernetes.Interface) error {
	if rc, ok := kube.Discovery().RESTClient().(*rest.RESTClient); ok && rc != nil {
		return rc.Get().AbsPath("/readyz").Do(ctx).Error()
	}
	_, err := kube.Discovery().ServerVersion()
	return err
}

// forget drops the clients of every cluster named ns/name, whatever its UID,
// and stops their informers.
func (t *tenantClients) forget(ns, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for uid, c := range t.clients {
		if c.ref.Namespace == ns && c.ref.Name == name {
			c.stop()
			delete(t.clients, uid)
		}
	}
}

// stopAll stops every client's informers (the controller is stopping).
func (t *tenantClients) stopAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.clients {
		c.stop()
	}
}

// tenantBootstrapReconciler makes the tenant cluster usable by its tenants:
// the RBAC bindings for the groups the kubeconfig subresource hands out, and
// the storage classes with the spec's default. It also hands the tenant's
// client to the steps after it.
type tenantBootstrapReconciler struct {
	tenants *tenantClients
	// storage, when the provider has its own volume driver, names the
	// classes' provisioner and parameters.
	storage provider.TenantStorage
	now     func() time.Time
}

func (r *tenantBootstrapReconciler) reconcile(ctx context.Context, s *state) (reconcileStatus, error) {
	t, err := r.tenants.get(ctx, s.ref)
	if err != nil {
		return reconcileStop, err
	}
	s.tenant = t
	key := s.cluster.Spec.StorageClass
	if t.bootstrapFresh(key, r.now()) {
		return reconcileContinue, nil
	}
	view, err := t.kube.RbacV1().ClusterRoles().Get(ctx, tenantrbac.SourceViewRole, metav1.GetOptions{})
	if err != nil {
		return reconcileStop, fmt.Errorf("reading role %s in %s: %w", tenantrbac.SourceViewRole, s.ref, err)
	}
	if _, err := t.kube.RbacV1().ClusterRoles().Apply(ctx, tenantrbac.ViewerRoleFrom(view.Rules), applyOptions); err != nil {
		return reconcileStop, fmt.Errorf("role %s in %s: %w", tenantrbac.ViewerRole, s.ref, err)
	}
	for _, b := range tenantrbac.Bindings() {
		if _, err := t.kube.RbacV1().ClusterRoleBindings().Apply(ctx, b, applyOptions); err != nil {
			return reconcileStop, fmt.Errorf("binding %s in %s: %w", *b.Name, s.ref, err)
		}
	}
	for _, sc := range storageClasses(s.cluster.Spec.StorageClass, r.storage) {
		if _, err := t.kube.StorageV1().StorageClasses().Apply(ctx, sc, applyOptions); err != nil {
			return reconcileStop, fmt.Errorf("storage class %s in %s: %w", *sc.Name, s.ref, err)
		}
	}
	t.mu.Lock()
	t.bootstrapped, t.bootstrapKey = r.now(), key
	t.mu.Unlock()
	return reconcileContinue, nil
}

// bootstrapRefresh is how often the bootstrap objects are applied again
// when nothing they depend on changed: often enough to repair a tenant's
// edit, rarely enough that a thousand Ready clusters do not write their
// tenants' APIs at every resync.
const bootstrapRefresh = 10 * time.Minute

// bootstrapFresh says whether the bootstrap objects for key were applied
// through this client less than bootstrapRefresh ago.
func (c *tenantClient) bootstrapFresh(key string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.bootstrapped.IsZero() && c.bootstrapKey == key && now.Sub(c.bootstrapped) < bootstrapRefresh
}

// storageClasses are the platform's classes inside a tenant cluster: local
// disks on the node, and volumes replicated over the three datacenters
// (synchronously or not); def is the default class. A provider with a
// volume driver of its own (storage) provisions them instead.
func storageClasses(def string, storage provider.TenantStorage) []*storagev1.StorageClassApplyConfiguration {
	var out []*storagev1.StorageClassApplyConfiguration
	for _, name := range catalog.StorageClasses {
		isDefault := "false"
		if name == def {
			isDefault = "true"
		}
		sc := storagev1.StorageClass(name).
			WithLabels(map[string]string{"apps.hikube.io/managed": "true"}).
			WithAnnotations(map[string]string{"storageclass.kubernetes.io/is-default-class": isDefault}).
			WithProvisioner(name + ".storage.hikube.io").
			WithAllowVolumeExpansion(true)
		if name == "local" {
			sc = sc.WithVolumeBindingMode("WaitForFirstConsumer")
		} else {
			sc = sc.WithVolumeBindingMode("Immediate").WithParameters(map[string]string{
				"replicas": fmt.Sprint(len(catalog.Datacenters)), "zones": strings.Join(catalog.Datacenters, ","),
				"synchronous": fmt.Sprint(name == "replicated"),
			})
		}
		if storage != nil {
			if prov, params, ok := storage.TenantStorageClass(name); ok {
				sc = sc.WithProvisioner(prov)
				sc.Parameters = params
			}
		}
		out = append(out, sc)
	}
	return out
}
