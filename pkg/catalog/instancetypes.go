package catalog

import (
	"sort"
	"strings"
)

// Family is a series of instance types sharing a vCPU-to-memory ratio.
type Family struct {
	Name        string
	Description string
	// MemoryPerCPUGiB is the GiB of memory per vCPU.
	MemoryPerCPUGiB int32
	// Shared families have burstable vCPUs shared with other tenants; they
	// cannot carry passed-through GPUs.
	Shared bool
}

// GPUCapable says whether GPUs may be attached to instances of the family.
func (f Family) GPUCapable() bool { return !f.Shared }

// InstanceType is one size of worker node.
type InstanceType struct {
	Name      string
	Family    Family
	CPU       int32
	MemoryGiB int32
}

var (
	// S1 is the standard family: 1 vCPU : 2 GiB, shared and burstable.
	S1 = Family{Name: "s1", Description: "standard, 1 vCPU : 2 GiB, shared burstable vCPUs", MemoryPerCPUGiB: 2, Shared: true}
	// U1 is the universal family: 1 vCPU : 4 GiB.
	U1 = Family{Name: "u1", Description: "universal, 1 vCPU : 4 GiB", MemoryPerCPUGiB: 4}
	// M1 is the memory-optimized family: 1 vCPU : 8 GiB.
	M1 = Family{Name: "m1", Description: "memory-optimized, 1 vCPU : 8 GiB", MemoryPerCPUGiB: 8}
)

// Families lists the instance families.
var Families = []Family{S1, U1, M1}

// sizes maps each family to its sizes and their vCPU counts; memory follows
// from the family's ratio, so the table cannot contradict itself.
type size struct {
	name string
	cpu  int32
}

var sizes = []struct {
	family Family
	sizes  []size
}{
	{S1, []size{{"small", 1}, {"medium", 2}, {"large", 4}, {"xlarge", 8}, {"3large", 12}, {"2xlarge", 16}, {"3xlarge", 24}, {"4xlarge", 32}, {"8xlarge", 64}}},
	{U1, []size{{"medium", 1}, {"large", 2}, {"xlarge", 4}, {"2xlarge", 8}, {"4xlarge", 16}, {"8xlarge", 32}}},
	{M1, []size{{"large", 2}, {"xlarge", 4}, {"2xlarge", 8}, {"4xlarge", 16}, {"8xlarge", 32}}},
}

var instanceTypes, instanceTypeByName = buildInstanceTypes()

func buildInstanceTypes() ([]InstanceType, map[string]InstanceType) {
	var list []InstanceType
	byName := map[string]InstanceType{}
	for _, f := range sizes {
		for _, s := range f.sizes {
			it := InstanceType{Name: f.family.Name + "." + s.name, Family: f.family, CPU: s.cpu, MemoryGiB: s.cpu * f.family.MemoryPerCPUGiB}
			list = append(list, it)
			byName[it.Name] = it
		}
	}
	return list, byName
}

// InstanceTypes returns every instance type, family by family, smallest first.
func InstanceTypes() []InstanceType { return append([]InstanceType(nil), instanceTypes...) }

// LookupInstanceType finds an instance type by name, such as "u1.xlarge".
func LookupInstanceType(name string) (InstanceType, bool) {
	it, ok := instanceTypeByName[name]
	return it, ok
}

// InstanceTypeNames returns the sorted names of all instance types.
func InstanceTypeNames() []string {
	names := make([]string, 0, len(instanceTypes))
	for _, it := range instanceTypes {
		names = append(names, it.Name)
	}
	sort.Strings(names)
	return names
}

// GPUCapableFamilies names the families that can carry GPUs, for messages.
func GPUCapableFamilies() string {
	var names []string
	for _, f := range Families {
		if f.GPUCapable() {
			names = append(names, f.Name)
		}
	}
	return strings.Join(names, ", ")
}
