package catalog

import (
	"strings"
)

// Labels and taints of tenant nodes the values refer to; the core puts them
// on worker nodes (pkg/controller/cluster).
const (
	roleLabelPrefix = "node-role.kubernetes.io/"
	// TaintGPU is the taint of GPU nodes: key nvidia.com/gpu, NoSchedule.
	TaintGPU = "nvidia.com/gpu"
)

// nodeSelector places pods on the role's nodes when a group carries the role.
func nodeSelector(in Inputs) map[string]any {
	if !in.RoleNodes || in.Role == "" {
		return nil
	}
	return map[string]any{roleLabelPrefix + in.Role: ""}
}

// gpuToleration lets a pod run on GPU nodes despite their taint.
func gpuToleration() map[string]any {
	return map[string]any{"key": TaintGPU, "operator": "Exists", "effect": "NoSchedule"}
}

// set writes v at a dotted path, creating the maps on the way; a nil v is
// not written (placement without role nodes leaves the chart's default).
func set(m map[string]any, path string, v any) map[string]any {
	if v == nil {
		return m
	}
	if sel, ok := v.(map[string]any); ok && sel == nil {
		return m
	}
	keys := strings.Split(path, ".")
	cur := m
	for _, k := range keys[:len(keys)-1] {
		next, ok := cur[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[k] = next
		}
		cur = next
	}
	cur[keys[len(keys)-1]] = v
	return m
}

// place sets the nodeSelector under each prefix ("" for top level).
func place(m map[string]any, in Inputs, prefixes ...string) map[string]any {
	sel := nodeSelector(in)
	if sel == nil {
		return m
	}
	for _, p := range prefixes {
		key := "nodeSelector"
		if p != "" {
			key = p + ".nodeSelector"
		}
		set(m, key, sel)
	}
	return m
}
