package cluster

import (
	"testing"

	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/autoscaler"
)

func TestNewNodesSpreadOverTheGroupsZones(t *testing.T) {
	for _, tc := range []struct {
		name  string
		zones []string
		add   int32
		want  map[string]int
	}{
		{"all datacenters take turns", nil, 4, map[string]int{"geneva": 2, "lucerne": 1, "gland": 1}},
		{"GPU nodes only where the model is", []string{"geneva", "lucerne"}, 3, map[string]int{"geneva": 2, "lucerne": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := &v1alpha1.Cluster{Spec: v1alpha1.ClusterSpec{NodeGroups: map[string]v1alpha1.NodeGroup{
				"ml": {MinReplicas: ptr.To[int32](0), MaxReplicas: ptr.To[int32](5), InstanceType: "u1.2xlarge", GPUs: []v1alpha1.GPU{{Name: "nvidia.com/L40S"}}},
			}}}
			cl.Name = "c"
			inv := map[string][]string{}
			if tc.zones != nil {
				inv["l40s"] = tc.zones
			}
			g := autoscaler.Group{Name: "ml", Max: 5, Template: nodeTemplate(cl, "ml", cl.Spec.NodeGroups["ml"], inv)}
			specs := desiredNodes(&state{cluster: cl}, []autoscaler.Group{g},
				[]autoscaler.Decision{{Group: "ml", From: 0, To: tc.add}})
			got := map[string]int{}
			for _, s := range specs {
				got[s.Zone]++
				if s.Labels[LabelZone] != s.Zone {
					t.Errorf("node %s: zone label %q, zone %q", s.Name, s.Labels[LabelZone], s.Zone)
				}
				if q := s.Capacity["nvidia.com/L40S"]; q.Value() != 1 {
					t.Errorf("node %s: nvidia.com/L40S capacity %s, want 1", s.Name, q.String())
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("zones = %v, want %v", got, tc.want)
			}
			for z, n := range tc.want {
				if got[z] != n {
					t.Errorf("zones = %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// A node the provider is draining (an earlier scale-down) is left out of the
// desired list, so the provider finishes removing it, while a pending pod in
// the same round gets one new node.
func TestDrainingNodesAreNotAskedForAgain(t *testing.T) {
	cl := &v1alpha1.Cluster{Spec: v1alpha1.ClusterSpec{NodeGroups: map[string]v1alpha1.NodeGroup{
		"w": {MinReplicas: ptr.To[int32](1), MaxReplicas: ptr.To[int32](3), InstanceType: "s1.large"},
	}}}
	cl.Name = "c"
	g := autoscaler.Group{Name: "w", Min: 1, Max: 3, Template: nodeTemplate(cl, "w", cl.Spec.NodeGroups["w"], nil),
		Nodes: []autoscaler.Node{{Name: "c-w-a", Zone: "geneva", Ready: true}, {Name: "c-w-b", Zone: "lucerne", Ready: true, Removing: true}}}
	specs := desiredNodes(&state{cluster: cl}, []autoscaler.Group{g}, []autoscaler.Decision{{Group: "w", From: 1, To: 2}})
	if len(specs) != 2 {
		t.Fatalf("desired %d nodes, want 2 (the staying one and one new)", len(specs))
	}
	for _, s := range specs {
		if s.Name == "c-w-b" {
			t.Error("the draining node c-w-b is asked for again")
		}
	}
	if specs[0].Name != "c-w-a" {
		t.Errorf("first desired node = %s, want the staying c-w-a", specs[0].Name)
	}
}
