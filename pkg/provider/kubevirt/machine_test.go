package kubevirt

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
	kubevirtv1 "kubevirt.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func machine(name, zone string) Machine {
	return Machine{
		Name: name, Namespace: "hikube-tenant-a-ml", Zone: zone,
		RootDisk: resource.MustParse("20Gi"), StorageClass: "replicated",
		Image: "registry.example.ch/hikube/node:v1.37", UserDataSecret: name + "-userdata",
		Labels: map[string]string{"apps.hikube.io/node-group": "ml", "apps.hikube.io/cluster-uid": "1234"},
	}
}

// golden compares obj, as YAML, with testdata/<name>.yaml, and decodes the
// file strictly into into: a field KubeVirt does not know fails the test.
func golden(t *testing.T, name string, obj, into any) {
	t.Helper()
	got, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name+".yaml")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/provider/kubevirt -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update if the change is meant):\n%s", path, got)
	}
	if err := yaml.UnmarshalStrict(want, into); err != nil {
		t.Errorf("%s does not decode strictly: %v", path, err)
	}
}

func TestVirtualMachineWithInstancetypeAndGPU(t *testing.T) {
	m := machine("ml-ml-x7k2p", "lucerne")
	m.InstanceType = "u1.xlarge"
	m.GPUDevices = []string{"nvidia.com/AD102GL_L40S"}
	vm, err := VirtualMachine(m)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "vm-gpu", vm, &kubevirtv1.VirtualMachine{})

	if got := vm.Spec.Template.Spec.Domain.Devices.GPUs; len(got) != 1 || got[0].DeviceName != "nvidia.com/AD102GL_L40S" {
		t.Errorf("GPUs = %+v, want one L40S device", got)
	}
	if vm.Spec.Template.Spec.Domain.CPU != nil || vm.Spec.Template.Spec.Domain.Memory != nil {
		t.Error("domain cpu/memory set together with an instancetype: KubeVirt refuses that")
	}
	if vm.Spec.Instancetype.Name != "u1.xlarge" {
		t.Errorf("instancetype = %+v", vm.Spec.Instancetype)
	}
	term := vm.Spec.Template.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0]
	if e := term.MatchExpressions[0]; e.Key != "topology.kubernetes.io/zone" || e.Values[0] != "lucerne" {
		t.Errorf("zone affinity = %+v", e)
	}
	dv := vm.Spec.DataVolumeTemplates[0]
	if *dv.Spec.Storage.StorageClassName != "replicated" || dv.Spec.Storage.Resources.Requests.Storage().String() != "20Gi" {
		t.Errorf("root disk = %+v", dv.Spec.Storage)
	}
}

func TestVirtualMachineWithResources(t *testing.T) {
	m := machine("web-web-a1b2c", "gland")
	m.CPU, m.Memory = ptr.To(resource.MustParse("6")), ptr.To(resource.MustParse("12Gi"))
	vm, err := VirtualMachine(m)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "vm-resources", vm, &kubevirtv1.VirtualMachine{})
	if vm.Spec.Instancetype != nil {
		t.Error("instancetype set together with domain cpu/memory")
	}
	if d := vm.Spec.Template.Spec.Domain; d.CPU.Cores != 6 || d.Memory.Guest.String() != "12Gi" {
		t.Errorf("domain = cpu %+v memory %+v", d.CPU, d.Memory)
	}

	m.InstanceType = "u1.large"
	if _, err := VirtualMachine(m); err == nil {
		t.Error("an instancetype together with cpu/memory was rendered")
	}
	m.InstanceType, m.CPU, m.Memory = "", nil, nil
	if _, err := VirtualMachine(m); err == nil {
		t.Error("a machine without any size was rendered")
	}
}

func TestUserDataRoundTrip(t *testing.T) {
	tok, err := NewBootstrapToken(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	j := Join{
		NodeName: "ml-ml-x7k2p", APIServerEndpoint: "203.0.113.10:6443", Token: tok, CACertHash: "sha256:abcd",
		Labels: map[string]string{
			"apps.hikube.io/node-group":          "ml",
			"node.kubernetes.io/instance-type":   "u1.xlarge",
			"topology.kubernetes.io/zone":        "lucerne",
			"node-role.kubernetes.io/monitoring": "",
		},
		Taints: []corev1.Taint{{Key: "nvidia.com/gpu", Value: "present", Effect: corev1.TaintEffectNoSchedule}},
	}
	data, err := UserData(j)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "#cloud-config\n") {
		t.Errorf("user data does not start with #cloud-config:\n%s", data)
	}
	back, err := ParseUserData(data)
	if err != nil {
		t.Fatal(err)
	}
	if back.Token.String() != tok.String() || back.NodeName != j.NodeName || back.APIServerEndpoint != j.APIServerEndpoint || back.CACertHash != j.CACertHash {
		t.Errorf("round trip = %+v, want %+v", back, j)
	}
	if _, ok := back.Labels["node-role.kubernetes.io/monitoring"]; ok {
		t.Error("a node-role label is passed to the kubelet, whose NodeRestriction would refuse the registration")
	}
	if back.Labels["topology.kubernetes.io/zone"] != "lucerne" || back.Labels["apps.hikube.io/node-group"] != "ml" {
		t.Errorf("kubelet labels = %v", back.Labels)
	}
	if len(back.Taints) != 1 || back.Taints[0].Key != "nvidia.com/gpu" {
		t.Errorf("taints = %+v", back.Taints)
	}
}

func TestBootstrapTokenSecret(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	a, err := NewBootstrapToken(now, 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewBootstrapToken(now, 30*time.Minute)
	if a.String() == b.String() {
		t.Error("two tokens drawn are equal")
	}
	s := BootstrapTokenSecret(a, "ml-ml-x7k2p")
	if s.Name != "bootstrap-token-"+a.ID || s.Namespace != "kube-system" || s.Type != "bootstrap.kubernetes.io/token" {
		t.Errorf("secret = %s/%s type %s", s.Namespace, s.Name, s.Type)
	}
	if s.StringData["expiration"] != "2026-12-01T08:30:00Z" || s.StringData["auth-extra-groups"] != NodeBootstrapGroup {
		t.Errorf("secret data = %v", s.StringData)
	}
}
