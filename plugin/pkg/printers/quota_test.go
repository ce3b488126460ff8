package printers

import (
	"bytes"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestQuotasAsKubectlDescribeQuota(t *testing.T) {
	q := corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "limits", Namespace: "tenant-a"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			"count/clusters.apps.hikube.io": resource.MustParse("5"),
			"hikube.io/nodes":               resource.MustParse("40"),
			"hikube.io/cpu":                 resource.MustParse("160"),
			"hikube.io/memory":              resource.MustParse("640Gi"),
			"hikube.io/gpus.l40s":           resource.MustParse("8"),
			"pods":                          resource.MustParse("100"), // not ours: not shown
		}},
		Status: corev1.ResourceQuotaStatus{Used: corev1.ResourceList{
			"count/clusters.apps.hikube.io": resource.MustParse("2"),
			"hikube.io/nodes":               resource.MustParse("15"),
			"hikube.io/cpu":                 resource.MustParse("60"),
			"hikube.io/memory":              resource.MustParse("240Gi"),
			"pods":                          resource.MustParse("3"),
		}},
	}
	var out bytes.Buffer
	if err := Quotas(&out, []corev1.ResourceQuota{q}); err != nil {
		t.Fatal(err)
	}
	want := `Name:       limits
Namespace:  tenant-a
Resource                       Used   Hard
--------                       ----   ----
count/clusters.apps.hikube.io  2      5
hikube.io/cpu                  60     160
hikube.io/gpus.l40s            -      8
hikube.io/memory               240Gi  640Gi
hikube.io/nodes                15     40
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
