package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

// h100Cluster reserves maxReplicas × gpus H100. The test uses the H100 only:
// capacity is global over tenants, and the other tests reserve L40S.
func h100Cluster(name string, maxReplicas int32, gpus int) *v1alpha1.Cluster {
	c := quotaCluster(name, maxReplicas, "u1.8xlarge", 0)
	setGroup(c, func(g *v1alpha1.NodeGroup) {
		for range gpus {
			g.GPUs = append(g.GPUs, v1alpha1.GPU{Name: "nvidia.com/H100"})
		}
	})
	return c
}

// setH100Inventory replaces the H100 line of the GPU inventory and restores
// the seeded one when the test ends.
func setH100Inventory(t *testing.T, value string) {
	t.Helper()
	cms := hostClient(t).CoreV1().ConfigMaps("hikube-system")
	cm, err := cms.Get(context.Background(), "gpu-inventory", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the seeded GPU inventory: %v", err)
	}
	seeded := cm.Data["h100"]
	cm.Data["h100"] = value
	if _, err := cms.Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("setting the GPU inventory: %v", err)
	}
	t.Cleanup(func() {
		cm, err := cms.Get(context.Background(), "gpu-inventory", metav1.GetOptions{})
		if err == nil {
			cm.Data["h100"] = seeded
			_, err = cms.Update(context.Background(), cm, metav1.UpdateOptions{})
		}
		if err != nil {
			t.Errorf("restoring the GPU inventory: %v", err)
		}
	})
}

// h100Free is the catalog's figures for the H100: "geneva free/reserved/capacity ...".
func h100Free(t *testing.T) string {
	t.Helper()
	m, err := hikubeClient(t, "bob").AppsV1alpha1().GPUModels().Get(context.Background(), "h100", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading gpumodels/h100: %v", err)
	}
	var parts []string
	for _, dc := range m.Status.Datacenters {
		parts = append(parts, fmt.Sprintf("%s %d/%d/%d", dc.Name, dc.Free, dc.Reserved, dc.Capacity))
	}
	return strings.Join(parts, ", ")
}

func assertH100(t *testing.T, step, want string) {
	t.Helper()
	if got := h100Free(t); got != want {
		t.Errorf("after %s, gpumodels/h100 free/reserved/capacity = %s\nwant %s", step, got, want)
	}
}

// TestGPUCapacityIsReservedAtMaxReplicas: with 2 H100 in geneva and lucerne
// each (none in gland), a cluster reserving 4 is accepted and the next
// reserving 1, in another tenant, is refused with the free count; the
// catalog's figures follow every step, and lowering or deleting frees GPUs.
func TestGPUCapacityIsReservedAtMaxReplicas(t *testing.T) {
	setH100Inventory(t, "geneva=2,lucerne=2,gland=0")
	assertH100(t, "setting the inventory", "geneva 2/0/2, lucerne 2/0/2, gland 0/0/0")
	a := hikubeClient(t, "admin").AppsV1alpha1().Clusters(newTenant(t, "gpu-cap-a"))
	b := hikubeClient(t, "admin").AppsV1alpha1().Clusters(newTenant(t, "gpu-cap-b"))
	ctx := context.Background()

	if _, err := a.Create(ctx, h100Cluster("four", 2, 2), metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating a cluster reserving 4 of 4 H100: %v", err)
	}
	assertH100(t, "reserving 4", "geneva 0/2/2, lucerne 0/2/2, gland 0/0/0")

	_, err := b.Create(ctx, h100Cluster("one", 1, 1), metav1.CreateOptions{})
	assertQuotaRefusal(t, err, "exceeds GPU capacity: nvidia.com/H100 requested 1, free 0 of 4 (geneva 0/2, lucerne 0/2, gland 0/0)")
	assertNotStored(t, "gpu-cap-b", "one")
	assertH100(t, "the refusal", "geneva 0/2/2, lucerne 0/2/2, gland 0/0/0")

	// Growing is refused too: 3 × 2 = 6 of 4.
	err = update("gpu-cap-a", "four", a, func(c *v1alpha1.Cluster) {
		setGroup(c, func(g *v1alpha1.NodeGroup) { g.MaxReplicas = ptr.To[int32](3) })
	})
	assertQuotaRefusal(t, err, "exceeds GPU capacity: nvidia.com/H100 requested 6, free 4 of 4")

	// Lowering frees at once: 1 × 2 = 2 reserved.
	if err := update("gpu-cap-a", "four", a, func(c *v1alpha1.Cluster) {
		setGroup(c, func(g *v1alpha1.NodeGroup) { g.MaxReplicas = ptr.To[int32](1) })
	}); err != nil {
		t.Fatalf("lowering maxReplicas: %v", err)
	}
	assertH100(t, "lowering to 2", "geneva 1/1/2, lucerne 1/1/2, gland 0/0/0")
	if _, err := b.Create(ctx, h100Cluster("one", 1, 1), metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating a cluster reserving 1 after 2 were freed: %v", err)
	}
	assertH100(t, "reserving 2 + 1", "geneva 0/2/2, lucerne 1/1/2, gland 0/0/0")

	waitGone(t, "gpu-cap-a", "four")
	assertH100(t, "deleting the first cluster", "geneva 1/1/2, lucerne 2/0/2, gland 0/0/0")
	if _, err := b.Get(ctx, "one", metav1.GetOptions{}); apierrors.IsNotFound(err) {
		t.Error("the second cluster is gone")
	}
}
