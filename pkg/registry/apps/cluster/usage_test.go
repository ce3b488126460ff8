package cluster

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// TestDecreaseIsWhatAnUpdateFrees: only keys that went down, by how much.
func TestDecreaseIsWhatAnUpdateFrees(t *testing.T) {
	old := corev1.ResourceList{"hikube.io/nodes": resource.MustParse("6"), "hikube.io/cpu": resource.MustParse("24"), "hikube.io/gpus.l40s": resource.MustParse("2")}
	updated := corev1.ResourceList{"hikube.io/nodes": resource.MustParse("4"), "hikube.io/cpu": resource.MustParse("32")}
	got := decrease(old, updated)
	nodes, gpus := got["hikube.io/nodes"], got["hikube.io/gpus.l40s"]
	if len(got) != 2 || nodes.Value() != 2 || gpus.Value() != 2 {
		t.Errorf("decrease = %v, want nodes 2 and the 2 GPUs no longer asked for", got)
	}
}
