// Package platform names what every hikube component agrees on: the
// namespace the platform keeps its own objects in and the names its
// components write under. One place, so a rename is one change.
package platform

import "github.com/hikube/hikube/apis/apps/v1alpha1"

const (
	// Namespace holds the platform's own objects: cluster PKI, the GPU
	// inventory, the controller's Lease. Tenants have no RBAC there.
	Namespace = "hikube-system"

	// ControllerName is hikube-controller's field manager, event source and
	// Lease name.
	ControllerName = "hikube-controller"

	// TenantLabel marks a namespace as a tenant (the API's label).
	TenantLabel = v1alpha1.LabelTenant
)
