package progress

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

func TestReadyNeedsTheWrittenGeneration(t *testing.T) {
	c := &v1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
	c.Status.ObservedGeneration = 2
	c.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue}}
	if IsReady(c, 3) {
		t.Error("Ready of generation 2 counted for generation 3 (a scale would return before the controller saw it)")
	}
	c.Status.ObservedGeneration = 3
	if !IsReady(c, 3) || !IsReady(c, 0) {
		t.Error("Ready at the written generation not seen")
	}
	c.Status.Conditions[0].Status = metav1.ConditionFalse
	if IsReady(c, 0) {
		t.Error("Ready=False counted as ready")
	}
}
