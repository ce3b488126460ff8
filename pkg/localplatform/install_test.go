package localplatform

import (
	"context"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/hikube/hikube/pkg/installchart"
)

// The chart mode's values render images the process node is told to run,
// and put every workload on the process nodes.
func TestChartModeValuesRunOnTheProcessNode(t *testing.T) {
	p := &Platform{opts: Options{Install: InstallChart, NodeProvider: NodeProviderKubeVirt}, bin: "/bin-dir", pki: &platformPKI{dir: "/pki"}}
	c, err := installchart.Load()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := installchart.Render(context.Background(), c, p.chartInstallValues(chartAddons{source: addonChartsMount, dir: "/home/charts", timeout: "1m"}))
	if err != nil {
		t.Fatal(err)
	}
	mapped := map[string]bool{}
	for _, f := range p.imageFlags() {
		repo, _, _ := strings.Cut(strings.TrimPrefix(f, "--image="), "=")
		mapped[repo] = true
	}
	workloads := 0
	for _, o := range objs {
		if o.GetKind() != "Deployment" && o.GetKind() != "StatefulSet" {
			continue
		}
		workloads++
		sel, _, _ := unstructured.NestedStringMap(o.Object, "spec", "template", "spec", "nodeSelector")
		if _, ok := sel["node-role.hikube.io/control-plane"]; !ok {
			t.Errorf("%s %s: nodeSelector %v does not pick the process nodes", o.GetKind(), o.GetName(), sel)
		}
		cs, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		image, _, _ := unstructured.NestedString(cs[0].(map[string]any), "image")
		repo := image[:strings.LastIndex(image, ":")]
		if o.GetName() != "hikube-etcd" && !mapped[repo] {
			t.Errorf("%s %s runs %s, which no --image flag maps (%v)", o.GetKind(), o.GetName(), image, p.imageFlags())
		}
	}
	ctrl := find(t, objs, "Deployment", "hikube-controller")
	if !slices.Contains(containerArgs(ctrl), "--addon-chart-source="+addonChartsMount) {
		t.Errorf("the controller's flags %v do not name the mounted charts", containerArgs(ctrl))
	}
	vols, _, _ := unstructured.NestedSlice(ctrl.Object, "spec", "template", "spec", "volumes")
	if len(vols) != 1 {
		t.Errorf("controller volumes %v, want the stand-in charts' directory", vols)
	}
	if workloads != 3 {
		t.Errorf("%d workloads rendered, want hikube-apiserver, hikube-controller and hikube-etcd", workloads)
	}
	if (&Platform{}).imageFlags() != nil {
		t.Error("the process mode maps images")
	}
	if !slices.Contains(p.kubeAPIServerArgs(), "--enable-aggregator-routing=true") {
		t.Error("the chart mode's kube-apiserver does not route to the Service's endpoints")
	}
}

func TestChartModeNeedsTheKubeVirtMode(t *testing.T) {
	for _, o := range []Options{{Install: InstallChart}, {Install: "operator", NodeProvider: NodeProviderKubeVirt}} {
		o.Home, o.BinDir = t.TempDir(), t.TempDir()
		if _, err := Start(context.Background(), o); err == nil {
			t.Errorf("Start(%+v) accepted it", o)
		}
	}
}

func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
	return nil
}

func containerArgs(o *unstructured.Unstructured) []string {
	cs, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
	a, _, _ := unstructured.NestedStringSlice(cs[0].(map[string]any), "args")
	return a
}
