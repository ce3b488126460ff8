package installchart

import (
	"slices"
	"testing"
)

// TestControllerGetsTheAddonChartSource: the add-ons' chart source and Helm
// timeout reach hikube-controller's flags; without a source none is passed.
func TestControllerGetsTheAddonChartSource(t *testing.T) {
	objs := render(t, map[string]any{"controller": map[string]any{"addons": map[string]any{
		"chartSource": "oci://registry.example/hikube-charts", "timeout": "3m"}}})
	a := args(t, find(t, objs, "Deployment", "hikube-controller"))
	for _, want := range []string{"--addon-chart-source=oci://registry.example/hikube-charts", "--addon-timeout=3m"} {
		if !slices.Contains(a, want) {
			t.Errorf("controller args %v lack %s", a, want)
		}
	}
	a = args(t, find(t, render(t, nil), "Deployment", "hikube-controller"))
	if slices.ContainsFunc(a, func(s string) bool { return len(s) > 20 && s[:20] == "--addon-chart-source" }) {
		t.Errorf("default args %v carry a chart source", a)
	}
}
