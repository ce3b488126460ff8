package validation

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

func TestClusterWarnings(t *testing.T) {
	cases := []struct {
		name   string
		tenant func(*v1alpha1.Cluster)
		want   []string // substrings, one per expected warning, in order
	}{
		{name: "seed prod warns about GPU sizing and missing GPU operator", want: []string{
			"spec.nodeGroups[ml]: instance type u1.xlarge gives 4 vCPUs for 1 GPU (4 per GPU); the platform sizes 8-16 vCPUs per GPU",
			"spec.addons.gpuOperator: the GPU operator is not enabled, but GPUs are attached to node group ml",
		}},
		{name: "sizing warning suggests a larger type of the family", tenant: func(c *v1alpha1.Cluster) {
			c.Spec.NodeGroups["ml"] = mlWith("l40s", "l40s")
		}, want: []string{"4 vCPUs for 2 GPUs (2 per GPU)", "GPU operator"}},
		{name: "well-sized GPU group with the operator is quiet", tenant: func(c *v1alpha1.Cluster) {
			g := seedML()
			g.InstanceType = "u1.2xlarge"
			c.Spec.NodeGroups["ml"] = g
			c.Spec.Addons.GPUOperator = &v1alpha1.Addon{Enabled: true}
		}},
		{name: "resources override counts for sizing", tenant: func(c *v1alpha1.Cluster) {
			g := seedML()
			g.Resources = &v1alpha1.NodeResources{CPU: resource.MustParse("2"), Memory: resource.MustParse("8Gi")}
			c.Spec.NodeGroups["ml"] = g
			c.Spec.Addons.GPUOperator = &v1alpha1.Addon{Enabled: true}
		}, want: []string{"resources.cpu 2 gives 2 vCPUs for 1 GPU"}},
		{name: "disabled GPU operator warns", tenant: func(c *v1alpha1.Cluster) {
			c.Spec.NodeGroups["ml"] = v1alpha1.NodeGroup{InstanceType: "u1.4xlarge", GPUs: []v1alpha1.GPU{{Name: "l40s"}}}
			c.Spec.Addons.GPUOperator = &v1alpha1.Addon{Enabled: false}
		}, want: []string{"spec.addons.gpuOperator.enabled: true"}},
		{name: "even control plane replicas warn", tenant: func(c *v1alpha1.Cluster) {
			delete(c.Spec.NodeGroups, "ml")
			c.Spec.ControlPlane.Replicas = ptr.To[int32](4)
		}, want: []string{"spec.controlPlane.replicas: 4 replicas tolerate no more failures than 3; an odd count such as 5"}},
		{name: "defaulted control plane of 2 is quiet", tenant: func(c *v1alpha1.Cluster) {
			delete(c.Spec.NodeGroups, "ml")
			c.Spec.ControlPlane.Replicas = nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := seedProd()
			if tc.tenant != nil {
				tc.tenant(v)
			}
			got := ClusterWarnings(internal(t, v))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d warnings %q, want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestSizingWarningSuggestsInstanceType(t *testing.T) {
	v := seedProd()
	v.Spec.NodeGroups["ml"] = mlWith("l40s", "l40s")
	got := ClusterWarnings(internal(t, v))
	if len(got) == 0 || !strings.HasSuffix(got[0], "consider u1.4xlarge") {
		t.Errorf("want the first warning to suggest u1.4xlarge (16 vCPUs for 2 GPUs), got %q", got)
	}
}
