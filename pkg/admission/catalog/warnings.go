package catalog

import (
	"fmt"
	"maps"
	"slices"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/pkg/catalog"
)

// minCPUPerGPU is the low end of the platform's sizing of 8-16 vCPUs per GPU.
const minCPUPerGPU = 8

// ClusterWarnings returns the advice about a valid cluster that needs the
// catalog: node groups with fewer vCPUs per GPU than the platform sizes for.
// The advice that needs no catalog is validation.ClusterWarnings.
func ClusterWarnings(c *apps.Cluster) []string {
	var warnings []string
	for _, name := range slices.Sorted(maps.Keys(c.Spec.NodeGroups)) {
		g := c.Spec.NodeGroups[name]
		if len(g.GPUs) == 0 {
			continue
		}
		if w := gpuSizingWarning(name, &g); w != "" {
			warnings = append(warnings, w)
		}
	}
	return warnings
}

// gpuSizingWarning flags a group with fewer vCPUs per GPU than the platform
// sizes for, and names a larger instance type of the same family when one fits.
func gpuSizingWarning(name string, g *apps.NodeGroup) string {
	cpus, what := nodeCPUs(g)
	if cpus < 0 {
		return "" // unknown instance type, reported as an error
	}
	gpus := int64(len(g.GPUs))
	if cpus >= minCPUPerGPU*gpus {
		return ""
	}
	w := fmt.Sprintf("spec.nodeGroups[%s]: %s gives %s for %s (%.3g per GPU); the platform sizes 8-16 vCPUs per GPU, "+
		"so the GPUs may be starved", name, what, plural(cpus, "vCPU"), plural(gpus, "GPU"), float64(cpus)/float64(gpus))
	if it, ok := catalog.LookupInstanceType(g.InstanceType); ok && g.Resources == nil && it.Family.GPUCapable() {
		if bigger := smallestWithCPUs(it.Family, minCPUPerGPU*gpus); bigger != "" {
			w += "; consider " + bigger
		}
	}
	return w
}

// nodeCPUs is a node's vCPU count, from resources when they override the
// instance type; -1 when unknown.
func nodeCPUs(g *apps.NodeGroup) (int64, string) {
	if g.Resources != nil && !g.Resources.CPU.IsZero() {
		return g.Resources.CPU.Value(), "resources.cpu " + g.Resources.CPU.String()
	}
	it, ok := catalog.LookupInstanceType(g.InstanceType)
	if !ok {
		return -1, ""
	}
	return int64(it.CPU), "instance type " + it.Name
}

func smallestWithCPUs(f catalog.Family, cpus int64) string {
	for _, it := range catalog.InstanceTypes() { // smallest first within a family
		if it.Family.Name == f.Name && int64(it.CPU) >= cpus {
			return it.Name
		}
	}
	return ""
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
