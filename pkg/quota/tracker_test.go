package quota

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps"
	hikubefake "github.com/hikube/hikube/pkg/generated/clientset/versioned/fake"
)

func named(name string, c *apps.Cluster) *apps.Cluster {
	c.Name = name
	return c
}

// TestReserveCountsWritesInFlight: a create admitted but not yet stored
// holds its share, so the next create in the namespace is refused with the
// numbers; another namespace is not affected.
func TestReserveCountsWritesInFlight(t *testing.T) {
	limits := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "limits", Namespace: "tenant-a"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{ResourceClusters: resource.MustParse("1")}},
	}
	tr := NewTracker(hikubefake.NewClientset(), kubefake.NewClientset(limits), func(context.Context) (Capacity, error) { return Capacity{}, nil })
	ctx := context.Background()
	if refusals, err := tr.Reserve(ctx, "tenant-a", named("one", cluster(nil)), nil); err != nil || len(refusals) != 0 {
		t.Fatalf("first cluster: %v, %v", refusals, err)
	}
	refusals, err := tr.Reserve(ctx, "tenant-a", named("two", cluster(nil)), nil)
	want := `exceeds quota: clusters requested 1, used 1, limit 1 in tenant-a (ResourceQuota "limits", key count/clusters.apps.hikube.io)`
	if err != nil || len(refusals) != 1 || refusals[0] != want {
		t.Errorf("second cluster: %q, %v; want %q", refusals, err, want)
	}
	if refusals, err := tr.Reserve(ctx, "tenant-b", named("two", cluster(nil)), nil); err != nil || len(refusals) != 0 {
		t.Errorf("a namespace without quota: %v, %v", refusals, err)
	}
}

func TestReserveRefusesBeyondGPUCapacity(t *testing.T) {
	capacity := Capacity{"l40s": {"geneva": 2}}
	tr := NewTracker(hikubefake.NewClientset(), kubefake.NewClientset(), func(context.Context) (Capacity, error) { return capacity, nil })
	ml := named("ml", cluster(map[string]apps.NodeGroup{"ml": {MaxReplicas: ptr.To[int32](3), InstanceType: "u1.2xlarge", GPUs: gpus("nvidia.com/L40S", 1)}}))
	refusals, err := tr.Reserve(context.Background(), "tenant-a", ml, nil)
	want := "exceeds GPU capacity: nvidia.com/L40S requested 3, free 2 of 2 (geneva 2/2, lucerne 0/0, gland 0/0)"
	if err != nil || len(refusals) != 1 || refusals[0] != want {
		t.Fatalf("refusals = %q, %v; want %q", refusals, err, want)
	}
	fits := ml.DeepCopy()
	fits.Spec.NodeGroups["ml"] = apps.NodeGroup{MaxReplicas: ptr.To[int32](2), InstanceType: "u1.2xlarge", GPUs: gpus("nvidia.com/L40S", 1)}
	if refusals, err := tr.Reserve(context.Background(), "tenant-a", fits, nil); err != nil || len(refusals) != 0 {
		t.Fatalf("a cluster within capacity: %q, %v", refusals, err)
	}
	status, err := tr.GPUStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if geneva := status["l40s"][0]; geneva.Name != "geneva" || geneva.Reserved != 2 || geneva.Free != 0 {
		t.Errorf("gpumodels status of l40s = %+v, want geneva reserved 2, free 0", status["l40s"])
	}
}

func TestNilTrackerKnowsNoCapacity(t *testing.T) {
	var tr *Tracker
	if status, err := tr.GPUStatus(context.Background()); status != nil || err != nil {
		t.Errorf("GPUStatus of a nil tracker = %v, %v", status, err)
	}
}
