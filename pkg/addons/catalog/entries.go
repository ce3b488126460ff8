package catalog

import (
	"strings"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

// The pinned chart versions: the upstream releases current when this table
// was written. Bump them here; docs/addons.md lists them.

// cert-manager, from https://charts.jetstack.io (oci://quay.io/jetstack/charts).
var certManager = Addon{
	Key: "certManager", Namespace: "cert-manager", Role: "cert-manager",
	Releases: []Release{{
		Name: "cert-manager", Chart: "cert-manager", Version: "v1.21.1",
		Values: func(in Inputs) map[string]any {
			v := map[string]any{"crds": map[string]any{"enabled": true, "keep": true}, "replicaCount": 1}
			return place(v, in, "", "webhook", "cainjector", "startupapicheck")
		},
	}},
}

// ingress-nginx, from https://kubernetes.github.io/ingress-nginx. The
// project was retired upstream in March 2026: 4.15.1 is its last chart
// release and will get no fixes; gatewayAPI is the maintained alternative.
var ingressNginx = Addon{
	Key: "ingressNginx", Namespace: "ingress-nginx", Role: "ingress-nginx",
	Releases: []Release{{
		Name: "ingress-nginx", Chart: "ingress-nginx", Version: "4.15.1",
		Values: func(in Inputs) map[string]any {
			v := map[string]any{"controller": map[string]any{
				"replicaCount":         2,
				"ingressClassResource": map[string]any{"default": true},
			}}
			if len(in.Hosts) > 0 {
				// external-dns publishes the hosts at the Service's address.
				set(v, "controller.service.annotations", map[string]any{
					"external-dns.alpha.kubernetes.io/hostname": strings.Join(in.Hosts, ","),
				})
			}
			if !in.AdmissionWebhooks {
				set(v, "controller.admissionWebhooks.enabled", false)
			}
			return place(v, in, "controller", "defaultBackend", "controller.admissionWebhooks.patch")
		},
		Enforced: func(in Inputs) map[string]any {
			// The platform accounts for LoadBalancer addresses and routes
			// Proxied clusters through its shared proxy: the Service type
			// follows exposeMethod, and host networking stays off.
			typ := "ClusterIP"
			if in.ExposeMethod == v1alpha1.ExposeLoadBalancer {
				typ = "LoadBalancer"
			}
			return map[string]any{"controller": map[string]any{
				"service":     map[string]any{"type": typ},
				"hostNetwork": false,
				"hostPort":    map[string]any{"enabled": false},
			}}
		},
	}},
}

// Flux, from the community chart https://fluxcd-community.github.io/helm-charts.
var fluxcd = Addon{
	Key: "fluxcd", Namespace: "flux-system", Role: "fluxcd",
	Releases: []Release{{
		Name: "flux2", Chart: "flux2", Version: "2.18.3",
		Values: func(in Inputs) map[string]any {
			v := map[string]any{}
			for _, c := range []string{"sourceController", "kustomizeController", "helmController", "notificationController"} {
				place(v, in, c)
			}
			// Image automation is opt-in through valuesOverride.
			set(v, "imageAutomationController.create", false)
			set(v, "imageReflectionController.create", false)
			return v
		},
	}},
}

// Monitoring agents, from https://prometheus-community.github.io/helm-charts
// and https://fluent.github.io/helm-charts. The DaemonSets run on every
// node, GPU nodes included; kube-state-metrics runs on the role's nodes.
var monitoringAgents = Addon{
	Key: "monitoringAgents", Namespace: "hikube-monitoring", Role: "monitoring",
	Releases: []Release{
		{
			Name: "node-exporter", Chart: "prometheus-node-exporter", Version: "4.55.0",
			Values: func(Inputs) map[string]any {
				return map[string]any{"tolerations": []any{gpuToleration()}}
			},
		},
		{
			Name: "kube-state-metrics", Chart: "kube-state-metrics", Version: "7.4.0",
			Values: func(in Inputs) map[string]any {
				return place(map[string]any{"replicas": 1}, in, "")
			},
		},
		{
			Name: "fluent-bit", Chart: "fluent-bit", Version: "0.57.5",
			Values: func(Inputs) map[string]any {
				return map[string]any{"tolerations": []any{gpuToleration()}}
			},
		},
	},
}

// NVIDIA GPU operator, from https://helm.ngc.nvidia.com/nvidia. Its operands
// (device plugin, toolkit, DCGM) run on the GPU nodes the core taints, so
// they tolerate that taint; the operator itself runs on the role's nodes.
var gpuOperator = Addon{
	Key: "gpuOperator", Namespace: "gpu-operator", Role: "gpu-operator",
	Releases: []Release{{
		Name: "gpu-operator", Chart: "gpu-operator", Version: "v26.7.0",
		Values: func(in Inputs) map[string]any {
			v := map[string]any{
				"operator":   map[string]any{"tolerations": []any{gpuToleration()}},
				"daemonsets": map[string]any{"tolerations": []any{gpuToleration()}},
				// The node OS image ships the driver.
				"driver": map[string]any{"enabled": false},
			}
			return place(v, in, "operator")
		},
	}},
}

// Velero, from https://vmware-tanzu.github.io/helm-charts.
var velero = Addon{
	Key: "velero", Namespace: "velero", Role: "velero",
	Releases: []Release{{
		Name: "velero", Chart: "velero", Version: "12.0.2",
		Values: func(in Inputs) map[string]any {
			v := map[string]any{"deployNodeAgent": true, "nodeAgent": map[string]any{"tolerations": []any{gpuToleration()}}}
			return place(v, in, "")
		},
	}},
}

// Gateway API: Envoy Gateway's chart (oci://docker.io/envoyproxy/gateway-helm)
// carries the Gateway API CRDs and the Envoy Gateway controller, a maintained
// implementation: the successor of the retired ingress-nginx.
var gatewayAPI = Addon{
	Key: "gatewayAPI", Namespace: "envoy-gateway-system", Role: "gateway",
	Releases: []Release{{
		Name: "envoy-gateway", Chart: "gateway-helm", Version: "v1.8.4",
		Values: func(in Inputs) map[string]any {
			v := map[string]any{"deployment": map[string]any{"replicas": 2}}
			if sel := nodeSelector(in); sel != nil {
				set(v, "deployment.pod.nodeSelector", sel)
			}
			return v
		},
	}},
}
