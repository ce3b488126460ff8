package validation

import (
	"fmt"
	"strings"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/pkg/catalog"
)

// minCPUPerGPU is the low end of the platform's sizing of 8-16 vCPUs per GPU.
const minCPUPerGPU = 8

// ClusterWarnings returns advice about a valid cluster, sent back as API
// warnings. Nothing here blocks a request.
func ClusterWarnings(c *apps.Cluster) []string {
	var warnings []string
	s := &c.Spec
	var gpuGroups []string
	for _, name := range sortedKeys(s.NodeGroups) {
		g := s.NodeGroups[name]
		if len(g.GPUs) == 0 {
			continue
		}
		gpuGroups = append(gpuGroups, name)
		if w := gpuSizingWarning(name, &g); w != "" {
			warnings = append(warnings, w)
		}
	}
	if len(gpuGroups) > 0 && (s.Addons.GPUOperator == nil || !s.Addons.GPUOperator.Enabled) {
		warnings = append(warnings, fmt.Sprintf(
			"spec.addons.gpuOperator: the GPU operator is not enabled, but GPUs are attached to %s %s; "+
				"pods need the GPU operator to use GPUs, set spec.addons.gpuOperator.enabled: true",
			pluralWord(len(gpuGroups), "node group", "node groups"), strings.Join(gpuGroups, ", ")))
	}
	// Two replicas is the platform's default (one per datacenter pair), so
	// only a larger even count, chosen on purpose, earns the advice.
	if r := s.ControlPlane.Replicas; r != nil && *r > 2 && *r%2 == 0 {
		warnings = append(warnings, fmt.Sprintf(
			"spec.controlPlane.replicas: %d replicas tolerate no more failures than %d; an odd count such as %d tolerates failures better",
			*r, *r-1, *r+1))
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

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
