// Package tenantrbac names the groups that carry a host-cluster role into a
// tenant cluster. hikube-apiserver puts one of them in the client certificates
// it signs for the kubeconfig subresource (by what the caller may do on the
// Cluster in the host), and the controller binds them inside the tenant
// cluster: admins and editors of the Cluster become cluster-admin, viewers
// read everything but secrets.
package tenantrbac

import (
	rbacv1api "k8s.io/api/rbac/v1"
	rbacv1 "k8s.io/client-go/applyconfigurations/rbac/v1"
)

const (
	// GroupAdmins is bound to cluster-admin inside the tenant cluster.
	GroupAdmins = "hikube:cluster-admins"
	// GroupViewers is bound to view inside the tenant cluster.
	GroupViewers = "hikube:cluster-viewers"
)

// ViewerRole is the read-only role of GroupViewers: the rules of the
// tenant's own system:aggregate-to-view (what the built-in view role shows,
// for that cluster's version, no secrets) plus the cluster-scoped objects a
// viewer of a whole cluster expects to see. It is written with its rules
// rather than aggregated, so it works as soon as the API serves instead of
// once the controller manager has started its aggregator.
const ViewerRole = "hikube:cluster-viewer"

// SourceViewRole is the bootstrap role the viewer role copies.
const SourceViewRole = "system:aggregate-to-view"

// ViewerRoleFrom builds the viewer role from the rules of SourceViewRole.
func ViewerRoleFrom(view []rbacv1api.PolicyRule) *rbacv1.ClusterRoleApplyConfiguration {
	role := rbacv1.ClusterRole(ViewerRole).WithLabels(map[string]string{"apps.hikube.io/managed": "true"})
	for _, r := range view {
		role = role.WithRules(rbacv1.PolicyRule().WithAPIGroups(r.APIGroups...).WithResources(r.Resources...).
			WithResourceNames(r.ResourceNames...).WithNonResourceURLs(r.NonResourceURLs...).WithVerbs(r.Verbs...))
	}
	return role.WithRules(
		rbacv1.PolicyRule().WithAPIGroups("").WithResources("nodes", "namespaces", "persistentvolumes").WithVerbs("get", "list", "watch"),
		rbacv1.PolicyRule().WithAPIGroups("storage.k8s.io").WithResources("storageclasses", "csinodes", "volumeattachments").WithVerbs("get", "list", "watch"),
		rbacv1.PolicyRule().WithAPIGroups("scheduling.k8s.io").WithResources("priorityclasses").WithVerbs("get", "list", "watch"),
	)
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
