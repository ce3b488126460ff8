// Package tenantrbac names the groups that carry a host-cluster role into a
// tenant cluster. hikube-apiserver puts one of them in the client certificates
// it signs for the kubeconfig subresource (by what the caller may do on the
// Cluster in the host), and the controller binds them inside the tenant
// cluster: admins and editors of the Cluster become cluster-admin, viewers
// read everything but secrets.
package tenantrbac

import (
	metav1 "k8s.io/client-go/applyconfigurations/meta/v1"
	rbacv1 "k8s.io/client-go/applyconfigurations/rbac/v1"
)

const (
	// GroupAdmins is bound to cluster-admin inside the tenant cluster.
	GroupAdmins = "hikube:cluster-admins"
	// GroupViewers is bound to view inside the tenant cluster.
	GroupViewers = "hikube:cluster-viewers"
)

// ViewerRole is the read-only role of GroupViewers: everything the built-in
// view role shows (aggregated, so it follows the cluster's version) plus the
// cluster-scoped objects a viewer of a whole cluster expects to see.
const ViewerRole = "hikube:cluster-viewer"

const aggregateToViewer = "apps.hikube.io/aggregate-to-cluster-viewer"

// Roles are the ClusterRoles the controller applies in every tenant cluster.
func Roles() []*rbacv1.ClusterRoleApplyConfiguration {
	managed := map[string]string{"apps.hikube.io/managed": "true"}
	viewer := rbacv1.ClusterRole(ViewerRole).WithLabels(managed).
		WithAggregationRule(rbacv1.AggregationRule().WithClusterRoleSelectors(
			metav1.LabelSelector().WithMatchLabels(map[string]string{"rbac.authorization.k8s.io/aggregate-to-view": "true"}),
			metav1.LabelSelector().WithMatchLabels(map[string]string{aggregateToViewer: "true"}),
		))
	extraLabels := map[string]string{"apps.hikube.io/managed": "true", aggregateToViewer: "true"}
	extra := rbacv1.ClusterRole(ViewerRole+"-cluster-scoped").WithLabels(extraLabels).WithRules(
		rbacv1.PolicyRule().WithAPIGroups("").WithResources("nodes", "namespaces", "persistentvolumes").WithVerbs("get", "list", "watch"),
		rbacv1.PolicyRule().WithAPIGroups("storage.k8s.io").WithResources("storageclasses", "csinodes", "volumeattachments").WithVerbs("get", "list", "watch"),
		rbacv1.PolicyRule().WithAPIGroups("scheduling.k8s.io").WithResources("priorityclasses").WithVerbs("get", "list", "watch"),
	)
	return []*rbacv1.ClusterRoleApplyConfiguration{extra, viewer}
}

// Bindings are the ClusterRoleBindings the controller applies in every tenant cluster.
func Bindings() []*rbacv1.ClusterRoleBindingApplyConfiguration {
	bind := func(name, role, group string) *rbacv1.ClusterRoleBindingApplyConfiguration {
		return rbacv1.ClusterRoleBinding(name).
			WithLabels(map[string]string{"apps.hikube.io/managed": "true"}).
			WithRoleRef(rbacv1.RoleRef().WithAPIGroup("rbac.authorization.k8s.io").WithKind("ClusterRole").WithName(role)).
			WithSubjects(rbacv1.Subject().WithAPIGroup("rbac.authorization.k8s.io").WithKind("Group").WithName(group))
	}
	return []*rbacv1.ClusterRoleBindingApplyConfiguration{
		bind("hikube:cluster-admins", "cluster-admin", GroupAdmins),
		bind("hikube:cluster-viewers", ViewerRole, GroupViewers),
	}
}
