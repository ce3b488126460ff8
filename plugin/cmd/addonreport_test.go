package cmd

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

func TestAddonListShowsReleaseVersionAndState(t *testing.T) {
	cl := &v1alpha1.Cluster{}
	cl.Spec.Addons.IngressNginx = &v1alpha1.IngressNginxAddon{Addon: v1alpha1.Addon{Enabled: true}}
	cl.Spec.Addons.Velero = &v1alpha1.Addon{Enabled: true}
	cl.Status.Addons = map[string]v1alpha1.AddonStatus{
		"ingressNginx": {State: v1alpha1.AddonReady, Reason: v1alpha1.ReasonDeployed, Releases: []v1alpha1.AddonRelease{
			{Name: "ingress-nginx", Namespace: "ingress-nginx", Chart: "ingress-nginx", ChartVersion: "4.15.1", Revision: 2, Status: "deployed"}}},
		"velero": {State: v1alpha1.AddonFailed, Reason: v1alpha1.ReasonChartUnavailable, Message: "https://charts.example/index.yaml: velero 12.0.2: chart not found"},
	}
	var out bytes.Buffer
	if err := printAddons(&out, cl); err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]+" "+f[3]] = l
		}
	}
	for key, want := range map[string][]string{
		"ingress-nginx ingress-nginx/ingress-nginx":      {"true", "Ready", "4.15.1", "2 (deployed)"},
		"velero velero/velero":                           {"true", "Failed", "12.0.2", "ChartUnavailable: https://charts.example/index.yaml"},
		"cert-manager cert-manager/cert-manager":         {"false", "-", "v1.21.1"},
		"monitoring-agents hikube-monitoring/fluent-bit": {"false", "fluent-bit"},
	} {
		l, ok := lines[key]
		if !ok {
			t.Errorf("no line for %s in\n%s", key, out.String())
			continue
		}
		for _, w := range want {
			if !strings.Contains(l, w) {
				t.Errorf("line %q lacks %q", l, w)
			}
		}
	}
}
