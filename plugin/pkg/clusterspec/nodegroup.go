// Package clusterspec turns the flags of kubectl-hikube into a Cluster: the
// --node-group and --gpu specs, add-on names, and the client-side check that
// runs the API's own validation before anything is sent. Every error names
// the part of the spec at fault and what is allowed instead.
//
// Only the shape is checked here (syntax, counts, the API's limits). What
// the platform offers — instance types, GPU models, storage classes,
// versions, which families carry GPUs — is the server's catalog to judge
// (its admission answers with field errors, also on --dry-run=server), so
// that a plugin older than the server never refuses what the server offers.
// The plugin's compiled catalog serves completion, help and normalisation.
package clusterspec

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/catalog"
)

// NodeGroupKeys are the keys a --node-group spec accepts.
var NodeGroupKeys = []string{"name", "instance-type", "min", "max", "roles", "gpus", "storage-class", "ephemeral-storage", "cpu", "memory"}

// NodeGroupSpec is a parsed --node-group flag.
type NodeGroupSpec struct {
	Name  string
	Group v1alpha1.NodeGroup
}

// ParseNodeGroup parses "name=web,instance-type=s1.large,min=2,max=10,roles=ingress-nginx,
// gpus=nvidia.com/L40S:2,storage-class=replicated". Keys may come in any order;
// roles may repeat (roles=a,roles=b) or be separated by ";".
func ParseNodeGroup(spec string) (NodeGroupSpec, error) {
	var out NodeGroupSpec
	bad := func(format string, args ...any) error {
		return fmt.Errorf("--node-group %q: %s", spec, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(spec) == "" {
		return out, bad("empty; expected name=<group>,instance-type=<type>,min=<n>,max=<n>,...")
	}
	seen := map[string]bool{}
	var cpu, memory string
	for _, part := range strings.Split(spec, ",") {
		key, value, ok := strings.Cut(part, "=")
		key = strings.TrimSpace(key)
		value = strings.TrimSpace(value)
		if !ok {
			return out, bad("%q is not key=value (keys: %s)", part, strings.Join(NodeGroupKeys, ", "))
		}
		if seen[key] && key != "roles" {
			return out, bad("key %q given twice", key)
		}
		seen[key] = true
		if value == "" {
			return out, bad("%s: empty value", key)
		}
		g := &out.Group
		switch key {
		case "name":
			out.Name = value
		case "instance-type", "type":
			g.InstanceType = value // the server's catalog judges it
		case "min", "max":
			n, err := strconv.ParseInt(value, 10, 32)
			if err != nil || n < 0 {
				return out, bad("%s: %q is not a whole number >= 0", key, value)
			}
			if n > catalog.MaxReplicasPerGroup {
				return out, bad("%s: %d is more than the %d nodes a group may have", key, n, catalog.MaxReplicasPerGroup)
			}
			if key == "min" {
				g.MinReplicas = ptr.To(int32(n))
			} else {
				g.MaxReplicas = ptr.To(int32(n))
			}
		case "roles", "role":
			for _, r := range strings.Split(value, ";") {
				if r = strings.TrimSpace(r); r == "" {
					return out, bad("roles: empty role in %q", value)
				}
				g.Roles = append(g.Roles, r)
			}
		case "gpus", "gpu":
			gpus, err := ParseGPUs(value)
			if err != nil {
				return out, bad("gpus: %v", err)
			}
			g.GPUs = gpus
		case "storage-class":
			g.StorageClass = value // the server's catalog judges it
		case "ephemeral-storage", "disk":
			q, err := resource.ParseQuantity(value)
			if err != nil || q.Sign() <= 0 {
				return out, bad("ephemeral-storage: %q is not a positive quantity such as 20Gi", value)
			}
			g.EphemeralStorage = &q
		case "cpu":
			cpu = value
		case "memory":
			memory = value
		default:
			return out, bad("unknown key %q (keys: %s)", key, strings.Join(NodeGroupKeys, ", "))
		}
	}
	if out.Name == "" {
		return out, bad("name: missing; every node group needs name=<group>")
	}
	g := &out.Group
	if g.MinReplicas != nil && g.MaxReplicas != nil && *g.MinReplicas > *g.MaxReplicas {
		return out, bad("min=%d is greater than max=%d", *g.MinReplicas, *g.MaxReplicas)
	}
	if (cpu == "") != (memory == "") {
		return out, bad("cpu and memory override the instance type together; give both or neither")
	}
	if cpu != "" {
		c, err := resource.ParseQuantity(cpu)
		if err != nil || c.Sign() <= 0 {
			return out, bad("cpu: %q is not a positive quantity such as 8", cpu)
		}
		m, err := resource.ParseQuantity(memory)
		if err != nil || m.Sign() <= 0 {
			return out, bad("memory: %q is not a positive quantity such as 32Gi", memory)
		}
		g.Resources = &v1alpha1.NodeResources{CPU: c, Memory: m}
	}
	return out, nil
}

// GPUSpec is a parsed "MODEL[:COUNT]".
type GPUSpec struct {
	// Model is the model as given, or the catalog's short name (such as
	// nvidia.com/L40S) when it was given by catalog name.
	Model string
	Count int
}

// ParseGPU parses "nvidia.com/L40S:2" (count defaults to 1). The model may be
// named by short name, device resource or catalog name; a catalog name the
// plugin knows (h100) becomes the short name, any other name is sent as
// written, for the server's catalog to judge.
func ParseGPU(spec string) (GPUSpec, error) {
	model, count := spec, "1"
	if i := strings.LastIndex(spec, ":"); i >= 0 {
		model, count = spec[:i], spec[i+1:]
	}
	model = strings.TrimSpace(model)
	if model == "" {
		return GPUSpec{}, fmt.Errorf("%q: missing GPU model (one of %s)", spec, strings.Join(catalog.GPUNames(), ", "))
	}
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if err != nil {
		return GPUSpec{}, fmt.Errorf("%q: count %q is not a whole number", spec, count)
	}
	if n < 1 || n > catalog.MaxGPUsPerNode {
		return GPUSpec{}, fmt.Errorf("%q: count %d is out of range; each node takes 1 to %d GPUs", spec, n, catalog.MaxGPUsPerNode)
	}
	if m, ok := catalog.LookupGPU(model); ok && model == m.Name {
		model = m.ShortName
	}
	return GPUSpec{Model: model, Count: n}, nil
}

// Entries expands the spec into one entry per GPU, as the API writes them.
func (g GPUSpec) Entries() []v1alpha1.GPU {
	out := make([]v1alpha1.GPU, g.Count)
	for i := range out {
		out[i] = v1alpha1.GPU{Name: g.Model}
	}
	return out
}

// ParseGPUs parses the gpus= value of a node group: one model, "MODEL[:COUNT]".
func ParseGPUs(spec string) ([]v1alpha1.GPU, error) {
	g, err := ParseGPU(spec)
	if err != nil {
		return nil, err
	}
	return g.Entries(), nil
}

// ParseGroupGPU parses the --gpu flag of create: "GROUP=MODEL[:COUNT]".
func ParseGroupGPU(spec string) (string, GPUSpec, error) {
	group, rest, ok := strings.Cut(spec, "=")
	if !ok || strings.TrimSpace(group) == "" {
		return "", GPUSpec{}, fmt.Errorf("--gpu %q: expected <node-group>=<model>[:<count>], such as ml=nvidia.com/L40S:2", spec)
	}
	g, err := ParseGPU(rest)
	if err != nil {
		return "", GPUSpec{}, fmt.Errorf("--gpu %q: %v", spec, err)
	}
	return strings.TrimSpace(group), g, nil
}

// GPUModelName is the short name of a model the plugin's catalog knows (by
// any of its names), else the name as given: two names of one model compare
// equal, and a model only the server knows keeps its name.
func GPUModelName(name string) string {
	if m, ok := catalog.LookupGPU(name); ok {
		return m.ShortName
	}
	return name
}

// CountGPUs sums the entries of a node group per model.
func CountGPUs(gpus []v1alpha1.GPU) map[string]int {
	out := map[string]int{}
	for _, g := range gpus {
		out[GPUModelName(g.Name)]++
	}
	return out
}

// FormatGPUs renders a group's GPUs as "nvidia.com/L40S:2", or "-".
func FormatGPUs(gpus []v1alpha1.GPU) string {
	counts := CountGPUs(gpus)
	if len(counts) == 0 {
		return "-"
	}
	var parts []string
	for m, n := range counts {
		parts = append(parts, fmt.Sprintf("%s:%d", m, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
