package validation

import (
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/apis/apps/v1alpha1/fixtures"
)

func TestClusterWarnings(t *testing.T) {
	cases := []struct {
		name   string
		tenant func(*v1alpha1.Cluster)
		want   []string // substrings, one per expected warning, in order
	}{
		{name: "seed prod warns about the missing GPU operator", want: []string{
			"spec.addons.gpuOperator: the GPU operator is not enabled, but GPUs are attached to node group ml",
		}},
		{name: "GPU groups with the operator are quiet here (sizing is the catalog admission's)", tenant: func(c *v1alpha1.Cluster) {
			c.Spec.NodeGroups["ml"] = mlWith("l40s", "l40s")
			c.Spec.Addons.GPUOperator = &v1alpha1.Addon{Enabled: true}
		}},
		{name: "every GPU group is named", tenant: func(c *v1alpha1.Cluster) {
			c.Spec.NodeGroups["ai"] = mlWith("h100")
		}, want: []string{"GPUs are attached to node groups ai, ml;"}},
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
			v := fixtures.SeedProd()
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
