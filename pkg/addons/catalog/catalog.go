// Package catalog is the table of add-ons hikube installs as Helm releases
// in tenant clusters: for each add-on, its charts at pinned versions, where
// they are released, and how hikube's choices (node roles, ingress exposure,
// GPU nodes) become each chart's values.
package catalog

import (
	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

// Addon is one entry of spec.addons.
type Addon struct {
	// Key is the spec key (certManager).
	Key string
	// Namespace holds the add-on's releases and workloads; it is deleted when
	// the add-on is disabled.
	Namespace string
	// Role is the node role whose nodes run the add-on's workloads, when a
	// node group carries it (node-role.kubernetes.io/<role>).
	Role string
	// Releases are installed in order and uninstalled in reverse.
	Releases []Release
}

// Release is one Helm release of an add-on.
type Release struct {
	// Name is the release name; it also keys the add-on's valuesOverride
	// when the add-on has several releases.
	Name string
	// Chart and Version name the chart in the configured chart source.
	Chart, Version string
	// Values are the platform's values for the chart: placement, replicas,
	// exposure. The tenant's valuesOverride goes over them.
	Values func(Inputs) map[string]any
	// Enforced are applied over the tenant's override: what a tenant must
	// not change because it would break isolation or the platform's
	// accounting (an ingress LoadBalancer when the plan is Proxied).
	Enforced func(Inputs) map[string]any
}

// Inputs are hikube's choices an add-on's values depend on.
type Inputs struct {
	// RoleNodes is true when a node group carries the add-on's role.
	RoleNodes bool
	// Role is the add-on's role (Addon.Role).
	Role string
	// ExposeMethod and Hosts are the ingress add-on's settings.
	ExposeMethod v1alpha1.IngressExposeMethod
	Hosts        []string
	// AdmissionWebhooks is false where the tenant API server cannot reach
	// pods (a platform whose nodes are simulated): charts then disable their
	// webhooks or make them fail open.
	AdmissionWebhooks bool
}

// Addons are every add-on, in spec order.
var Addons = []Addon{
	certManager, ingressNginx, fluxcd, monitoringAgents, gpuOperator, velero, gatewayAPI,
}

// Lookup returns the add-on of a spec key.
func Lookup(key string) (Addon, bool) {
	for _, a := range Addons {
		if a.Key == key {
			return a, true
		}
	}
	return Addon{}, false
}

// InputsFor derives an add-on's inputs from a cluster's spec.
func InputsFor(a Addon, cl *v1alpha1.Cluster, admissionWebhooks bool) Inputs {
	in := Inputs{Role: a.Role, AdmissionWebhooks: admissionWebhooks}
	for _, g := range cl.Spec.NodeGroups {
		for _, r := range g.Roles {
			if r == a.Role {
				in.RoleNodes = true
			}
		}
	}
	if ing := cl.Spec.Addons.IngressNginx; ing != nil {
		in.ExposeMethod = ing.ExposeMethod
		in.Hosts = ing.Hosts
	}
	if in.ExposeMethod == "" {
		in.ExposeMethod = v1alpha1.ExposeProxied
	}
	return in
}

// Spec returns the add-on's spec in a cluster (nil when absent).
func Spec(a *v1alpha1.Addons, key string) *v1alpha1.Addon {
	switch key {
	case "certManager":
		return a.CertManager
	case "ingressNginx":
		if a.IngressNginx == nil {
			return nil
		}
		return &a.IngressNginx.Addon
	case "fluxcd":
		return a.Fluxcd
	case "monitoringAgents":
		return a.MonitoringAgents
	case "gpuOperator":
		return a.GPUOperator
	case "velero":
		return a.Velero
	case "gatewayAPI":
		return a.GatewayAPI
	}
	return nil
}
