// Package printers renders what kubectl-hikube shows humans: tables of
// clusters, node groups, instance types, versions and GPU models, the status
// page of one cluster, and events. Machine formats (-o json|yaml|jsonpath|...)
// go through cli-runtime's printers instead; custom-columns is here too.
package printers

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/printers"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/plugin/pkg/clusterspec"
)

// Age renders the time since t as kubectl does ("5m", "3d").
func Age(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t))
}

func row(w io.Writer, cols ...string) { fmt.Fprintln(w, strings.Join(cols, "\t")) }

// SortedGroups returns the node-group names of a cluster, sorted.
func SortedGroups(c *v1alpha1.Cluster) []string {
	names := make([]string, 0, len(c.Spec.NodeGroups))
	for n := range c.Spec.NodeGroups {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Nodes returns the ready and desired node counts of a cluster; before the
// controller reports, desired is the sum of minReplicas.
func Nodes(c *v1alpha1.Cluster) (ready, desired int32) {
	for name, g := range c.Spec.NodeGroups {
		if st, ok := c.Status.NodeGroups[name]; ok {
			ready += st.ReadyReplicas
			desired += st.DesiredReplicas
		} else if g.MinReplicas != nil {
			desired += *g.MinReplicas
		}
	}
	return ready, desired
}

// GPUs returns the GPUs on ready nodes and the GPUs at maxReplicas.
func GPUs(c *v1alpha1.Cluster) (ready, max int32) {
	for name, g := range c.Spec.NodeGroups {
		per := int32(len(g.GPUs))
		if g.MaxReplicas != nil {
			max += per * *g.MaxReplicas
		}
		ready += per * c.Status.NodeGroups[name].ReadyReplicas
	}
	return ready, max
}

func phase(c *v1alpha1.Cluster) string {
	if c.DeletionTimestamp != nil {
		return string(v1alpha1.ClusterDeleting)
	}
	if c.Status.Phase == "" {
		return "Pending"
	}
	return string(c.Status.Phase)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func i32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// ClustersTable prints NAME VERSION PHASE NODES GPUS AGE (wide: + ENDPOINT, NODE GROUPS).
func ClustersTable(out io.Writer, clusters []v1alpha1.Cluster, wide, withNamespace bool, now time.Time) error {
	w := printers.GetNewTabWriter(out)
	head := []string{"NAME", "VERSION", "PHASE", "NODES", "GPUS", "AGE"}
	if withNamespace {
		head = append([]string{"NAMESPACE"}, head...)
	}
	if wide {
		head = append(head, "ENDPOINT", "NODE GROUPS")
	}
	row(w, head...)
	for i := range clusters {
		c := &clusters[i]
		ready, desired := Nodes(c)
		gr, gm := GPUs(c)
		gpus := "-"
		if gm > 0 {
			gpus = fmt.Sprintf("%d/%d", gr, gm)
		}
		cols := []string{c.Name, orDash(c.Spec.Version), phase(c), fmt.Sprintf("%d/%d", ready, desired), gpus, Age(c.CreationTimestamp.Time, now)}
		if withNamespace {
			cols = append([]string{c.Namespace}, cols...)
		}
		if wide {
			var groups []string
			for _, n := range SortedGroups(c) {
				g := c.Spec.NodeGroups[n]
				groups = append(groups, fmt.Sprintf("%s=%s[%d-%d]", n, orDash(g.InstanceType), i32(g.MinReplicas), i32(g.MaxReplicas)))
			}
			cols = append(cols, orDash(c.Status.Endpoint), orDash(strings.Join(groups, ",")))
		}
		row(w, cols...)
	}
	return w.Flush()
}

// NodeGroupsTable prints a cluster's node groups.
func NodeGroupsTable(out io.Writer, c *v1alpha1.Cluster) error {
	w := printers.GetNewTabWriter(out)
	row(w, "NAME", "READY/DESIRED", "MIN..MAX", "INSTANCE TYPE", "GPUS", "ROLES", "STORAGE", "ZONES")
	for _, n := range SortedGroups(c) {
		g := c.Spec.NodeGroups[n]
		st := c.Status.NodeGroups[n]
		itype := orDash(g.InstanceType)
		if g.Resources != nil {
			itype = fmt.Sprintf("%s (cpu %s, memory %s)", itype, g.Resources.CPU.String(), g.Resources.Memory.String())
		}
		row(w, n, fmt.Sprintf("%d/%d", st.ReadyReplicas, st.DesiredReplicas), fmt.Sprintf("%d..%d", i32(g.MinReplicas), i32(g.MaxReplicas)),
			itype, clusterspec.FormatGPUs(g.GPUs), orDash(strings.Join(g.Roles, ",")), orDash(g.StorageClass), zones(st.Zones))
	}
	return w.Flush()
}

func zones(z map[string]int32) string {
	if len(z) == 0 {
		return "-"
	}
	var parts []string
	for _, dc := range catalog.Datacenters {
		if n, ok := z[dc]; ok {
			parts = append(parts, fmt.Sprintf("%s=%d", dc, n))
		}
	}
	for dc, n := range z {
		if !contains(catalog.Datacenters, dc) {
			parts = append(parts, fmt.Sprintf("%s=%d", dc, n))
		}
	}
	return strings.Join(parts, ",")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// InstanceTypesTable prints the catalog's instance types.
func InstanceTypesTable(out io.Writer, types []catalog.InstanceType, family string) error {
	w := printers.GetNewTabWriter(out)
	row(w, "NAME", "FAMILY", "VCPU", "MEMORY", "GPUS", "DESCRIPTION")
	for _, it := range types {
		if family != "" && it.Family.Name != family {
			continue
		}
		gpu := "no"
		if it.Family.GPUCapable() {
			gpu = "yes"
		}
		row(w, it.Name, it.Family.Name, fmt.Sprint(it.CPU), fmt.Sprintf("%dGi", it.MemoryGiB), gpu, it.Family.Description)
	}
	return w.Flush()
}

// VersionsTable prints the supported Kubernetes minors, newest first.
func VersionsTable(out io.Writer, versions []string, newest string) error {
	w := printers.GetNewTabWriter(out)
	row(w, "VERSION", "DEFAULT")
	for i := len(versions) - 1; i >= 0; i-- {
		def := ""
		if versions[i] == newest {
			def = "*"
		}
		row(w, versions[i], def)
	}
	return w.Flush()
}

// GPUModelsTable prints the GPU models with free/capacity per datacenter.
func GPUModelsTable(out io.Writer, models []v1alpha1.GPUModel) error {
	w := printers.GetNewTabWriter(out)
	head := []string{"MODEL", "NAME", "MEMORY", "DEVICE RESOURCE"}
	for _, dc := range catalog.Datacenters {
		head = append(head, strings.ToUpper(dc)+" FREE/CAP")
	}
	row(w, head...)
	for _, m := range models {
		cols := []string{orDash(m.Spec.ShortName), m.Spec.Vendor + " " + m.Spec.Model, m.Spec.Memory.String(), m.Spec.DeviceResource}
		for _, dc := range catalog.Datacenters {
			cell := "-"
			for _, d := range m.Status.Datacenters {
				if d.Name == dc {
					cell = fmt.Sprintf("%d/%d", d.Free, d.Capacity)
				}
			}
			cols = append(cols, cell)
		}
		row(w, cols...)
	}
	return w.Flush()
}

// EventsTable prints events oldest first.
func EventsTable(out io.Writer, events []corev1.Event, now time.Time, withHeader bool) error {
	w := printers.GetNewTabWriter(out)
	if withHeader {
		row(w, "LAST SEEN", "TYPE", "REASON", "MESSAGE")
	}
	SortEvents(events)
	for _, e := range events {
		row(w, Age(EventTime(e), now), e.Type, e.Reason, strings.TrimSpace(e.Message))
	}
	return w.Flush()
}

// EventTime is the last time an event was seen.
func EventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case e.Series != nil:
		return e.Series.LastObservedTime.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// SortEvents orders events oldest first.
func SortEvents(events []corev1.Event) {
	sort.SliceStable(events, func(i, j int) bool { return EventTime(events[i]).Before(EventTime(events[j])) })
}
