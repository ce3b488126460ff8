package cluster

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	storagev1 "k8s.io/client-go/applyconfigurations/storage/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/provider"
	"github.com/hikube/hikube/pkg/tenantrbac"
)

// tenantClient is the core's admin client of one tenant cluster.
type tenantClient struct {
	ref  provider.ClusterRef
	host string
	kube kubernetes.Interface
}

var applyOptions = metav1.ApplyOptions{FieldManager: "hikube-controller", Force: true}

// tenantFor returns a cached client of the tenant cluster, rebuilt when the
// provider moved its endpoint.
func (c *Controller) tenantFor(ctx context.Context, ref provider.ClusterRef) (*tenantClient, error) {
	cfg, err := c.provider.AdminConfig(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("admin access to %s: %w", ref, err)
	}
	if v, ok := c.tenants.Load(ref.UID); ok && v.(*tenantClient).host == cfg.Host {
		return v.(*tenantClient), nil
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client of %s: %w", ref, err)
	}
	t := &tenantClient{ref: ref, host: cfg.Host, kube: cs}
	c.tenants.Store(ref.UID, t)
	return t, nil
}

// ensureTenantBootstrap makes the tenant cluster usable by its tenants: the
// RBAC bindings for the groups the kubeconfig subresource hands out, and the
// storage classes with the spec's default.
func (c *Controller) ensureTenantBootstrap(ctx context.Context, s *state) error {
	t, err := c.tenantFor(ctx, s.ref)
	if err != nil {
		return err
	}
	s.tenant = t
	view, err := t.kube.RbacV1().ClusterRoles().Get(ctx, tenantrbac.SourceViewRole, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading role %s in %s: %w", tenantrbac.SourceViewRole, s.ref, err)
	}
	if _, err := t.kube.RbacV1().ClusterRoles().Apply(ctx, tenantrbac.ViewerRoleFrom(view.Rules), applyOptions); err != nil {
		return fmt.Errorf("role %s in %s: %w", tenantrbac.ViewerRole, s.ref, err)
	}
	for _, b := range tenantrbac.Bindings() {
		if _, err := t.kube.RbacV1().ClusterRoleBindings().Apply(ctx, b, applyOptions); err != nil {
			return fmt.Errorf("binding %s in %s: %w", *b.Name, s.ref, err)
		}
	}
	for _, sc := range storageClasses(s.cluster.Spec.StorageClass) {
		if _, err := t.kube.StorageV1().StorageClasses().Apply(ctx, sc, applyOptions); err != nil {
			return fmt.Errorf("storage class %s in %s: %w", *sc.Name, s.ref, err)
		}
	}
	return nil
}

// storageClasses are the platform's classes inside a tenant cluster: local
// disks on the node, and volumes replicated over the three datacenters
// (synchronously or not); def is the default class.
func storageClasses(def string) []*storagev1.StorageClassApplyConfiguration {
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
		out = append(out, sc)
	}
	return out
}
