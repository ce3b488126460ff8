package printers

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	corev1 "k8s.io/api/core/v1"

	"github.com/hikube/hikube/pkg/quota"
)

// Quotas prints the hikube keys of the tenant's ResourceQuotas as `kubectl
// describe quota` does: per quota its name and namespace, then Resource,
// Used and Hard. Hard is the limit (spec.hard); Used is what the platform
// wrote in status.used ("-" until it has counted that key).
func Quotas(w io.Writer, quotas []corev1.ResourceQuota) error {
	for i, q := range quotas {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "Name:       %s\nNamespace:  %s\n", q.Name, q.Namespace)
		// kubectl describe's tab writer: two spaces between columns.
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		row(tw, "Resource", "Used", "Hard")
		row(tw, "--------", "----", "----")
		keys := make([]string, 0, len(q.Spec.Hard))
		for k := range q.Spec.Hard {
			if quota.IsHikubeResource(k) {
				keys = append(keys, string(k))
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			hard := q.Spec.Hard[corev1.ResourceName(k)]
			used := "-"
			if u, ok := q.Status.Used[corev1.ResourceName(k)]; ok {
				used = u.String()
			}
			row(tw, k, used, hard.String())
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}
