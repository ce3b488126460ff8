package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/hikube/hikube/apis/apps"
)

// tableConvertor prints clusters for `kubectl get`: what a tenant checks
// first (version, phase, nodes, GPUs), with the endpoint and node groups in -o wide.
type tableConvertor struct{}

var columns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: "Name of the cluster"},
	{Name: "Version", Type: "string", Description: "Kubernetes version asked for (spec.version)"},
	{Name: "Phase", Type: "string", Description: "Summary of the cluster's state (status.phase)"},
	{Name: "Nodes", Type: "string", Description: "Ready worker nodes / nodes the autoscaler wants"},
	{Name: "GPUs", Type: "string", Description: "GPUs on ready nodes / GPUs at maxReplicas"},
	{Name: "Age", Type: "string", Description: "Time since the cluster was created"},
	{Name: "Endpoint", Type: "string", Priority: 1, Description: "URL of the cluster's Kubernetes API"},
	{Name: "Node Groups", Type: "string", Priority: 1, Description: "Node groups: instance type and [min-max] replicas"},
}

func (tableConvertor) ConvertToTable(_ context.Context, obj runtime.Object, _ runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{ColumnDefinitions: columns}
	if m, err := meta.ListAccessor(obj); err == nil {
		table.ResourceVersion = m.GetResourceVersion()
		table.Continue = m.GetContinue()
		table.RemainingItemCount = m.GetRemainingItemCount()
	}
	var err error
	if meta.IsListType(obj) {
		err = meta.EachListItem(obj, func(item runtime.Object) error {
			row, err := clusterRow(item)
			table.Rows = append(table.Rows, row)
			return err
		})
	} else {
		var row metav1.TableRow
		row, err = clusterRow(obj)
		table.Rows = append(table.Rows, row)
	}
	if err != nil {
		return nil, err
	}
	return table, nil
}

func clusterRow(obj runtime.Object) (metav1.TableRow, error) {
	c, ok := obj.(*apps.Cluster)
	if !ok {
		return metav1.TableRow{}, fmt.Errorf("cannot print %T as a cluster", obj)
	}
	phase := string(c.Status.Phase)
	if phase == "" {
		phase = string(apps.ClusterPending)
	}
	return metav1.TableRow{
		Object: runtime.RawExtension{Object: obj},
		Cells: []interface{}{
			c.Name, c.Spec.Version, phase, nodesCell(c), gpusCell(c), age(c.CreationTimestamp),
			orNone(c.Status.Endpoint), nodeGroupsCell(c),
		},
	}, nil
}

// nodesCell is ready/desired over all groups; before the controller reports,
// desired is what the groups ask for at least (their minReplicas).
func nodesCell(c *apps.Cluster) string {
	var ready, desired int32
	for name, g := range c.Spec.NodeGroups {
		if st, ok := c.Status.NodeGroups[name]; ok {
			ready += st.ReadyReplicas
			desired += st.DesiredReplicas
		} else if g.MinReplicas != nil {
			desired += *g.MinReplicas
		}
	}
	return fmt.Sprintf("%d/%d", ready, desired)
}

// gpusCell is GPUs on ready nodes / GPUs the groups may grow to, or "-" without GPUs.
func gpusCell(c *apps.Cluster) string {
	var ready, max int32
	for name, g := range c.Spec.NodeGroups {
		n := int32(len(g.GPUs))
		ready += n * c.Status.NodeGroups[name].ReadyReplicas
		if g.MaxReplicas != nil {
			max += n * *g.MaxReplicas
		}
	}
	if max == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", ready, max)
}

func nodeGroupsCell(c *apps.Cluster) string {
	if len(c.Spec.NodeGroups) == 0 {
		return "<none>"
	}
	parts := make([]string, 0, len(c.Spec.NodeGroups))
	for name, g := range c.Spec.NodeGroups {
		var lo, hi int32
		if g.MinReplicas != nil {
			lo = *g.MinReplicas
		}
		if g.MaxReplicas != nil {
			hi = *g.MaxReplicas
		}
		parts = append(parts, fmt.Sprintf("%s=%s[%d-%d]", name, g.InstanceType, lo, hi))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func age(t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
