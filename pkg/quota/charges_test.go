package quota

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// TestChargesOfRetriedAttempts: a write that succeeds keeps only its last
// admission attempt's charges; one that fails gives back all of them.
func TestChargesOfRetriedAttempts(t *testing.T) {
	ctx, charges := WithCharges(context.Background())
	one := Charge{Namespace: "tenant-a", Quota: "limits", Delta: corev1.ResourceList{ResourceNodes: resource.MustParse("1")}}
	two := Charge{Namespace: "tenant-a", Quota: "limits", Delta: corev1.ResourceList{ResourceNodes: resource.MustParse("2")}}
	chargesFrom(ctx).add([]Charge{one})
	chargesFrom(ctx).add(nil) // an attempt that raised nothing
	chargesFrom(ctx).add([]Charge{two})
	if got := charges.Superseded(); len(got) != 1 || got[0].Delta.Name(ResourceNodes, resource.DecimalSI).Value() != 1 {
		t.Errorf("superseded = %v, want the first attempt's charge only", got)
	}
	if got := charges.All(); len(got) != 2 {
		t.Errorf("all = %v, want both charges", got)
	}
	// Without WithCharges nothing is collected, and nothing fails.
	chargesFrom(context.Background()).add([]Charge{one})
}
