package integration

import (
	"strings"
	"testing"
)

func TestAPIServiceIsAvailable(t *testing.T) {
	out := mustKubectl(t, "admin", "get", "apiservice", "v1alpha1.apps.hikube.io",
		"-o", `jsonpath={.status.conditions[?(@.type=="Available")].status}`)
	if out != "True" {
		t.Fatalf("APIService v1alpha1.apps.hikube.io Available=%q, want True", out)
	}
	ca := mustKubectl(t, "admin", "get", "apiservice", "v1alpha1.apps.hikube.io", "-o", "jsonpath={.spec.caBundle}{.spec.insecureSkipTLSVerify}")
	if ca == "" || strings.HasSuffix(ca, "true") {
		t.Errorf("APIService must carry a caBundle and never skip TLS verification; got %q", ca)
	}
}

func TestAPIResourcesListClustersAndCatalogs(t *testing.T) {
	out := mustKubectl(t, "alice", "api-resources", "--api-group=apps.hikube.io", "--no-headers")
	want := map[string]string{"clusters": "true", "instancetypes": "false", "gpumodels": "false"}
	found := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		// NAME [SHORTNAMES] APIVERSION NAMESPACED KIND
		if len(f) < 4 {
			continue
		}
		name, namespaced := f[0], f[len(f)-2]
		if w, ok := want[name]; ok {
			found[name] = true
			if namespaced != w {
				t.Errorf("%s: namespaced=%s, want %s", name, namespaced, w)
			}
		}
	}
	for name := range want {
		if !found[name] {
			t.Errorf("kubectl api-resources does not list %s:\n%s", name, out)
		}
	}
}

func TestCatalogsAreReadableByTenantsAndReadOnly(t *testing.T) {
	its := mustKubectl(t, "alice", "get", "instancetypes", "--no-headers")
	if n := len(strings.Split(strings.TrimSpace(its), "\n")); n != 20 {
		t.Errorf("alice sees %d instance types, want the 20 of the catalog:\n%s", n, its)
	}
	row := mustKubectl(t, "alice", "get", "instancetype", "u1.xlarge", "--no-headers")
	if f := strings.Fields(row); len(f) < 5 || f[1] != "u1" || f[2] != "4" || f[3] != "16Gi" || f[4] != "yes" {
		t.Errorf("u1.xlarge row = %q, want family u1, 4 vCPU, 16Gi, GPUs yes", row)
	}
	gpus := mustKubectl(t, "bob", "get", "gpumodels")
	for _, s := range []string{"nvidia.com/L40S", "nvidia.com/AD102GL_L40S", "nvidia.com/H100"} {
		if !strings.Contains(gpus, s) {
			t.Errorf("gpumodels do not show %s:\n%s", s, gpus)
		}
	}
	r := kubectlAs(t, "admin", "delete", "instancetype", "s1.small")
	if r.Err == nil {
		t.Fatalf("deleting a catalog entry succeeded; catalogs must be read-only")
	}
	if !strings.Contains(r.Stderr, "not supported") && !strings.Contains(r.Stderr, "MethodNotAllowed") {
		t.Errorf("delete of a catalog entry: want a method-not-supported error, got %q", r.Stderr)
	}
}
