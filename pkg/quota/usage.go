// Package quota computes what a cluster takes from its tenant's quota and from
// the platform's GPU capacity, and words the refusals. The computation is
// pure functions (usage.go, check.go, gpus.go); the Tracker (tracker.go)
// checks and charges the usage records every hikube-apiserver replica shares
// (quotausage.go: the quotas' status.used; gpuusage.go: the GPU usage
// ConfigMap) with compare-and-swap, and gives back what did not land
// (charges.go). The admission plugin (pkg/admission/quota) is a thin adapter
// over the Tracker, the clusters registry gives back, the gpumodels catalog
// reads its GPUStatus, and hikube-controller's quota status controller
// (pkg/controller/quotastatus) corrects the records from the store.
package quota

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/pkg/catalog"
)

// The ResourceQuota keys hikube enforces. Object counts use the standard
// count/<resource>.<group> form; the rest live under the hikube.io/ prefix,
// which the host's resource-quota controller has no evaluator for, so it
// leaves their status.used to us. A key may hold one slash only, hence
// hikube.io/gpus.<model> with the catalog's object name (kubectl get gpumodels).
const (
	ResourceClusters             corev1.ResourceName = "count/clusters.apps.hikube.io"
	ResourceNodes                corev1.ResourceName = "hikube.io/nodes"
	ResourceCPU                  corev1.ResourceName = "hikube.io/cpu"
	ResourceMemory               corev1.ResourceName = "hikube.io/memory"
	ResourceControlPlaneReplicas corev1.ResourceName = "hikube.io/control-plane-replicas"
	gpuResourcePrefix                                = "hikube.io/gpus."
)

// GPUResource is the quota key of a GPU model of the catalog.
func GPUResource(m catalog.GPUModel) corev1.ResourceName {
	return corev1.ResourceName(gpuResourcePrefix + m.Name)
}

// GPUModelOf returns the GPU model a quota key counts, if it is a GPU key.
func GPUModelOf(key corev1.ResourceName) (catalog.GPUModel, bool) {
	name, ok := strings.CutPrefix(string(key), gpuResourcePrefix)
	if !ok {
		return catalog.GPUModel{}, false
	}
	m, ok := catalog.LookupGPU(name)
	return m, ok && m.Name == name
}

// IsHikubeResource reports whether hikube computes and enforces key.
func IsHikubeResource(key corev1.ResourceName) bool {
	switch key {
	case ResourceClusters, ResourceNodes, ResourceCPU, ResourceMemory, ResourceControlPlaneReplicas:
		return true
	}
	_, ok := GPUModelOf(key)
	return ok
}

// group is a node group with its defaults resolved.
type group struct {
	name         string
	maxReplicas  int64
	instanceType string // "" when resources override it
	cpuMilli     int64  // per node
	memoryBytes  int64  // per node
	gpus         map[string]int64
}

func groups(c *apps.Cluster) []group {
	names := make([]string, 0, len(c.Spec.NodeGroups))
	for n := range c.Spec.NodeGroups {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]group, 0, len(names))
	for _, n := range names {
		ng := c.Spec.NodeGroups[n]
		g := group{name: n, maxReplicas: catalog.DefaultMaxReplicas, gpus: map[string]int64{}}
		if ng.MaxReplicas != nil {
			g.maxReplicas = int64(*ng.MaxReplicas)
		}
		if ng.Resources != nil {
			g.cpuMilli, g.memoryBytes = ng.Resources.CPU.MilliValue(), ng.Resources.Memory.Value()
		} else {
			g.instanceType = ng.InstanceType
			if g.instanceType == "" {
				g.instanceType = catalog.DefaultInstanceType
			}
			if it, ok := catalog.LookupInstanceType(g.instanceType); ok {
				g.cpuMilli, g.memoryBytes = int64(it.CPU)*1000, int64(it.MemoryGiB)<<30
			}
		}
		for _, gpu := range ng.GPUs {
			if m, ok := catalog.LookupGPU(gpu.Name); ok {
				g.gpus[m.Name]++
			}
		}
		out = append(out, g)
	}
	return out
}

func controlPlaneReplicas(c *apps.Cluster) int64 {
	if c.Spec.ControlPlane.Replicas != nil {
		return int64(*c.Spec.ControlPlane.Replicas)
	}
	return catalog.DefaultControlPlaneReplicas
}

