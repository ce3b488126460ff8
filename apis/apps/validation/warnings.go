package validation

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hikube/hikube/apis/apps"
)

// ClusterWarnings returns advice about a valid cluster that needs no catalog,
// sent back as API warnings. Nothing here blocks a request. Advice that needs
// the catalog (vCPUs per GPU of an instance type) comes from the catalog
// admission (pkg/admission/catalog).
func ClusterWarnings(c *apps.Cluster) []string {
	var warnings []string
	s := &c.Spec
	var gpuGroups []string
	for _, name := range slices.Sorted(maps.Keys(s.NodeGroups)) {
		if len(s.NodeGroups[name].GPUs) > 0 {
			gpuGroups = append(gpuGroups, name)
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

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
