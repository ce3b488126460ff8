package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	rspb "helm.sh/helm/v4/pkg/release/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"

	"github.com/hikube/hikube/pkg/addons/catalog"
	"github.com/hikube/hikube/pkg/addons/helm"
)

// configMapChart renders one ConfigMap holding .Values.data.
func configMapChart() *chartv2.Chart {
	return &chartv2.Chart{
		Metadata: &chartv2.Metadata{APIVersion: "v2", Name: "cm", Version: "1.0.0"},
		Values:   map[string]any{"data": "default"},
		Templates: []*common.File{{Name: "templates/cm.yaml", Data: []byte(
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\ndata: {value: {{ .Values.data | quote }}}\n")}},
	}
}

// TestHelmClient runs the add-ons' Helm client against a real API server
// (the platform's host cluster stands in for a tenant): an unchanged hash is
// no new revision, a changed one an upgrade, and a release left pending by a
// dead process is rolled back (or reinstalled when it is the first revision)
// before the wanted revision is applied.
func TestHelmClient(t *testing.T) {
	ctx := context.Background()
	cfg := env.RESTConfig(t, "admin")
	kube := kubernetes.NewForConfigOrDie(cfg)
	ns := "helm-client-test"
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}) })
	c := helm.NewClient(cfg, nil)
	spec := func(name, data string) helm.Spec {
		v := map[string]any{"data": data}
		return helm.Spec{Name: name, Namespace: ns, Chart: configMapChart(), Values: v, Hash: catalog.Hash("cm", "1.0.0", v),
			Timeout: time.Minute, RetryFailedAfter: time.Minute}
	}
	value := func(name string) string {
		cm, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("configmap %s: %v", name, err)
		}
		return cm.Data["value"]
	}
	apply := func(s helm.Spec) helm.Result {
		t.Helper()
		res, err := c.Apply(ctx, s)
		if err != nil {
			t.Fatalf("apply %s: %v", s.Name, err)
		}
		return res
	}

	if res := apply(spec("a", "one")); !res.Changed || res.Release.Version != 1 || res.Release.Info.Status != rcommon.StatusDeployed {
		t.Fatalf("install: changed %v, revision %d %s", res.Changed, res.Release.Version, res.Release.Info.Status)
	}
	if res := apply(spec("a", "one")); res.Changed || res.Release.Version != 1 {
		t.Errorf("same hash again: changed %v, revision %d; want nothing done", res.Changed, res.Release.Version)
	}
	if res := apply(spec("a", "two")); !res.Changed || res.Release.Version != 2 || value("a") != "two" {
		t.Errorf("new values: changed %v, revision %d, value %q; want revision 2 with two", res.Changed, res.Release.Version, value("a"))
	}
	rel, vals, err := c.Values("a", ns)
	if err != nil || rel.Version != 2 || vals["data"] != "two" {
		t.Errorf("Values = revision %v, %v, %v", rel, vals, err)
	}

	// A process died in the middle of upgrading to three: revision 3 stays
	// pending-upgrade, older than the timeout.
	stick(t, c, "a", ns, spec("a", "three"), rcommon.StatusPendingUpgrade)
	res := apply(spec("a", "three"))
	if !strings.Contains(res.Recovered, "rolled back") {
		t.Errorf("stuck upgrade: recovered %q, want a rollback", res.Recovered)
	}
	if res.Release.Info.Status != rcommon.StatusDeployed || value("a") != "three" {
		t.Errorf("after the repair: %s, value %q; want deployed with three", res.Release.Info.Status, value("a"))
	}

	// A first install that never finished is uninstalled and installed again.
	stick(t, c, "b", ns, spec("b", "one"), rcommon.StatusPendingInstall)
	res = apply(spec("b", "one"))
	if !strings.Contains(res.Recovered, "uninstalled") || res.Release.Version != 1 || res.Release.Info.Status != rcommon.StatusDeployed {
		t.Errorf("stuck install: recovered %q, revision %d %s; want reinstalled as revision 1", res.Recovered, res.Release.Version, res.Release.Info.Status)
	}

	if err := c.Uninstall("a", ns, time.Minute); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Last("a", ns); err != nil || r != nil {
		t.Errorf("after uninstall: %v, %v; want no release", r, err)
	}
	if err := c.Uninstall("a", ns, time.Minute); err != nil {
		t.Errorf("uninstalling a missing release: %v", err)
	}
}

// stick applies s, then rewrites its newest revision as pending since an hour.
func stick(t *testing.T, c *helm.Client, name, ns string, s helm.Spec, status rcommon.Status) {
	t.Helper()
	if _, err := c.Apply(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	// Rewrite the record with Helm's own storage, as the dead process left it.
	kubeconfig := env.Platform.KubeconfigPath("admin")
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig, flags.Namespace = &kubeconfig, &ns
	cfg := action.NewConfiguration()
	if err := cfg.Init(flags, ns, "secret"); err != nil {
		t.Fatal(err)
	}
	last, err := cfg.Releases.Last(name)
	if err != nil {
		t.Fatal(err)
	}
	rel := last.(*rspb.Release)
	rel.Info.Status, rel.Info.LastDeployed = status, time.Now().Add(-time.Hour)
	if err := cfg.Releases.Update(rel); err != nil {
		t.Fatal(err)
	}
}
