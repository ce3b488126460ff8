package integration

import (
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	kubevirtAPIsMu        sync.Mutex
	kubevirtAPIsInstalled bool
)

// installKubeVirtAPIs installs, once per test binary, the generated KubeVirt
// and CDI CRDs and the catalog's cluster instancetypes into the host. A
// failed attempt is tried again by the next test rather than remembered.
func installKubeVirtAPIs(t *testing.T) {
	t.Helper()
	kubevirtAPIsMu.Lock()
	defer kubevirtAPIsMu.Unlock()
	if kubevirtAPIsInstalled {
		return
	}
	mustKubectl(t, "admin", "apply", "--server-side", "--field-manager=hikube-test", "-f", "artifacts/kubevirt/crds/")
	// kubectl wait fails outright on an object whose status has no
	// conditions yet, as a CRD just created may: ask again until it answers.
	eventually(t, time.Minute, "the KubeVirt CRDs to be Established", func() bool {
		r := kubectlAs(t, "admin", "wait", "--for=condition=Established", "--timeout=10s",
			"crd/virtualmachines.kubevirt.io", "crd/virtualmachineinstances.kubevirt.io", "crd/datavolumes.cdi.kubevirt.io",
			"crd/virtualmachineclusterinstancetypes.instancetype.kubevirt.io", "crd/virtualmachineclusterpreferences.instancetype.kubevirt.io")
		return r.Err == nil
	})
	mustKubectl(t, "admin", "apply", "--server-side", "--field-manager=hikube-test", "-f", "artifacts/kubevirt/instancetypes.yaml")
	kubevirtAPIsInstalled = true
}

// vmWithGPU is a worker VM as the kubevirt provider writes it, reduced to
// what the CRD schema checks; gpu is its one GPU entry.
func vmWithGPU(name, gpu string) []byte {
	return []byte(`apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: ` + name + `
  namespace: default
spec:
  runStrategy: Always
  instancetype:
    kind: VirtualMachineClusterInstancetype
    name: u1.xlarge
  template:
    spec:
      domain:
        devices:
          gpus:
          - ` + gpu + `
`)
}

// TestKubeVirtCRDsInTheHost installs the generated KubeVirt and CDI CRDs and
// the catalog's cluster instancetypes into the real host kube-apiserver: the
// server then checks VirtualMachines against KubeVirt's own schema.
func TestKubeVirtCRDsInTheHost(t *testing.T) {
	installKubeVirtAPIs(t)

	t.Run("cluster instancetypes by short name", func(t *testing.T) {
		out := mustKubectl(t, "admin", "get", "vmcf", "-l", "instancetype.kubevirt.io/class=u1", "-o", "name")
		if n := len(strings.Fields(out)); n != 6 {
			t.Errorf("want the 6 u1 sizes, got %d:\n%s", n, out)
		}
		out = mustKubectl(t, "admin", "get", "virtualmachineclusterinstancetype", "m1.large", "-o", "jsonpath={.spec.cpu.guest} {.spec.memory.guest}")
		if out != "2 16Gi" {
			t.Errorf("m1.large = %q, want \"2 16Gi\"", out)
		}
	})

	t.Run("a VM with a GPU device is accepted", func(t *testing.T) {
		r := env.KubectlIn(t, "admin", vmWithGPU("gpu-ok", "{name: gpu0, deviceName: nvidia.com/AD102GL_L40S}"), "create", "--dry-run=server", "-f", "-")
		if r.Err != nil {
			t.Fatalf("valid VM refused: %v\n%s", r.Err, r.Stderr)
		}
	})

	// KubeVirt v1.8's schema makes a GPU's deviceName optional (a DRA claim
	// may stand instead; virt-api's webhook checks that one of them is
	// there); its name is required.
	t.Run("a GPU without a name is refused by the server", func(t *testing.T) {
		r := env.KubectlIn(t, "admin", vmWithGPU("gpu-bad", "{deviceName: nvidia.com/AD102GL_L40S}"), "create", "--dry-run=server", "-f", "-")
		if r.Err == nil {
			t.Fatalf("VM with a GPU lacking its name was accepted:\n%s", r.Stdout)
		}
		if !strings.Contains(r.Stderr, "spec.template.spec.domain.devices.gpus[0].name: Required value") {
			t.Errorf("refusal does not name the missing field: %s", r.Stderr)
		}
	})

	t.Run("a VM without a template is refused by the server", func(t *testing.T) {
		vm := []byte("apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {name: no-template, namespace: default}\nspec: {runStrategy: Always}\n")
		r := env.KubectlIn(t, "admin", vm, "create", "--dry-run=server", "-f", "-")
		if r.Err == nil || !strings.Contains(r.Stderr, "spec.template: Required value") {
			t.Errorf("VM without a template: err %v, stderr %s", r.Err, r.Stderr)
		}
	})

	t.Run("the provider's rendered VMs are valid", func(t *testing.T) {
		for _, c := range []string{"ml", "web", "production"} {
			mustKubectl(t, "admin", "create", "namespace", "hikube-tenant-a-"+c)
			t.Cleanup(func() { kubectlAs(t, "admin", "delete", "namespace", "hikube-tenant-a-"+c, "--wait=false") })
		}
		for _, f := range []string{"pkg/provider/kubevirt/testdata/vm-gpu.yaml", "pkg/provider/kubevirt/testdata/vm-resources.yaml",
			// the seed clusters' VMs, as the core and the provider render them
			"pkg/controller/cluster/testdata/kubevirt/ml-ml-vm.yaml", "pkg/controller/cluster/testdata/kubevirt/web-web-vm.yaml",
			"pkg/controller/cluster/testdata/kubevirt/production-workers-vm.yaml"} {
			mustKubectl(t, "admin", "create", "--dry-run=server", "-f", f)
		}
	})

	t.Run("printer columns and short names", func(t *testing.T) {
		out := mustKubectl(t, "admin", "get", "crd", "virtualmachineinstances.kubevirt.io", "-o", "jsonpath={.spec.versions[0].additionalPrinterColumns[*].name} {.spec.versions[0].subresources}")
		if !strings.HasPrefix(out, "Age Phase IP NodeName Ready") || !strings.Contains(out, "status") {
			t.Errorf("VMI columns/subresources = %q", out)
		}
	})
}
