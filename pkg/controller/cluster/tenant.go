package cluster

import (
	"context"
	"fmt"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	storagev1 "k8s.io/client-go/applyconfigurations/storage/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

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
}

var applyOptions = metav1.ApplyOptions{FieldManager: fieldManager, Force: true}

// tenantClients caches an admin client per tenant cluster, keyed by UID: a
// cluster re-created under the same name has a new UID, and so never gets
// the client (nor the endpoint) of the one before it.
type tenantClients struct {
	// adminConfig is the provider's AdminConfig.
	adminConfig func(ctx context.Context, ref clusterpki.ClusterRef) (*rest.Config, error)
	// newClient builds a client from that config (kubernetes.NewForConfig).
	newClient func(*rest.Config) (kubernetes.Interface, error)

	mu      sync.Mutex
	clients map[string]*tenantClient // by cluster UID
}

func newTenantClients(adminConfig func(context.Context, clusterpki.ClusterRef) (*rest.Config, error), newClient func(*rest.Config) (kubernetes.Interface, error)) *tenantClients {
	return &tenantClients{adminConfig: adminConfig, newClient: newClient, clients: map[string]*tenantClient{}}
}

// get returns the cached client of the tenant cluster, rebuilt when the
// provider moved its endpoint.
func (t *tenantClients) get(ctx context.Context, ref clusterpki.ClusterRef) (*tenantClient, error) {
	cfg, err := t.adminConfig(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("admin access to %s: %w", ref, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.clients[ref.UID]; ok && c.host == cfg.Host {
		return c, nil
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := t.newClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("client of %s: %w", ref, err)
	}
	c := &tenantClient{ref: ref, host: cfg.Host, kube: cs, config: cfg}
	t.clients[ref.UID] = c
	return c, nil
}

// forget drops the clients of every cluster named ns/name, whatever its UID.
func (t *tenantClients) forget(ns, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for uid, c := range t.clients {
		if c.ref.Namespace == ns && c.ref.Name == name {
			delete(t.clients, uid)
		}
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
}

func (r *tenantBootstrapReconciler) reconcile(ctx context.Context, s *state) (reconcileStatus, error) {
	t, err := r.tenants.get(ctx, s.ref)
	if err != nil {
		return reconcileStop, err
	}
	s.tenant = t
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
	return reconcileContinue, nil
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
