package catalog

import (
	"sort"

	"github.com/hikube/hikube/apis/apps"
)

// GPUModel is a GPU model the platform passes through to worker VMs.
type GPUModel struct {
	// Name is the catalog object's name, such as "l40s".
	Name   string
	Vendor string
	Model  string
	// ShortName is what node groups write, such as "nvidia.com/L40S".
	ShortName string
	// DeviceResource is the extended resource nodes advertise for the model.
	DeviceResource string
	MemoryGB       int32
}

var gpuModels = []GPUModel{
	{Name: "l40s", Vendor: "NVIDIA", Model: "L40S", ShortName: "nvidia.com/L40S", DeviceResource: "nvidia.com/AD102GL_L40S", MemoryGB: 48},
	{Name: "a100", Vendor: "NVIDIA", Model: "A100 80GB PCIe", ShortName: "nvidia.com/A100", DeviceResource: "nvidia.com/GA100_A100_PCIE_80GB", MemoryGB: 80},
	{Name: "h100", Vendor: "NVIDIA", Model: "H100 94GB", ShortName: "nvidia.com/H100", DeviceResource: "nvidia.com/H100_94GB", MemoryGB: 94},
}

// MaxGPUsPerNode bounds the GPUs passed through to one VM (an API limit).
const MaxGPUsPerNode = apps.MaxGPUsPerNode

// GPUModels returns every GPU model offered.
func GPUModels() []GPUModel { return append([]GPUModel(nil), gpuModels...) }

// LookupGPU finds a GPU model by its short name (nvidia.com/L40S), its device
// resource (nvidia.com/AD102GL_L40S) or its catalog object name (l40s): the
// seed writes the short name, nodes advertise the device resource.
func LookupGPU(name string) (GPUModel, bool) {
	for _, m := range gpuModels {
		if name == m.ShortName || name == m.DeviceResource || name == m.Name {
			return m, true
		}
	}
	return GPUModel{}, false
}

// GPUNames returns the sorted short names of all GPU models, for messages.
func GPUNames() []string {
	names := make([]string, 0, len(gpuModels))
	for _, m := range gpuModels {
		names = append(names, m.ShortName)
	}
	sort.Strings(names)
	return names
}
