package catalog

import "testing"

func TestInstanceTypesMatchThePublishedTable(t *testing.T) {
	want := map[string][2]int32{
		"s1.small": {1, 2}, "s1.medium": {2, 4}, "s1.large": {4, 8}, "s1.xlarge": {8, 16}, "s1.3large": {12, 24},
		"s1.2xlarge": {16, 32}, "s1.3xlarge": {24, 48}, "s1.4xlarge": {32, 64}, "s1.8xlarge": {64, 128},
		"u1.medium": {1, 4}, "u1.large": {2, 8}, "u1.xlarge": {4, 16}, "u1.2xlarge": {8, 32}, "u1.4xlarge": {16, 64}, "u1.8xlarge": {32, 128},
		"m1.large": {2, 16}, "m1.xlarge": {4, 32}, "m1.2xlarge": {8, 64}, "m1.4xlarge": {16, 128}, "m1.8xlarge": {32, 256},
	}
	if got := len(InstanceTypes()); got != len(want) {
		t.Fatalf("catalog has %d instance types, want %d", got, len(want))
	}
	for name, cm := range want {
		it, ok := LookupInstanceType(name)
		if !ok {
			t.Errorf("%s missing from the catalog", name)
			continue
		}
		if it.CPU != cm[0] || it.MemoryGiB != cm[1] {
			t.Errorf("%s = %d vCPU / %d GiB, want %d / %d", name, it.CPU, it.MemoryGiB, cm[0], cm[1])
		}
	}
}

func TestOnlyDedicatedFamiliesCarryGPUs(t *testing.T) {
	for _, f := range Families {
		if f.GPUCapable() == f.Shared {
			t.Errorf("family %s: shared=%v but gpuCapable=%v", f.Name, f.Shared, f.GPUCapable())
		}
	}
	if S1.GPUCapable() {
		t.Error("s1 is shared and must not carry GPUs")
	}
}

func TestLookupGPUByShortDeviceOrObjectName(t *testing.T) {
	for _, name := range []string{"nvidia.com/L40S", "nvidia.com/AD102GL_L40S", "l40s"} {
		m, ok := LookupGPU(name)
		if !ok || m.Model != "L40S" {
			t.Errorf("LookupGPU(%q) = %+v, %v; want the L40S", name, m, ok)
		}
	}
	if _, ok := LookupGPU("nvidia.com/T4"); ok {
		t.Error("LookupGPU found a model the platform does not offer")
	}
}

func TestVersions(t *testing.T) {
	if NewestVersion() != "v1.37" {
		t.Errorf("newest version = %s, want v1.37", NewestVersion())
	}
	for v, want := range map[string]int{"v1.33": 33, "v1.37": 37} {
		if got, err := ParseMinor(v); err != nil || got != want {
			t.Errorf("ParseMinor(%s) = %d, %v", v, got, err)
		}
	}
	for _, bad := range []string{"1.33", "v2.1", "v1.x", ""} {
		if _, err := ParseMinor(bad); err == nil {
			t.Errorf("ParseMinor(%q) accepted a malformed version", bad)
		}
	}
}

// The API's defaults (apis/apps/v1alpha1) must name what the platform offers:
// a defaulted cluster is otherwise refused by the catalog checks of admission.
func TestAPIDefaultsAreOffered(t *testing.T) {
	if _, ok := LookupInstanceType(DefaultInstanceType); !ok {
		t.Errorf("default instance type %s is not in the catalog", DefaultInstanceType)
	}
	if !IsStorageClass(DefaultStorageClass) {
		t.Errorf("default storage class %s is not offered", DefaultStorageClass)
	}
	if !IsControlPlanePreset(DefaultControlPlanePreset) {
		t.Errorf("default control-plane preset %s is not a preset", DefaultControlPlanePreset)
	}
	if DefaultControlPlaneReplicas < 1 || DefaultControlPlaneReplicas > MaxControlPlaneReplicas {
		t.Errorf("default control-plane replicas %d outside 1..%d", DefaultControlPlaneReplicas, MaxControlPlaneReplicas)
	}
	if DefaultMinReplicas > DefaultMaxReplicas || DefaultMaxReplicas > MaxReplicasPerGroup {
		t.Errorf("default replicas %d..%d outside 0..%d", DefaultMinReplicas, DefaultMaxReplicas, MaxReplicasPerGroup)
	}
}
