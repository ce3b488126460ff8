package quota

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps"
	hikubefake "github.com/hikube/hikube/pkg/generated/clientset/versioned/fake"
)

func named(name string, c *apps.Cluster) *apps.Cluster {
	c.Name = name
	return c
}

// TestReserveChargesTheQuota: a create admitted is charged to the quota's
// status.used before it is stored, so the next create in the namespace is
// refused with the numbers; another namespace is not affected.
func TestReserveChargesTheQuota(t *testing.T) {
	limits := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "limits", Namespace: "tenant-a"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{ResourceClusters: resource.MustParse("1")}},
	}
	tr := NewTracker(hikubefake.NewClientset(), kubefake.NewClientset(limits), func(context.Context) (Capacity, error) { return Capacity{}, nil })
	ctx := context.Background()
	if refusals, err := tr.Reserve(ctx, "tenant-a", named("one", cluster(nil)), nil, false); err != nil || len(refusals) != 0 {
		t.Fatalf("first cluster: %v, %v", refusals, err)
	}
	refusals, err := tr.Reserve(ctx, "tenant-a", named("two", cluster(nil)), nil, false)
	want := `exceeds quota: clusters requested 1, used 1, limit 1 in tenant-a (ResourceQuota "limits", key count/clusters.apps.hikube.io)`
	if err != nil || len(refusals) != 1 || refusals[0] != want {
		t.Errorf("second cluster: %q, %v; want %q", refusals, err, want)
	}
	if refusals, err := tr.Reserve(ctx, "tenant-b", named("two", cluster(nil)), nil, false); err != nil || len(refusals) != 0 {
		t.Errorf("a namespace without quota: %v, %v", refusals, err)
	}
}

func TestReserveRefusesBeyondGPUCapacity(t *testing.T) {
	capacity := Capacity{"l40s": {"geneva": 2}}
	tr := NewTracker(hikubefake.NewClientset(), kubefake.NewClientset(), func(context.Context) (Capacity, error) { return capacity, nil })
	ml := named("ml", cluster(map[string]apps.NodeGroup{"ml": {MaxReplicas: ptr.To[int32](3), InstanceType: "u1.2xlarge", GPUs: gpus("nvidia.com/L40S", 1)}}))
	refusals, err := tr.Reserve(context.Background(), "tenant-a", ml, nil, false)
	want := "exceeds GPU capacity: nvidia.com/L40S requested 3, free 2 of 2 (geneva 2/2, lucerne 0/0, gland 0/0)"
	if err != nil || len(refusals) != 1 || refusals[0] != want {
		t.Fatalf("refusals = %q, %v; want %q", refusals, err, want)
	}
	fits := ml.DeepCopy()
	fits.Spec.NodeGroups["ml"] = apps.NodeGroup{MaxReplicas: ptr.To[int32](2), InstanceType: "u1.2xlarge", GPUs: gpus("nvidia.com/L40S", 1)}
	if refusals, err := tr.Reserve(context.Background(), "tenant-a", fits, nil, false); err != nil || len(refusals) != 0 {
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

// TestAConflictingChargeIsCheckedAgain: another replica charges the last unit
// between our read and our update; our update conflicts, and the check made
// again on the new figure refuses.
func TestAConflictingChargeIsCheckedAgain(t *testing.T) {
	limits := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "limits", Namespace: "tenant-a", ResourceVersion: "1"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{ResourceClusters: resource.MustParse("1")}},
		Status:     corev1.ResourceQuotaStatus{Used: corev1.ResourceList{ResourceClusters: resource.MustParse("0")}},
	}
	host := kubefake.NewClientset(limits)
	updates := 0
	host.PrependReactor("update", "resourcequotas", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "status" {
			return false, nil, nil
		}
		updates++
		if updates > 1 {
			return false, nil, nil
		}
		other := limits.DeepCopy()
		other.ResourceVersion = "2"
		other.Status.Used[ResourceClusters] = resource.MustParse("1")
		if err := host.Tracker().Update(corev1.SchemeGroupVersion.WithResource("resourcequotas"), other, "tenant-a"); err != nil {
			t.Fatal(err)
		}
		return true, nil, apierrors.NewConflict(corev1.Resource("resourcequotas"), "limits", errors.New("the object has been modified"))
	})
	tr := NewTracker(hikubefake.NewClientset(), host, func(context.Context) (Capacity, error) { return Capacity{}, nil })
	refusals, err := tr.Reserve(context.Background(), "tenant-a", named("mine", cluster(nil)), nil, false)
	want := `exceeds quota: clusters requested 1, used 1, limit 1 in tenant-a (ResourceQuota "limits", key count/clusters.apps.hikube.io)`
	if err != nil || len(refusals) != 1 || refusals[0] != want {
		t.Fatalf("refusals = %q, %v; want %q", refusals, err, want)
	}
	if updates != 1 {
		t.Errorf("%d status updates, want 1 (the conflicting one; a refusal writes nothing)", updates)
	}
}

