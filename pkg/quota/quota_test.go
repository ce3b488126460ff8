package quota

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/pkg/catalog"
)

func cluster(groups map[string]apps.NodeGroup) *apps.Cluster {
	return &apps.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "tenant-a"},
		Spec:       apps.ClusterSpec{ControlPlane: apps.ControlPlaneSpec{Replicas: ptr.To[int32](3)}, NodeGroups: groups},
	}
}

func gpus(name string, n int) []apps.GPU {
	var out []apps.GPU
	for range n {
		out = append(out, apps.GPU{Name: name})
	}
	return out
}

func TestClusterUsageCountsEveryGroupAtMaxReplicas(t *testing.T) {
	c := cluster(map[string]apps.NodeGroup{
		"web": {MaxReplicas: ptr.To[int32](10), InstanceType: "s1.large"},
		"ml":  {MaxReplicas: ptr.To[int32](6), InstanceType: "u1.4xlarge", GPUs: gpus("nvidia.com/AD102GL_L40S", 2)},
		"big": {MaxReplicas: ptr.To[int32](2), Resources: &apps.NodeResources{CPU: resource.MustParse("3"), Memory: resource.MustParse("5Gi")}},
		"def": {}, // defaults: maxReplicas 10 of s1.medium
	})
	got := ClusterUsage(c)
	want := map[corev1.ResourceName]string{
		ResourceClusters:             "1",
		ResourceControlPlaneReplicas: "3",
		ResourceNodes:                "28",
		ResourceCPU:                  "162",   // 10×4 + 6×16 + 2×3 + 10×2
		ResourceMemory:               "514Gi", // 10×8 + 6×64 + 2×5 + 10×4
		"hikube.io/gpus.l40s":        "12",
	}
	for k, w := range want {
		q := got[k]
		if q.Cmp(resource.MustParse(w)) != 0 {
			t.Errorf("%s = %s, want %s", k, q.String(), w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("usage has keys %v, want exactly %v", got, want)
	}
}

func TestIncreasedOnlyListsGrowingKeys(t *testing.T) {
	old := cluster(map[string]apps.NodeGroup{"w": {MaxReplicas: ptr.To[int32](5), InstanceType: "u1.xlarge", GPUs: gpus("nvidia.com/L40S", 1)}})
	lower := cluster(map[string]apps.NodeGroup{"w": {MaxReplicas: ptr.To[int32](3), InstanceType: "u1.2xlarge", GPUs: gpus("nvidia.com/L40S", 1)}})
	got := Increased(ClusterUsage(old), ClusterUsage(lower))
	// 3 × 8 vCPU = 24 > 5 × 4 = 20 and 3 × 32Gi > 5 × 16Gi; nodes and GPUs go down.
	if len(got) != 2 || got[0] != ResourceCPU || got[1] != ResourceMemory {
		t.Errorf("increased = %v, want [hikube.io/cpu hikube.io/memory]", got)
	}
	if got := Increased(ClusterUsage(old), ClusterUsage(old)); len(got) != 0 {
		t.Errorf("an unchanged cluster increases %v", got)
	}
}

func rq(hard corev1.ResourceList) corev1.ResourceQuota {
	return corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "limits", Namespace: "tenant-a"}, Spec: corev1.ResourceQuotaSpec{Hard: hard}}
}

func TestCheckMessages(t *testing.T) {
	ml := cluster(map[string]apps.NodeGroup{"ml": {MaxReplicas: ptr.To[int32](6), InstanceType: "u1.4xlarge", GPUs: gpus("nvidia.com/L40S", 2)}})
	two := cluster(map[string]apps.NodeGroup{
		"web": {MaxReplicas: ptr.To[int32](10), InstanceType: "s1.large"},
		"ml":  {MaxReplicas: ptr.To[int32](2), InstanceType: "u1.xlarge"},
	})
	q := func(k corev1.ResourceName, v string) []corev1.ResourceQuota {
		return []corev1.ResourceQuota{rq(corev1.ResourceList{k: resource.MustParse(v)})}
	}
	used := func(k corev1.ResourceName, v string) corev1.ResourceList {
		return corev1.ResourceList{k: resource.MustParse(v)}
	}
	all := func(c *apps.Cluster) []corev1.ResourceName { return Increased(nil, ClusterUsage(c)) }
	tests := []struct {
		name   string
		c      *apps.Cluster
		quotas []corev1.ResourceQuota
		others corev1.ResourceList
		want   string                // "" = allowed
		inc    []corev1.ResourceName // keys the request raises; nil = all (a create)
	}{
		{"GPUs over the limit", ml, q("hikube.io/gpus.l40s", "8"), used("hikube.io/gpus.l40s", "4"),
			`exceeds quota: GPUs nvidia.com/L40S requested 12 (maxReplicas 6 × 2), used 4, limit 8 in tenant-a (ResourceQuota "limits", key hikube.io/gpus.l40s)`, nil},
		{"GPUs exactly at the limit", ml, q("hikube.io/gpus.l40s", "16"), used("hikube.io/gpus.l40s", "4"), "", nil},
		{"clusters", ml, q(ResourceClusters, "5"), used(ResourceClusters, "5"),
			`exceeds quota: clusters requested 1, used 5, limit 5 in tenant-a (ResourceQuota "limits", key count/clusters.apps.hikube.io)`, nil},
		{"nodes of two groups", two, q(ResourceNodes, "10"), nil,
			`exceeds quota: nodes requested 12 (ml: maxReplicas 2 + web: maxReplicas 10), used 0, limit 10 in tenant-a`, nil},
		{"vCPU", two, q(ResourceCPU, "40"), nil,
			`exceeds quota: vCPU requested 48 (ml: maxReplicas 2 × 4 vCPU (u1.xlarge) + web: maxReplicas 10 × 4 vCPU (s1.large)), used 0, limit 40`, nil},
		{"memory", ml, q(ResourceMemory, "256Gi"), used(ResourceMemory, "1Gi"),
			`exceeds quota: memory requested 384Gi (maxReplicas 6 × 64Gi (u1.4xlarge)), used 1Gi, limit 256Gi`, nil},
		{"control plane", ml, q(ResourceControlPlaneReplicas, "4"), used(ResourceControlPlaneReplicas, "2"),
			`exceeds quota: control-plane replicas requested 3, used 2, limit 4 in tenant-a`, nil},
		{"a key the update does not raise is not checked", ml, q(ResourceNodes, "1"), nil, "", []corev1.ResourceName{ResourceCPU}},
		{"keys of others are ignored", ml, q(corev1.ResourcePods, "0"), nil, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inc := tt.inc
			if inc == nil {
				inc = all(tt.c)
			}
			msgs := Check(tt.c, tt.quotas, tt.others, inc)
			if tt.want == "" {
				if len(msgs) != 0 {
					t.Errorf("refused: %v", msgs)
				}
				return
			}
			if len(msgs) != 1 || !strings.HasPrefix(msgs[0], tt.want) {
				t.Errorf("messages = %q\nwant prefix %q", msgs, tt.want)
			}
		})
	}
}

