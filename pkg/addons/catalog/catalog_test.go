package catalog

import (
	"reflect"
	"testing"

	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	platformcatalog "github.com/hikube/hikube/pkg/catalog"
)

// lookupPath reads a dotted path of nested maps.
func lookupPath(t *testing.T, m map[string]any, path ...string) any {
	t.Helper()
	var cur any = m
	for _, k := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

func release(t *testing.T, key, name string) (Addon, Release) {
	t.Helper()
	a, ok := Lookup(key)
	if !ok {
		t.Fatalf("no add-on %s", key)
	}
	for _, r := range a.Releases {
		if r.Name == name {
			return a, r
		}
	}
	t.Fatalf("add-on %s has no release %s", key, name)
	return a, Release{}
}

func TestEveryAddonOfTheAPIHasAnEntry(t *testing.T) {
	for _, key := range platformcatalog.Addons {
		a, ok := Lookup(key)
		if !ok {
			t.Errorf("add-on %s of spec.addons has no catalog entry", key)
			continue
		}
		if a.Namespace == "" || len(a.Releases) == 0 {
			t.Errorf("%s: namespace %q, %d releases", key, a.Namespace, len(a.Releases))
		}
		for _, r := range a.Releases {
			if r.Name == "" || r.Chart == "" || r.Version == "" {
				t.Errorf("%s: release %+v lacks a name, chart or version", key, r)
			}
		}
	}
	if len(Addons) != len(platformcatalog.Addons) {
		t.Errorf("catalog has %d add-ons, the API %d", len(Addons), len(platformcatalog.Addons))
	}
}

// TestPlacement: each chart gets the role's nodeSelector under its own
// spelling when a node group carries the role, and none otherwise.
func TestPlacement(t *testing.T) {
	sel := func(role string) map[string]any { return map[string]any{"node-role.kubernetes.io/" + role: ""} }
	cases := []struct {
		key, release string
		path         []string
	}{
		{"certManager", "cert-manager", []string{"nodeSelector"}},
		{"certManager", "cert-manager", []string{"webhook", "nodeSelector"}},
		{"certManager", "cert-manager", []string{"cainjector", "nodeSelector"}},
		{"ingressNginx", "ingress-nginx", []string{"controller", "nodeSelector"}},
		{"fluxcd", "flux2", []string{"sourceController", "nodeSelector"}},
		{"monitoringAgents", "kube-state-metrics", []string{"nodeSelector"}},
		{"gpuOperator", "gpu-operator", []string{"operator", "nodeSelector"}},
		{"velero", "velero", []string{"nodeSelector"}},
		{"gatewayAPI", "envoy-gateway", []string{"deployment", "pod", "nodeSelector"}},
	}
	for _, tc := range cases {
		a, r := release(t, tc.key, tc.release)
		with := r.ValuesFor(Inputs{Role: a.Role, RoleNodes: true, AdmissionWebhooks: true}, nil)
		if got := lookupPath(t, with, tc.path...); !reflect.DeepEqual(got, sel(a.Role)) {
			t.Errorf("%s/%s %v with role nodes = %v, want %v", tc.key, tc.release, tc.path, got, sel(a.Role))
		}
		without := r.ValuesFor(Inputs{Role: a.Role, AdmissionWebhooks: true}, nil)
		if got := lookupPath(t, without, tc.path...); got != nil {
			t.Errorf("%s/%s %v without role nodes = %v, want the chart's default", tc.key, tc.release, tc.path, got)
		}
	}
}

func TestIngressServiceTypeFollowsExposeMethod(t *testing.T) {
	a, r := release(t, "ingressNginx", "ingress-nginx")
	for method, want := range map[v1alpha1.IngressExposeMethod]string{v1alpha1.ExposeProxied: "ClusterIP", v1alpha1.ExposeLoadBalancer: "LoadBalancer"} {
		// A tenant asking for another type gets the plan's.
		override := map[string]any{"controller": map[string]any{"service": map[string]any{"type": "NodePort"}}}
		v := r.ValuesFor(Inputs{Role: a.Role, ExposeMethod: method, Hosts: []string{"a.example.com", "b.example.com"}}, override)
		if got := lookupPath(t, v, "controller", "service", "type"); got != want {
			t.Errorf("%s: service type %v, want %s", method, got, want)
		}
		if got := lookupPath(t, v, "controller", "service", "annotations", "external-dns.alpha.kubernetes.io/hostname"); got != "a.example.com,b.example.com" {
			t.Errorf("%s: hosts annotation %v", method, got)
		}
	}
	cl := &v1alpha1.Cluster{Spec: v1alpha1.ClusterSpec{Addons: v1alpha1.Addons{IngressNginx: &v1alpha1.IngressNginxAddon{}}}}
	if in := InputsFor(a, cl, true); in.ExposeMethod != v1alpha1.ExposeProxied {
		t.Errorf("default exposeMethod = %q, want Proxied", in.ExposeMethod)
	}
}

func TestAdmissionWebhooksOffWhereUnreachable(t *testing.T) {
	_, r := release(t, "ingressNginx", "ingress-nginx")
	if got := lookupPath(t, r.ValuesFor(Inputs{}, nil), "controller", "admissionWebhooks", "enabled"); got != false {
		t.Errorf("admissionWebhooks.enabled = %v, want false", got)
	}
	if got := lookupPath(t, r.ValuesFor(Inputs{AdmissionWebhooks: true}, nil), "controller", "admissionWebhooks", "enabled"); got != nil {
		t.Errorf("admissionWebhooks.enabled = %v, want the chart's default", got)
	}
}

// TestGPUTaintTolerated: what must run on GPU nodes tolerates the taint the
// core puts there (nvidia.com/gpu, NoSchedule).
func TestGPUTaintTolerated(t *testing.T) {
	want := []any{map[string]any{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}}
	for _, tc := range []struct {
		key, release string
		path         []string
	}{
		{"gpuOperator", "gpu-operator", []string{"daemonsets", "tolerations"}},
		{"gpuOperator", "gpu-operator", []string{"operator", "tolerations"}},
		{"monitoringAgents", "node-exporter", []string{"tolerations"}},
		{"monitoringAgents", "fluent-bit", []string{"tolerations"}},
		{"velero", "velero", []string{"nodeAgent", "tolerations"}},
	} {
		_, r := release(t, tc.key, tc.release)
		if got := lookupPath(t, r.ValuesFor(Inputs{}, nil), tc.path...); !reflect.DeepEqual(got, want) {
			t.Errorf("%s/%s %v = %v, want %v", tc.key, tc.release, tc.path, got, want)
		}
	}
}

// TestOverrideMergeAndNullDeletion: the override merges over the platform
// values key by key, and a null removes a key from the platform values and
// from the chart's defaults once Helm coalesces them.
func TestOverrideMergeAndNullDeletion(t *testing.T) {
	a, r := release(t, "certManager", "cert-manager")
	spec := &v1alpha1.Addon{Enabled: true, ValuesOverride: &runtime.RawExtension{Raw: []byte(
		`{"replicaCount":3,"webhook":{"nodeSelector":null,"timeoutSeconds":5},"prometheus":null,"crds":{"keep":null}}`)}}
	override, err := a.Override(spec, r.Name)
	if err != nil {
		t.Fatal(err)
	}
	vals := r.ValuesFor(Inputs{Role: a.Role, RoleNodes: true}, override)
	chart := &chartv2.Chart{Metadata: &chartv2.Metadata{Name: "cert-manager", Version: "v1.21.1", APIVersion: "v2"}, Values: map[string]any{
		"replicaCount": 1,
		"prometheus":   map[string]any{"enabled": true},
		"webhook":      map[string]any{"timeoutSeconds": 30, "nodeSelector": map[string]any{"kubernetes.io/os": "linux"}},
		"crds":         map[string]any{"enabled": false, "keep": true},
	}}
	eff, err := chartutil.CoalesceValues(chart, vals)
	if err != nil {
		t.Fatal(err)
	}
	m := eff.AsMap()
	if got := lookupPath(t, m, "replicaCount"); got != float64(3) {
		t.Errorf("replicaCount = %v (%T), want the override's 3", got, got)
	}
	if got := lookupPath(t, m, "webhook", "timeoutSeconds"); got != float64(5) {
		t.Errorf("webhook.timeoutSeconds = %v, want 5", got)
	}
	if _, ok := lookupPath(t, m, "webhook").(map[string]any)["nodeSelector"]; ok {
		t.Errorf("webhook.nodeSelector survived its null: %v", lookupPath(t, m, "webhook"))
	}
	if _, ok := m["prometheus"]; ok {
		t.Errorf("prometheus (a chart default) survived its null: %v", m["prometheus"])
	}
	if got := lookupPath(t, m, "crds", "enabled"); got != true {
		t.Errorf("crds.enabled = %v, want the platform's true", got)
	}
	if _, ok := lookupPath(t, m, "crds").(map[string]any)["keep"]; ok {
		t.Errorf("crds.keep survived its null")
	}
	if got := lookupPath(t, m, "cainjector", "nodeSelector"); !reflect.DeepEqual(got, map[string]any{"node-role.kubernetes.io/cert-manager": ""}) {
		t.Errorf("cainjector.nodeSelector = %v, want the platform's placement", got)
	}
}

func TestOverrideOfAMultiReleaseAddonIsKeyedByRelease(t *testing.T) {
	a, _ := Lookup("monitoringAgents")
	spec := &v1alpha1.Addon{ValuesOverride: &runtime.RawExtension{Raw: []byte(`{"fluent-bit":{"logLevel":"debug"}}`)}}
	fb, err := a.Override(spec, "fluent-bit")
	if err != nil || fb["logLevel"] != "debug" {
		t.Errorf("fluent-bit override = %v, %v", fb, err)
	}
	ne, err := a.Override(spec, "node-exporter")
	if err != nil || ne != nil {
		t.Errorf("node-exporter override = %v, %v; want none", ne, err)
	}
	bad := &v1alpha1.Addon{ValuesOverride: &runtime.RawExtension{Raw: []byte(`{"fluent-bit":3}`)}}
	if _, err := a.Override(bad, "fluent-bit"); err == nil {
		t.Error("a non-object override of a release was accepted")
	}
}

func TestHashChangesWithVersionAndValuesOnly(t *testing.T) {
	v1 := map[string]any{"a": 1, "b": map[string]any{"c": "x"}}
	v2 := map[string]any{"b": map[string]any{"c": "x"}, "a": 1}
	if Hash("c", "1", v1) != Hash("c", "1", v2) {
		t.Error("the same values in another order hash differently")
	}
	if Hash("c", "1", v1) == Hash("c", "2", v1) {
		t.Error("another chart version hashes the same")
	}
	if Hash("c", "1", v1) == Hash("c", "1", map[string]any{"a": 2}) {
		t.Error("other values hash the same")
	}
}
