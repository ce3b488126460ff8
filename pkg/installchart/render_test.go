package installchart

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/quota"
)

func render(t *testing.T, values map[string]any) []*unstructured.Unstructured {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Render(context.Background(), c, values)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s among the rendered objects", kind, name)
	return nil
}

func args(t *testing.T, o *unstructured.Unstructured) []string {
	t.Helper()
	cs, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
	if len(cs) == 0 {
		t.Fatalf("%s %s has no containers", o.GetKind(), o.GetName())
	}
	a, _, _ := unstructured.NestedStringSlice(cs[0].(map[string]any), "args")
	return a
}

func TestChartLintsCleanWithEachSetOfValues(t *testing.T) {
	for name, values := range map[string]map[string]any{
		"defaults":     nil,
		"cert-manager": {"apiserver": map[string]any{"servingCertificate": map[string]any{"source": "cert-manager"}}},
		"external etcd": {"etcd": map[string]any{"mode": "external", "external": map[string]any{
			"endpoints": []any{"https://etcd-a.example:2379", "https://etcd-b.example:2379"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			lint := action.NewLint()
			lint.Namespace = "hikube-system"
			lint.Strict = true
			res := lint.Run([]string{filepath.Join("..", "..", Path)}, values)
			for _, m := range res.Messages {
				t.Logf("lint: %s", m)
			}
			if len(res.Errors) > 0 || res.TotalChartsLinted != 1 {
				t.Fatalf("helm lint: %d charts linted, errors %v", res.TotalChartsLinted, res.Errors)
			}
		})
	}
}

func TestDefaultsInstallAHighlyAvailablePlatform(t *testing.T) {
	objs := render(t, nil)

	api := find(t, objs, "Deployment", "hikube-apiserver")
	if n, _, _ := unstructured.NestedInt64(api.Object, "spec", "replicas"); n < 2 {
		t.Errorf("hikube-apiserver replicas = %d, want at least 2", n)
	}
	a := args(t, api)
	wantEtcd := "--etcd-servers=https://hikube-etcd-0.hikube-etcd.hikube-system.svc:2379," +
		"https://hikube-etcd-1.hikube-etcd.hikube-system.svc:2379,https://hikube-etcd-2.hikube-etcd.hikube-system.svc:2379"
	if !slices.Contains(a, wantEtcd) {
		t.Errorf("hikube-apiserver args %v lack %s", a, wantEtcd)
	}
	if img, _, _ := unstructured.NestedSlice(api.Object, "spec", "template", "spec", "containers"); img[0].(map[string]any)["image"] != "ghcr.io/hikube/hikube-apiserver:v0.1.0" {
		t.Errorf("hikube-apiserver image = %v, want the chart's appVersion", img[0].(map[string]any)["image"])
	}
	find(t, objs, "PodDisruptionBudget", "hikube-apiserver")

	ctl := find(t, objs, "Deployment", "hikube-controller")
	if n, _, _ := unstructured.NestedInt64(ctl.Object, "spec", "replicas"); n != 2 {
		t.Errorf("hikube-controller replicas = %d, want 2", n)
	}
	if a := args(t, ctl); !slices.Contains(a, "--leader-elect=true") || !slices.Contains(a, "--control-plane-provider=kubevirt") {
		t.Errorf("hikube-controller args %v: want leader election and the kubevirt provider", a)
	}

	sts := find(t, objs, "StatefulSet", "hikube-etcd")
	if n, _, _ := unstructured.NestedInt64(sts.Object, "spec", "replicas"); n != 3 {
		t.Errorf("etcd members = %d, want 3", n)
	}
	for _, want := range []string{
		"--initial-cluster=hikube-etcd-0=https://hikube-etcd-0.hikube-etcd.hikube-system.svc:2380,hikube-etcd-1=https://hikube-etcd-1.hikube-etcd.hikube-system.svc:2380,hikube-etcd-2=https://hikube-etcd-2.hikube-etcd.hikube-system.svc:2380",
		"--client-cert-auth=true", "--peer-client-cert-auth=true",
	} {
		if !slices.Contains(args(t, sts), want) {
			t.Errorf("etcd args lack %s", want)
		}
	}

	// Nothing of the local platform's namespace handling leaks into a Helm install.
	for _, o := range objs {
		if o.GetKind() == "Namespace" {
			t.Errorf("namespace.create=false rendered the Namespace %s", o.GetName())
		}
		if ns := o.GetNamespace(); ns != "" && ns != "hikube-system" && !(o.GetKind() == "RoleBinding" && ns == "kube-system") {
			t.Errorf("%s %s is in namespace %s", o.GetKind(), o.GetName(), ns)
		}
	}
}

// The APIService trusts exactly the CA that signed the serving certificate,
// and that certificate is valid for the Service the APIService names.
func TestGeneratedServingCertificateMatchesTheAPIService(t *testing.T) {
	objs := render(t, nil)
	apiService := find(t, objs, "APIService", "v1alpha1.apps.hikube.io")
	bundle, _, _ := unstructured.NestedString(apiService.Object, "spec", "caBundle")
	caPEM, err := base64.StdEncoding.DecodeString(bundle)
	if err != nil {
		t.Fatalf("caBundle: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("caBundle holds no certificate: %q", caPEM)
	}
	secret := find(t, objs, "Secret", "hikube-apiserver-serving")
	crtB64, _, _ := unstructured.NestedString(secret.Object, "data", "tls.crt")
	crtPEM, _ := base64.StdEncoding.DecodeString(crtB64)
	block, _ := pem.Decode(crtPEM)
	if block == nil {
		t.Fatal("tls.crt holds no PEM block")
	}
	crt, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crt.Verify(x509.VerifyOptions{DNSName: "hikube-apiserver.hikube-system.svc", Roots: pool}); err != nil {
		t.Errorf("serving certificate does not verify for hikube-apiserver.hikube-system.svc against the caBundle: %v", err)
	}
}

func TestCertManagerModeLeavesTheCABundleToItsInjector(t *testing.T) {
	objs := render(t, map[string]any{"apiserver": map[string]any{"servingCertificate": map[string]any{"source": "cert-manager"}}})
	apiService := find(t, objs, "APIService", "v1alpha1.apps.hikube.io")
	if _, found, _ := unstructured.NestedString(apiService.Object, "spec", "caBundle"); found {
		t.Error("the APIService has a caBundle; cert-manager's injector must own it")
	}
	if got := apiService.GetAnnotations()["cert-manager.io/inject-ca-from"]; got != "hikube-system/hikube-apiserver-serving" {
		t.Errorf("inject-ca-from = %q", got)
	}
	cert := find(t, objs, "Certificate", "hikube-apiserver-serving")
	if issuer, _, _ := unstructured.NestedString(cert.Object, "spec", "issuerRef", "name"); issuer != "hikube-apiserver-ca" {
		t.Errorf("serving Certificate issuer = %q, want the chart's own CA issuer", issuer)
	}
	for _, o := range objs {
		if o.GetKind() == "Secret" && o.GetName() == "hikube-apiserver-serving" {
			t.Error("the chart rendered the serving Secret although cert-manager issues it")
		}
	}
}

func TestExternalEtcdRendersNoEtcdAndUsesTheGivenEndpoints(t *testing.T) {
	objs := render(t, map[string]any{"etcd": map[string]any{"mode": "external", "external": map[string]any{
		"endpoints": []any{"https://etcd-a.example:2379", "https://etcd-b.example:2379"}, "clientSecretName": "my-etcd-tls"}}})
	for _, o := range objs {
		if strings.HasPrefix(o.GetName(), "hikube-etcd") {
			t.Errorf("external etcd rendered %s %s", o.GetKind(), o.GetName())
		}
	}
	api := find(t, objs, "Deployment", "hikube-apiserver")
	if !slices.Contains(args(t, api), "--etcd-servers=https://etcd-a.example:2379,https://etcd-b.example:2379") {
		t.Errorf("args %v", args(t, api))
	}
	vols, _, _ := unstructured.NestedSlice(api.Object, "spec", "template", "spec", "volumes")
	if !slices.ContainsFunc(vols, func(v any) bool {
		name, _, _ := unstructured.NestedString(v.(map[string]any), "secret", "secretName")
		return name == "my-etcd-tls"
	}) {
		t.Errorf("the etcd client Secret my-etcd-tls is not mounted: %v", vols)
	}
}

func TestGPUInventoryIsWhatAdmissionParses(t *testing.T) {
	objs := render(t, map[string]any{"gpuInventory": map[string]any{"models": map[string]any{
		"l40s": map[string]any{"geneva": 8, "gland": 2}, "h100": map[string]any{"lucerne": 4}}}})
	cm := find(t, objs, "ConfigMap", quota.InventoryName)
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	got, err := quota.ParseInventory(data)
	if err != nil {
		t.Fatalf("admission cannot parse the rendered inventory %v: %v", data, err)
	}
	if got["l40s"]["geneva"] != 8 || got["l40s"]["gland"] != 2 || got["l40s"]["lucerne"] != 0 || got.Total("h100") != 4 {
		t.Errorf("inventory = %v", got)
	}
	if len(catalog.Datacenters) != 3 {
		t.Fatalf("the chart's default zones assume three datacenters, the catalog has %v", catalog.Datacenters)
	}
}

func TestBadValuesFailWithTheValueToFix(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		values map[string]any
		want   string
	}{
		"external etcd without endpoints": {map[string]any{"etcd": map[string]any{"mode": "external"}}, "etcd.external.endpoints"},
		"unknown etcd mode":               {map[string]any{"etcd": map[string]any{"mode": "embedded"}}, "etcd.mode"},
		"even etcd quorum":                {map[string]any{"etcd": map[string]any{"internal": map[string]any{"replicas": 2}}}, "etcd.internal.replicas"},
		"unknown certificate source":      {map[string]any{"apiserver": map[string]any{"servingCertificate": map[string]any{"source": "acme"}}}, "servingCertificate.source"},
		"secret without caBundle":         {map[string]any{"apiserver": map[string]any{"servingCertificate": map[string]any{"source": "secret"}}}, "caBundle"},
		"inventory in an unknown zone": {map[string]any{"gpuInventory": map[string]any{"models": map[string]any{
			"l40s": map[string]any{"zurich": 1}}}}, `"zurich"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Render(context.Background(), c, tc.values)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestPlacementValuesReachEveryWorkload(t *testing.T) {
	sel := map[string]any{"node-role.example/infra": ""}
	tol := []any{map[string]any{"key": "node-role.example/infra", "operator": "Exists", "effect": "NoSchedule"}}
	objs := render(t, map[string]any{
		"apiserver":  map[string]any{"nodeSelector": sel, "tolerations": tol},
		"controller": map[string]any{"nodeSelector": sel, "tolerations": tol},
		"etcd":       map[string]any{"internal": map[string]any{"nodeSelector": sel, "tolerations": tol}},
	})
	for _, w := range []struct{ kind, name string }{{"Deployment", "hikube-apiserver"}, {"Deployment", "hikube-controller"}, {"StatefulSet", "hikube-etcd"}} {
		o := find(t, objs, w.kind, w.name)
		gotSel, _, _ := unstructured.NestedMap(o.Object, "spec", "template", "spec", "nodeSelector")
		gotTol, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "tolerations")
		if len(gotSel) != 1 || len(gotTol) != 1 {
			t.Errorf("%s %s: nodeSelector %v, tolerations %v; want the values'", w.kind, w.name, gotSel, gotTol)
		}
	}
}
