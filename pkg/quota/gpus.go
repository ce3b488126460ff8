package quota

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/platform"
)

// The GPU inventory of the local platform: a ConfigMap with one key per model
// (the catalog's object name, l40s) and a value "geneva=8,lucerne=8,gland=8".
const (
	InventoryNamespace = platform.Namespace
	InventoryName      = "gpu-inventory"
	// ZoneLabel places a host node in a datacenter.
	ZoneLabel = corev1.LabelTopologyZone
)

// Capacity is the number of GPUs per model (catalog object name) and datacenter.
type Capacity map[string]map[string]int64

// Total is the capacity of a model over all datacenters.
func (c Capacity) Total(model string) int64 {
	var n int64
	for _, v := range c[model] {
		n += v
	}
	return n
}

// ParseInventory reads the inventory ConfigMap's data.
func ParseInventory(data map[string]string) (Capacity, error) {
	c := Capacity{}
	for key, value := range data {
		m, ok := catalog.LookupGPU(key)
		if !ok {
			return nil, fmt.Errorf("GPU inventory key %q: not a GPU model of the catalog (one of %s)", key, strings.Join(modelNames(), ", "))
		}
		c[m.Name] = map[string]int64{}
		for _, field := range strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
			dc, n, ok := strings.Cut(field, "=")
			count, err := strconv.ParseInt(strings.TrimSpace(n), 10, 32)
			if !ok || err != nil || count < 0 {
				return nil, fmt.Errorf("GPU inventory %s: %q is not <datacenter>=<count>", key, field)
			}
			dc = strings.TrimSpace(dc)
			if !slices.Contains(catalog.Datacenters, dc) {
				return nil, fmt.Errorf("GPU inventory %s: unknown datacenter %q (one of %s)", key, dc, strings.Join(catalog.Datacenters, ", "))
			}
			c[m.Name][dc] += count
		}
	}
	return c, nil
}

// FormatInventory is the inverse of ParseInventory.
func FormatInventory(c Capacity) map[string]string {
	data := map[string]string{}
	for model, dcs := range c {
		var fields []string
		for _, dc := range catalog.Datacenters {
			fields = append(fields, fmt.Sprintf("%s=%d", dc, dcs[dc]))
		}
		data[model] = strings.Join(fields, ",")
	}
	return data
}

func modelNames() []string {
	var names []string
	for _, m := range catalog.GPUModels() {
		names = append(names, m.Name)
	}
	return names
}

// CapacityFromNodes sums the allocatable GPUs of schedulable host nodes per
// model and zone. A node advertises a model under its device resource
// (nvidia.com/AD102GL_L40S) or its short name (nvidia.com/L40S).
func CapacityFromNodes(nodes []*corev1.Node) Capacity {
	c := Capacity{}
	for _, n := range nodes {
		zone := n.Labels[ZoneLabel]
		if zone == "" || n.Spec.Unschedulable {
			continue
		}
		for _, m := range catalog.GPUModels() {
			for _, res := range []string{m.DeviceResource, m.ShortName} {
				q, ok := n.Status.Allocatable[corev1.ResourceName(res)]
				if !ok || q.Value() == 0 {
					continue
				}
				if c[m.Name] == nil {
					c[m.Name] = map[string]int64{}
				}
				c[m.Name][zone] += q.Value()
				break
			}
		}
	}
	return c
}

// Reservations sums the GPUs (entries × maxReplicas) per model of usages.
func Reservations(usages ...corev1.ResourceList) map[string]int64 {
	out := map[string]int64{}
	for _, u := range usages {
		for k, v := range u {
			if m, ok := GPUModelOf(k); ok {
				out[m.Name] += v.Value()
			}
		}
	}
	return out
}

// Allocate spreads a model's reservation over its datacenters. A reservation
// is a claim on the region's pool of that model: a GPU node group is placed
// where the GPUs are, not spread evenly over zones that may have none. The
// per-datacenter figures fill the datacenter with the most free GPUs first
// (catalog order on ties), the way nodes would be placed; a reservation above
// the capacity (the inventory shrank) lands on the largest datacenter.
func Allocate(capacity map[string]int64, reserved int64) []apps.GPUDatacenterStatus {
	dcs := datacenters(capacity)
	out := make([]apps.GPUDatacenterStatus, len(dcs))
	for i, dc := range dcs {
		out[i] = apps.GPUDatacenterStatus{Name: dc, Capacity: int32(capacity[dc])}
	}
	for ; reserved > 0; reserved-- {
		best := -1
		for i := range out {
			if free := out[i].Capacity - out[i].Reserved; free > 0 && (best < 0 || free > out[best].Capacity-out[best].Reserved) {
				best = i
			}
		}
		if best < 0 {
			best = largest(out)
		}
		out[best].Reserved++
	}
	for i := range out {
		out[i].Free = max(0, out[i].Capacity-out[i].Reserved)
	}
	return out
}

func largest(s []apps.GPUDatacenterStatus) int {
	best := 0
	for i := range s {
		if s[i].Capacity > s[best].Capacity {
			best = i
		}
	}
	return best
}

// datacenters are the catalog's, then any other zone a node reports, sorted.
func datacenters(capacity map[string]int64) []string {
	dcs := slices.Clone(catalog.Datacenters)
	var extra []string
	for dc := range capacity {
		if !slices.Contains(dcs, dc) {
			extra = append(extra, dc)
		}
	}
	sort.Strings(extra)
	return append(dcs, extra...)
}

// CapacityMessage words a refusal: "exceeds GPU capacity: nvidia.com/L40S
// requested 1, free 0 of 4 (geneva 0/2, lucerne 0/2, gland 0/0)"; the
// per-datacenter figures are free/capacity before this request.
func CapacityMessage(m catalog.GPUModel, requested int64, status []apps.GPUDatacenterStatus) string {
	var free, total int32
	parts := make([]string, 0, len(status))
	for _, dc := range status {
		free += dc.Free
		total += dc.Capacity
		parts = append(parts, fmt.Sprintf("%s %d/%d", dc.Name, dc.Free, dc.Capacity))
	}
	return fmt.Sprintf("exceeds GPU capacity: %s requested %d, free %d of %d (%s)", m.ShortName, requested, free, total, strings.Join(parts, ", "))
}