func TestScopedQuotasDoNotApply(t *testing.T) {
	q := rq(corev1.ResourceList{ResourceNodes: resource.MustParse("1")})
	if !Applies(&q) {
		t.Fatal("an unscoped quota with hikube.io/nodes must apply")
	}
	q.Spec.Scopes = []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}
	if Applies(&q) {
		t.Error("a scoped quota (scopes select pods) must not apply to clusters")
	}
}

func TestInventoryRoundTripAndErrors(t *testing.T) {
	c, err := ParseInventory(map[string]string{"h100": "geneva=2, lucerne=2,gland=0", "l40s": "geneva=8"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Total("h100") != 4 || c["h100"]["lucerne"] != 2 || c.Total("l40s") != 8 || c.Total("a100") != 0 {
		t.Errorf("parsed %v", c)
	}
	back, err := ParseInventory(FormatInventory(c))
	if err != nil || back.Total("h100") != 4 {
		t.Errorf("round trip: %v, %v", back, err)
	}
	for _, bad := range []map[string]string{{"t4": "geneva=1"}, {"h100": "zurich=1"}, {"h100": "geneva"}, {"h100": "geneva=-1"}} {
		if _, err := ParseInventory(bad); err == nil {
			t.Errorf("ParseInventory(%v) accepted it", bad)
		}
	}
}

func TestAllocateFillsTheMostFreeDatacenterFirst(t *testing.T) {
	capacity := map[string]int64{"geneva": 2, "lucerne": 2}
	show := func(r int64) string {
		var parts []string
		for _, dc := range Allocate(capacity, r) {
			parts = append(parts, dc.Name+"="+itoa(dc.Reserved)+"/"+itoa(dc.Free)+"/"+itoa(dc.Capacity))
		}
		return strings.Join(parts, " ")
	}
	for r, want := range map[int64]string{
		0: "geneva=0/2/2 lucerne=0/2/2 gland=0/0/0",
		1: "geneva=1/1/2 lucerne=0/2/2 gland=0/0/0",
		3: "geneva=2/0/2 lucerne=1/1/2 gland=0/0/0",
		4: "geneva=2/0/2 lucerne=2/0/2 gland=0/0/0",
		5: "geneva=3/0/2 lucerne=2/0/2 gland=0/0/0", // over capacity: on the largest
	} {
		if got := show(r); got != want {
			t.Errorf("reserved %d: %s, want %s", r, got, want)
		}
	}
	h100, _ := catalog.LookupGPU("h100")
	msg := CapacityMessage(h100, 1, Allocate(capacity, 4))
	if want := "exceeds GPU capacity: nvidia.com/H100 requested 1, free 0 of 4 (geneva 0/2, lucerne 0/2, gland 0/0)"; msg != want {
		t.Errorf("message = %q\nwant      %q", msg, want)
	}
}

func itoa(n int32) string { return resource.NewQuantity(int64(n), resource.DecimalSI).String() }

func TestCapacityFromNodes(t *testing.T) {
	node := func(zone string, res corev1.ResourceName, n int64, unschedulable bool) *corev1.Node {
		return &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{ZoneLabel: zone}},
			Spec:       corev1.NodeSpec{Unschedulable: unschedulable},
			Status:     corev1.NodeStatus{Allocatable: corev1.ResourceList{res: *resource.NewQuantity(n, resource.DecimalSI)}},
		}
	}
	c := CapacityFromNodes([]*corev1.Node{
		node("geneva", "nvidia.com/AD102GL_L40S", 4, false),
		node("geneva", "nvidia.com/L40S", 2, false),
		node("lucerne", "nvidia.com/H100_94GB", 8, false),
		node("gland", "nvidia.com/H100_94GB", 8, true), // cordoned
		node("", "nvidia.com/H100_94GB", 8, false),     // no zone
	})
	if c["l40s"]["geneva"] != 6 || c.Total("h100") != 8 || c["h100"]["lucerne"] != 8 {
		t.Errorf("capacity = %v", c)
	}
}
