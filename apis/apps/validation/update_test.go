package validation

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/apis/apps/v1alpha1/fixtures"
)

func TestValidateClusterUpdate(t *testing.T) {
	web := func(mutate func(*v1alpha1.NodeGroup)) func(*v1alpha1.Cluster) {
		return func(c *v1alpha1.Cluster) {
			g := c.Spec.NodeGroups["web"]
			mutate(&g)
			c.Spec.NodeGroups["web"] = g
		}
	}
	cases := []struct {
		name     string
		old, new func(*v1alpha1.Cluster) // applied to the seed before defaulting
		stored   func(*apps.Cluster)     // applied to the old object after defaulting
		want     []wantErr
		detail   string
	}{
		{name: "no change"},
		{name: "one minor upgrade", new: version("v1.34")},
		{name: "downgrade refused", old: version("v1.36"), new: version("v1.35"),
			want: []wantErr{{field.ErrorTypeInvalid, "spec.version"}}, detail: "downgrades are not supported: v1.36 → v1.35"},
		{name: "skipping a minor refused", old: version("v1.34"), new: version("v1.36"),
			want: []wantErr{{field.ErrorTypeInvalid, "spec.version"}}, detail: "upgrade one minor at a time: v1.34 → v1.35 first"},
		{name: "version dropped from catalog may stay",
			stored: func(c *apps.Cluster) { c.Spec.Version = "v1.32" }, new: version("v1.32")},
		{name: "version dropped from catalog may upgrade one minor",
			stored: func(c *apps.Cluster) { c.Spec.Version = "v1.32" }, new: version("v1.33")},
		// Whether v1.99 is offered is the catalog admission's question; the
		// step alone is refused here.
		{name: "skipping to a minor the catalog may not offer refused", new: version("v1.99"),
			want: []wantErr{{field.ErrorTypeInvalid, "spec.version"}}, detail: "upgrade one minor at a time: v1.33 → v1.34 first"},
		{name: "malformed version left to the catalog", new: version("1.34")},
		{name: "new spec is validated", new: web(func(g *v1alpha1.NodeGroup) { g.MinReplicas = ptr.To[int32](11) }),
			want: []wantErr{{field.ErrorTypeInvalid, "spec.nodeGroups[web].minReplicas"}}},
		{name: "node group storage class immutable", new: web(func(g *v1alpha1.NodeGroup) { g.StorageClass = "local" }),
			want:   []wantErr{{field.ErrorTypeInvalid, "spec.nodeGroups[web].storageClass"}},
			detail: "create a new node group with local"},
		{name: "defaulted storage class following the cluster's is caught",
			old:    func(c *v1alpha1.Cluster) { c.Spec.StorageClass = "replicated" },
			new:    func(c *v1alpha1.Cluster) { c.Spec.StorageClass = "local" },
			want:   []wantErr{{field.ErrorTypeInvalid, "spec.nodeGroups[ml].storageClass"}},
			detail: "set it explicitly"},
		{name: "cluster storage class may change when groups keep theirs",
			new: func(c *v1alpha1.Cluster) {
				c.Spec.StorageClass = "local"
				g := c.Spec.NodeGroups["ml"]
				g.StorageClass = "replicated"
				c.Spec.NodeGroups["ml"] = g
			}},
		{name: "new node group may use any storage class", new: func(c *v1alpha1.Cluster) {
			c.Spec.NodeGroups["fast"] = v1alpha1.NodeGroup{StorageClass: "local"}
		}},
		{name: "ephemeral storage may grow", new: web(func(g *v1alpha1.NodeGroup) { g.EphemeralStorage = q("50Gi") })},
		{name: "ephemeral storage may not shrink", old: web(func(g *v1alpha1.NodeGroup) { g.EphemeralStorage = q("50Gi") }),
			new:    web(func(g *v1alpha1.NodeGroup) { g.EphemeralStorage = q("20Gi") }),
			want:   []wantErr{{field.ErrorTypeInvalid, "spec.nodeGroups[web].ephemeralStorage"}},
			detail: "may not shrink below 50Gi"},
		{name: "name immutable", new: func(c *v1alpha1.Cluster) { c.Name = "other" },
			want: []wantErr{{field.ErrorTypeInvalid, "metadata.name"}}},
		{name: "resourceVersion required", new: func(c *v1alpha1.Cluster) { c.ResourceVersion = "" },
			want: []wantErr{{field.ErrorTypeInvalid, "metadata.resourceVersion"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldV, newV := fixtures.SeedProd(), fixtures.SeedProd()
			if tc.old != nil {
				tc.old(oldV)
				tc.old(newV) // the new object starts from the old one
			}
			if tc.new != nil {
				tc.new(newV)
			}
			oldC, newC := internal(t, oldV), internal(t, newV)
			if tc.stored != nil {
				tc.stored(oldC)
			}
			errs := ValidateClusterUpdate(newC, oldC)
			assertErrors(t, errs, tc.want)
			if tc.detail != "" {
				assertDetail(t, errs, tc.want[0].path, tc.detail)
			}
		})
	}
}

func version(v string) func(*v1alpha1.Cluster) {
	return func(c *v1alpha1.Cluster) { c.Spec.Version = v }
}