// TestChargesAreGivenBack: dry-run charges nothing; ReleaseCharges and
// Release give back, never below zero; GPUs are charged to the GPU usage
// record.
func TestChargesAreGivenBack(t *testing.T) {
	limits := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "limits", Namespace: "tenant-a"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			ResourceClusters: resource.MustParse("5"), "hikube.io/gpus.l40s": resource.MustParse("10")}},
	}
	host := kubefake.NewClientset(limits)
	capacity := Capacity{"l40s": {"geneva": 8}}
	tr := NewTracker(hikubefake.NewClientset(), host, func(context.Context) (Capacity, error) { return capacity, nil })
	ml := named("ml", cluster(map[string]apps.NodeGroup{"ml": {MaxReplicas: ptr.To[int32](2), InstanceType: "u1.2xlarge", GPUs: gpus("nvidia.com/L40S", 1)}}))
	used := func() (clusters, l40s, reserved int64) {
		q, err := host.CoreV1().ResourceQuotas("tenant-a").Get(context.Background(), "limits", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c, g := q.Status.Used[ResourceClusters], q.Status.Used["hikube.io/gpus.l40s"]
		cm, err := host.CoreV1().ConfigMaps(InventoryNamespace).Get(context.Background(), GPUUsageName, metav1.GetOptions{})
		if err == nil {
			reserved = GPUUsageFigures(cm.Data)["l40s"]
		}
		return c.Value(), g.Value(), reserved
	}

	if refusals, err := tr.Reserve(context.Background(), "tenant-a", ml, nil, true); err != nil || len(refusals) != 0 {
		t.Fatalf("dry run: %q, %v", refusals, err)
	}
	if c, g, r := used(); c != 0 || g != 0 || r != 0 {
		t.Fatalf("after a dry run: clusters %d, quota GPUs %d, reserved GPUs %d; want nothing charged", c, g, r)
	}
	ctx, charges := WithCharges(context.Background())
	if refusals, err := tr.Reserve(ctx, "tenant-a", ml, nil, false); err != nil || len(refusals) != 0 {
		t.Fatalf("reserve: %q, %v", refusals, err)
	}
	if c, g, r := used(); c != 1 || g != 2 || r != 2 {
		t.Fatalf("after a create: clusters %d, quota GPUs %d, reserved GPUs %d; want 1, 2, 2", c, g, r)
	}
	if err := tr.ReleaseCharges(context.Background(), charges.All()); err != nil {
		t.Fatal(err)
	}
	if c, g, r := used(); c != 0 || g != 0 || r != 0 {
		t.Fatalf("after giving the charges back: clusters %d, quota GPUs %d, reserved GPUs %d; want 0", c, g, r)
	}
	if err := tr.Release(context.Background(), "tenant-a", ClusterUsage(ml)); err != nil {
		t.Fatal(err)
	}
	if c, g, r := used(); c != 0 || g != 0 || r != 0 {
		t.Fatalf("after releasing more than charged: clusters %d, quota GPUs %d, reserved GPUs %d; want 0", c, g, r)
	}
}
