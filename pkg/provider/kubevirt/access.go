package kubevirt

import (
	"context"
	"fmt"
	"net"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/pkg/provider"
)

// AdminConfig is the provider's cluster-admin access to the tenant, through
// the endpoint, from the kubeconfig Secret the provider keeps in the host
// namespace.
func (cp *ControlPlane) AdminConfig(ctx context.Context, c provider.ClusterRef) (*rest.Config, error) {
	s, err := cp.host.CoreV1().Secrets(HostNamespace(c)).Get(ctx, secretName(c, secretAdmin), metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("admin config of %s: %w", c, err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(s.Data[keyKubeconfig])
	if err != nil {
		return nil, fmt.Errorf("admin config of %s: %w", c, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, nil
}

// JoinEndpoint is where worker VMs reach the tenant API: the endpoint
// Service's ingress on port 443, the cluster CA, and the minor the
// control-plane Deployment runs.
func (cp *ControlPlane) JoinEndpoint(ctx context.Context, c provider.ClusterRef) (string, []byte, string, error) {
	n := namesOf(c)
	svc, err := cp.host.CoreV1().Services(n.ns).Get(ctx, n.endpoint(), metav1.GetOptions{})
	if err != nil {
		return "", nil, "", fmt.Errorf("join endpoint of %s: %w", c, err)
	}
	host := endpointHost(svc)
	if host == "" {
		return "", nil, "", fmt.Errorf("join endpoint of %s: the Service %s has no ingress address yet", c, n.endpoint())
	}
	s, err := cp.host.CoreV1().Secrets(n.ns).Get(ctx, secretName(c, secretAPIServer), metav1.GetOptions{})
	if err != nil {
		return "", nil, "", fmt.Errorf("join endpoint of %s: %w", c, err)
	}
	d, err := cp.host.AppsV1().Deployments(n.ns).Get(ctx, n.controlPlane(), metav1.GetOptions{})
	if err != nil {
		return "", nil, "", fmt.Errorf("join endpoint of %s: %w", c, err)
	}
	minor := minorOf(imageVersion(containerImage(d.Spec.Template.Spec.Containers, containerAPIServer)))
	return net.JoinHostPort(host, strconv.Itoa(endpointPort)), s.Data["ca.crt"], minor, nil
}

// Delete removes the cluster's workloads, etcd last, then, once their pods
// have stopped, its host namespace with everything left in it (Secrets,
// Services, the etcd volumes). Done once the namespace is gone.
//
// etcd goes once every other pod has stopped: a kube-apiserver whose etcd
// is gone hangs in its shutdown until it is killed at the end of its grace
// period (30 s), where with its etcd it exits in a second.
func (cp *ControlPlane) Delete(ctx context.Context, c provider.ClusterRef) (bool, error) {
	n := namesOf(c)
	list := metav1.ListOptions{LabelSelector: clusterSelector(c)}
	del := metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)}
	if err := cp.host.AppsV1().Deployments(n.ns).DeleteCollection(ctx, del, list); err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("deleting the deployments of %s: %w", c, err)
	}
	now := cp.now()
	notEtcd := clusterSelector(c) + "," + labelComponent + "!=" + componentEtcd
	if waiting, err := stopPods(ctx, cp.host, c, notEtcd, now); err != nil || waiting {
		return false, err
	}
	if err := cp.host.AppsV1().StatefulSets(n.ns).DeleteCollection(ctx, del, list); err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("deleting the etcd of %s: %w", c, err)
	}
	return removeHostNamespace(ctx, cp.host, c, now)
}

// tenantRoles are the ClusterRoles (and bindings to their users) the
// per-cluster KubeVirt components need inside the tenant.
func tenantRoles() []struct {
	name, user string
	rules      []*rbacv1ac.PolicyRuleApplyConfiguration
} {
	return []struct {
		name, user string
		rules      []*rbacv1ac.PolicyRuleApplyConfiguration
	}{
		{"hikube:kubevirt-cloud-controller-manager", userCloudProvider, cloudProviderTenantRules()},
		{"hikube:kubevirt-csi-controller", userCSI, csiTenantRules()},
	}
}

// ensureTenantRBAC gives the cloud provider and the CSI controller their
// rights in the tenant, once its API answers.
func (cp *ControlPlane) ensureTenantRBAC(ctx context.Context, cfg *rest.Config) error {
	tenant, err := cp.tenantClient(cfg)
	if err != nil {
		return err
	}
	opts := metav1.ApplyOptions{FieldManager: cp.opts.FieldManager, Force: true}
	l := map[string]string{"apps.hikube.io/managed": "true"}
	for _, r := range tenantRoles() {
		role := rbacv1ac.ClusterRole(r.name).WithLabels(l).WithRules(r.rules...)
		if _, err := tenant.RbacV1().ClusterRoles().Apply(ctx, role, opts); err != nil {
			return fmt.Errorf("tenant role %s: %w", r.name, err)
		}
		b := rbacv1ac.ClusterRoleBinding(r.name).WithLabels(l).
			WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup("rbac.authorization.k8s.io").WithKind("ClusterRole").WithName(r.name)).
			WithSubjects(rbacv1ac.Subject().WithAPIGroup("rbac.authorization.k8s.io").WithKind("User").WithName(r.user))
		if _, err := tenant.RbacV1().ClusterRoleBindings().Apply(ctx, b, opts); err != nil {
			return fmt.Errorf("tenant role binding %s: %w", r.name, err)
		}
	}
	return nil
}

func (cp *ControlPlane) tenantClient(cfg *rest.Config) (kubernetes.Interface, error) {
	if cp.opts.TenantClient != nil {
		return cp.opts.TenantClient(cfg)
	}
	return kubernetes.NewForConfig(cfg)
}
