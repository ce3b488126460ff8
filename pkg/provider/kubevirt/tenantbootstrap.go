package kubevirt

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
)

// What `kubeadm init` sets up in a cluster so that `kubeadm join` with a
// bootstrap token works, under kubeadm's own names so that an operator who
// knows kubeadm finds them:
//   - cluster-info in kube-public: the CA and endpoint, readable
//     anonymously; kube-controller-manager's bootstrapsigner signs it with
//     each token (JWS), which is how a joining node trusts it;
//   - the bootstrap group may create CSRs, and its CSRs (and the renewals
//     of nodes) are approved by kube-controller-manager's csrapproving
//     controller;
//   - the bootstrap group may read Nodes (kubeadm join checks for a Node of
//     its own name).
const (
	roleNodeBootstrapper     = "system:node-bootstrapper"
	roleNodeClient           = "system:certificates.k8s.io:certificatesigningrequests:nodeclient"
	roleSelfNodeClient       = "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"
	roleClusterInfoReader    = "kubeadm:bootstrap-signer-clusterinfo"
	roleGetNodes             = "kubeadm:get-nodes"
	bindingKubeletBootstrap  = "kubeadm:kubelet-bootstrap"
	bindingNodeAutoapprove   = "kubeadm:node-autoapprove-bootstrap"
	bindingNodeCertRotation  = "kubeadm:node-autoapprove-certificate-rotation"
	userAnonymous            = "system:anonymous"
	groupNodes               = "system:nodes"
	clusterInfoKubeconfigKey = bootstrapapi.KubeConfigKey
)

// ClusterInfo is kube-public/cluster-info for a tenant API endpoint
// (https://host:port) and its CA.
func ClusterInfo(endpoint string, caPEM []byte) (*corev1.ConfigMap, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[""] = &clientcmdapi.Cluster{Server: endpoint, CertificateAuthorityData: caPEM}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("encoding cluster-info: %w", err)
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: bootstrapapi.ConfigMapClusterInfo, Namespace: metav1.NamespacePublic},
		Data:       map[string]string{clusterInfoKubeconfigKey: string(data)},
	}, nil
}

func groupBinding(name, role, group string) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: group}},
	}
}

// EnsureTenantBootstrap writes cluster-info and the bootstrap RBAC into the
// tenant cluster. endpoint is https://host:port as nodes reach it.
func EnsureTenantBootstrap(ctx context.Context, tenant kubernetes.Interface, endpoint string, caPEM []byte, fieldManager string) error {
	opts := metav1.CreateOptions{FieldManager: fieldManager}
	upd := metav1.UpdateOptions{FieldManager: fieldManager}

	ci, err := ClusterInfo(endpoint, caPEM)
	if err != nil {
		return err
	}
	cms := tenant.CoreV1().ConfigMaps(metav1.NamespacePublic)
	cur, err := cms.Get(ctx, ci.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = cms.Create(ctx, ci, opts)
	case err == nil && cur.Data[clusterInfoKubeconfigKey] != ci.Data[clusterInfoKubeconfigKey]:
		// Keep the JWS signatures the bootstrapsigner added; it re-signs
		// when the kubeconfig changes.
		cur.Data[clusterInfoKubeconfigKey] = ci.Data[clusterInfoKubeconfigKey]
		_, err = cms.Update(ctx, cur, upd)
	}
	if err != nil {
		return fmt.Errorf("writing cluster-info: %w", err)
	}

	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: roleClusterInfoReader, Namespace: metav1.NamespacePublic},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""}, Resources: []string{"configmaps"},
			ResourceNames: []string{bootstrapapi.ConfigMapClusterInfo}, Verbs: []string{"get"},
		}},
	}
	if err := createOrUpdate(ctx, role, tenant.RbacV1().Roles(metav1.NamespacePublic).Create, tenant.RbacV1().Roles(metav1.NamespacePublic).Update, opts, upd); err != nil {
		return fmt.Errorf("writing role %s: %w", role.Name, err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: roleClusterInfoReader, Namespace: metav1.NamespacePublic},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: roleClusterInfoReader},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: userAnonymous}},
	}
	if err := createOrUpdate(ctx, rb, tenant.RbacV1().RoleBindings(metav1.NamespacePublic).Create, tenant.RbacV1().RoleBindings(metav1.NamespacePublic).Update, opts, upd); err != nil {
		return fmt.Errorf("writing role binding %s: %w", rb.Name, err)
	}

	getNodes := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: roleGetNodes},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get"}}},
	}
	if err := createOrUpdate(ctx, getNodes, tenant.RbacV1().ClusterRoles().Create, tenant.RbacV1().ClusterRoles().Update, opts, upd); err != nil {
		return fmt.Errorf("writing cluster role %s: %w", getNodes.Name, err)
	}
	for _, b := range []*rbacv1.ClusterRoleBinding{
		groupBinding(bindingKubeletBootstrap, roleNodeBootstrapper, NodeBootstrapGroup),
		groupBinding(bindingNodeAutoapprove, roleNodeClient, NodeBootstrapGroup),
		groupBinding(bindingNodeCertRotation, roleSelfNodeClient, groupNodes),
		groupBinding(roleGetNodes, roleGetNodes, NodeBootstrapGroup),
	} {
		if err := createOrUpdate(ctx, b, tenant.RbacV1().ClusterRoleBindings().Create, tenant.RbacV1().ClusterRoleBindings().Update, opts, upd); err != nil {
			return fmt.Errorf("writing cluster role binding %s: %w", b.Name, err)
		}
	}
	return nil
}

// createOrUpdate creates obj, or overwrites it when it exists: these
// objects are the platform's, a tenant's edit is reverted.
func createOrUpdate[T any](ctx context.Context, obj T,
	create func(context.Context, T, metav1.CreateOptions) (T, error),
	update func(context.Context, T, metav1.UpdateOptions) (T, error),
	copts metav1.CreateOptions, uopts metav1.UpdateOptions) error {
	_, err := create(ctx, obj, copts)
	if apierrors.IsAlreadyExists(err) {
		_, err = update(ctx, obj, uopts)
	}
	return err
}
