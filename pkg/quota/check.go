package quota

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/hikube/hikube/apis/apps"
)

// Applies reports whether a ResourceQuota constrains clusters: it is
// unscoped (scopes select pods) and limits at least one hikube key.
func Applies(q *corev1.ResourceQuota) bool {
	if len(q.Spec.Scopes) > 0 || q.Spec.ScopeSelector != nil {
		return false
	}
	for k := range q.Spec.Hard {
		if IsHikubeResource(k) {
			return true
		}
	}
	return false
}

// Check returns one message per quota key the cluster c would exceed: others
// is the usage of every other cluster of the namespace, increased the keys
// this request raises (all of them on create). Keys that do not grow are not
// checked, so an update that lowers usage always passes.
func Check(c *apps.Cluster, quotas []corev1.ResourceQuota, others corev1.ResourceList, increased []corev1.ResourceName) []string {
	requested := ClusterUsage(c)
	sorted := append([]corev1.ResourceQuota(nil), quotas...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var msgs []string
	for i := range sorted {
		q := &sorted[i]
		if !Applies(q) {
			continue
		}
		for _, key := range increased {
			limit, ok := q.Spec.Hard[key]
			if !ok || !IsHikubeResource(key) {
				continue
			}
			used, req := others[key], requested[key]
			total := used.DeepCopy()
			total.Add(req)
			if total.Cmp(limit) <= 0 {
				continue
			}
			msgs = append(msgs, QuotaMessage(c, key, req, used, limit, q.Namespace, q.Name))
		}
	}
	return msgs
}

// QuotaMessage words a refusal: "exceeds quota: GPUs nvidia.com/L40S requested
// 12 (maxReplicas 6 × 2), used 4, limit 8 in tenant-a (ResourceQuota
// "limits", key hikube.io/gpus.l40s)".
func QuotaMessage(c *apps.Cluster, key corev1.ResourceName, requested, used, limit resource.Quantity, namespace, quotaName string) string {
	why := ""
	if e := explain(c, key); e != "" && key != ResourceClusters && key != ResourceControlPlaneReplicas {
		why = " (" + e + ")"
	}
	return fmt.Sprintf("exceeds quota: %s requested %s%s, used %s, limit %s in %s (ResourceQuota %q, key %s)",
		label(key), show(key, requested), why, show(key, used), show(key, limit), namespace, quotaName, key)
}

// show prints a quantity in the unit users write for key: vCPU and counts
// as plain numbers, memory in binary units.
func show(key corev1.ResourceName, q resource.Quantity) string {
	if key == ResourceMemory {
		return resource.NewQuantity(q.Value(), resource.BinarySI).String()
	}
	if key == ResourceCPU && q.MilliValue()%1000 == 0 {
		return fmt.Sprint(q.Value())
	}
	return q.String()
}