// ClusterUsage is what one cluster takes: 1 cluster, its control-plane
// replicas, and per node group at its maxReplicas the nodes, vCPU, memory and
// GPUs per model. Worker vCPU and memory only: the control plane is counted
// by its replicas, since its presets are not sized in the catalog.
func ClusterUsage(c *apps.Cluster) corev1.ResourceList {
	var nodes, cpuMilli, memory int64
	gpus := map[string]int64{}
	for _, g := range groups(c) {
		nodes += g.maxReplicas
		cpuMilli += g.maxReplicas * g.cpuMilli
		memory += g.maxReplicas * g.memoryBytes
		for m, n := range g.gpus {
			gpus[m] += g.maxReplicas * n
		}
	}
	u := corev1.ResourceList{
		ResourceClusters:             *resource.NewQuantity(1, resource.DecimalSI),
		ResourceControlPlaneReplicas: *resource.NewQuantity(controlPlaneReplicas(c), resource.DecimalSI),
		ResourceNodes:                *resource.NewQuantity(nodes, resource.DecimalSI),
		ResourceCPU:                  *resource.NewMilliQuantity(cpuMilli, resource.DecimalSI),
		ResourceMemory:               *resource.NewQuantity(memory, resource.BinarySI),
	}
	for _, m := range catalog.GPUModels() {
		if n := gpus[m.Name]; n > 0 {
			u[GPUResource(m)] = *resource.NewQuantity(n, resource.DecimalSI)
		}
	}
	return u
}

// Sum adds usages.
func Sum(lists ...corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, l := range lists {
		for k, v := range l {
			q := out[k]
			q.Add(v)
			out[k] = q
		}
	}
	return out
}

// Max is the element-wise maximum of two usages.
func Max(a, b corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for k, v := range a {
		out[k] = v.DeepCopy()
	}
	for k, v := range b {
		if cur, ok := out[k]; !ok || v.Cmp(cur) > 0 {
			out[k] = v.DeepCopy()
		}
	}
	return out
}

// Increased returns the keys whose usage grows from old to new: only those
// are checked on an update, so lowering or keeping usage is always allowed,
// even in a tenant already over a lowered quota.
func Increased(old, new corev1.ResourceList) []corev1.ResourceName {
	var keys []corev1.ResourceName
	for k, v := range new {
		o := old[k]
		if v.Cmp(o) > 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// label names a key in messages.
func label(key corev1.ResourceName) string {
	switch key {
	case ResourceClusters:
		return "clusters"
	case ResourceNodes:
		return "nodes"
	case ResourceCPU:
		return "vCPU"
	case ResourceMemory:
		return "memory"
	case ResourceControlPlaneReplicas:
		return "control-plane replicas"
	}
	if m, ok := GPUModelOf(key); ok {
		return "GPUs " + m.ShortName
	}
	return string(key)
}

// explain says where a cluster's usage of key comes from, per node group:
// "maxReplicas 6 × 2" for one group, "web: maxReplicas 10 + ml: maxReplicas 2"
// for several.
func explain(c *apps.Cluster, key corev1.ResourceName) string {
	var terms []string
	gs := groups(c)
	for _, g := range gs {
		var term string
		switch {
		case g.maxReplicas == 0:
			continue
		case key == ResourceNodes:
			term = fmt.Sprintf("maxReplicas %d", g.maxReplicas)
		case key == ResourceCPU:
			term = fmt.Sprintf("maxReplicas %d × %s vCPU%s", g.maxReplicas, resource.NewMilliQuantity(g.cpuMilli, resource.DecimalSI), sizeOf(g))
		case key == ResourceMemory:
			term = fmt.Sprintf("maxReplicas %d × %s%s", g.maxReplicas, resource.NewQuantity(g.memoryBytes, resource.BinarySI), sizeOf(g))
		default:
			m, ok := GPUModelOf(key)
			if !ok || g.gpus[m.Name] == 0 {
				continue
			}
			term = fmt.Sprintf("maxReplicas %d × %d", g.maxReplicas, g.gpus[m.Name])
		}
		terms = append(terms, g.name+": "+term)
	}
	if len(terms) == 1 {
		_, after, _ := strings.Cut(terms[0], ": ")
		return after
	}
	return strings.Join(terms, " + ")
}

func sizeOf(g group) string {
	if g.instanceType == "" {
		return " (resources)"
	}
	return " (" + g.instanceType + ")"
}
