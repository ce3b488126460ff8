package catalog

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/apis/apps/v1alpha1/fixtures"
	"github.com/hikube/hikube/pkg/catalog"
)

// wantErr is one expected error: its type and field path.
type wantErr struct {
	typ  field.ErrorType
	path string
}

func (w wantErr) String() string { return fmt.Sprintf("%s %s", w.path, w.typ) }

func q(s string) *resource.Quantity {
	v := resource.MustParse(s)
	return &v
}

func mlWith(gpus ...string) v1alpha1.NodeGroup {
	g := fixtures.SeedML()
	g.GPUs = nil
	for _, n := range gpus {
		g.GPUs = append(g.GPUs, v1alpha1.GPU{Name: n})
	}
	return g
}

// internal defaults and converts a versioned cluster, as the apiserver does
// before admission.
func internal(t *testing.T, in *v1alpha1.Cluster) *apps.Cluster {
	t.Helper()
	in = in.DeepCopy()
	v1alpha1.SetObjectDefaults_Cluster(in)
	out := &apps.Cluster{}
	if err := v1alpha1.Convert_v1alpha1_Cluster_To_apps_Cluster(in, out, nil); err != nil {
		t.Fatalf("converting: %v", err)
	}
	return out
}

// assertErrors checks the errors are exactly want (by path and type), in any order.
func assertErrors(t *testing.T, errs field.ErrorList, want []wantErr) {
	t.Helper()
	var got, exp []string
	for _, e := range errs {
		got = append(got, wantErr{e.Type, e.Field}.String())
	}
	for _, w := range want {
		exp = append(exp, w.String())
	}
	sort.Strings(got)
	sort.Strings(exp)
	if strings.Join(got, "\n") != strings.Join(exp, "\n") {
		t.Errorf("errors:\n  got  %q\n  want %q\nfull: %v", got, exp, errs.ToAggregate())
	}
}

// assertDetail checks some error on path says detail.
func assertDetail(t *testing.T, errs field.ErrorList, path, detail string) {
	t.Helper()
	for _, e := range errs {
		if e.Field == path && strings.Contains(e.Error(), detail) {
			return
		}
	}
	t.Errorf("no error on %s saying %q; got %v", path, detail, errs.ToAggregate())
}

func TestValidateClusterAgainstTheCatalog(t *testing.T) {
	ng := func(mutate func(*v1alpha1.NodeGroup)) func(*v1alpha1.Cluster) {
		return func(c *v1alpha1.Cluster) {
			g := c.Spec.NodeGroups["web"]
			mutate(&g)
			c.Spec.NodeGroups["web"] = g
		}
	}
	web := "spec.nodeGroups[web]"
	cases := []struct {
		name   string
		tenant func(*v1alpha1.Cluster) // what the tenant writes, before defaulting
		stored func(*apps.Cluster)     // what defaulting should have prevented
		want   []wantErr
		detail string // said by the first wanted error, when set
	}{
		{name: "the seed's production cluster"},
		{name: "GPU by device resource name", tenant: func(c *v1alpha1.Cluster) { c.Spec.NodeGroups["ml"] = mlWith("nvidia.com/AD102GL_L40S", "l40s") }},
		{name: "GPUs on memory family", tenant: func(c *v1alpha1.Cluster) {
			g := mlWith("nvidia.com/H100", "nvidia.com/H100")
			g.InstanceType = "m1.4xlarge"
			c.Spec.NodeGroups["ml"] = g
		}},
		{name: "every version offered", tenant: func(c *v1alpha1.Cluster) { c.Spec.Version = catalog.NewestVersion() }},
		{name: "version not in catalog", tenant: func(c *v1alpha1.Cluster) { c.Spec.Version = "v1.20" },
			want: []wantErr{{field.ErrorTypeNotSupported, "spec.version"}}, detail: `"v1.33"`},
		{name: "version required", stored: func(c *apps.Cluster) { c.Spec.Version = "" },
			want: []wantErr{{field.ErrorTypeRequired, "spec.version"}}, detail: `a Kubernetes minor such as "v1.37" is required`},
		{name: "unknown cluster storage class", tenant: func(c *v1alpha1.Cluster) { c.Spec.StorageClass = "ceph" },
			want: []wantErr{{field.ErrorTypeNotSupported, "spec.storageClass"}, {field.ErrorTypeNotSupported, "spec.nodeGroups[ml].storageClass"}}},
		{name: "cluster storage class required", stored: func(c *apps.Cluster) { c.Spec.StorageClass = "" },
			want: []wantErr{{field.ErrorTypeRequired, "spec.storageClass"}}, detail: `must be one of "local", "replicated", "replicated-async"`},
		{name: "unknown node group storage class", tenant: ng(func(g *v1alpha1.NodeGroup) { g.StorageClass = "nfs" }),
			want: []wantErr{{field.ErrorTypeNotSupported, web + ".storageClass"}}, detail: `"replicated-async"`},
		{name: "unknown instance type", tenant: ng(func(g *v1alpha1.NodeGroup) { g.InstanceType = "x1.large" }),
			want: []wantErr{{field.ErrorTypeNotSupported, web + ".instanceType"}}, detail: `"s1.small", "s1.medium"`},
		{name: "missing instance type is static validation's", stored: func(c *apps.Cluster) {
			g := c.Spec.NodeGroups["web"]
			g.InstanceType = ""
			c.Spec.NodeGroups["web"] = g
		}},
		{name: "GPUs on shared s1 family", tenant: ng(func(g *v1alpha1.NodeGroup) { g.GPUs = []v1alpha1.GPU{{Name: "nvidia.com/L40S"}} }),
			want:   []wantErr{{field.ErrorTypeForbidden, web + ".gpus"}},
			detail: "instance type s1.large is in the shared s1 family, which cannot carry GPUs; use an instance type of the u1 or m1 family"},
		{name: "GPUs on an unknown instance type: only the type is reported", tenant: ng(func(g *v1alpha1.NodeGroup) {
			g.InstanceType = "x1.large"
			g.GPUs = []v1alpha1.GPU{{Name: "nvidia.com/L40S"}}
		}), want: []wantErr{{field.ErrorTypeNotSupported, web + ".instanceType"}}},
		{name: "unknown GPU model", tenant: func(c *v1alpha1.Cluster) { c.Spec.NodeGroups["ml"] = mlWith("nvidia.com/T4") },
			want: []wantErr{{field.ErrorTypeNotSupported, "spec.nodeGroups[ml].gpus[0].name"}}, detail: `"nvidia.com/H100"`},
		{name: "GPU name required", tenant: func(c *v1alpha1.Cluster) { c.Spec.NodeGroups["ml"] = mlWith("") },
			want: []wantErr{{field.ErrorTypeRequired, "spec.nodeGroups[ml].gpus[0].name"}}, detail: "a GPU model such as nvidia.com/A100"},
		{name: "mixed GPU models in one group", tenant: func(c *v1alpha1.Cluster) {
			c.Spec.NodeGroups["ml"] = mlWith("nvidia.com/L40S", "nvidia.com/AD102GL_L40S", "nvidia.com/H100")
		}, want: []wantErr{{field.ErrorTypeInvalid, "spec.nodeGroups[ml].gpus[2].name"}},
			detail: "all GPUs of a node group must be the same model (a VM gets one model), and gpus[0] is nvidia.com/L40S; put nvidia.com/H100 in another node group"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := fixtures.SeedProd()
			if tc.tenant != nil {
				tc.tenant(v)
			}
			c := internal(t, v)
			if tc.stored != nil {
				tc.stored(c)
			}
			errs := ValidateCluster(c)
			assertErrors(t, errs, tc.want)
			if tc.detail != "" {
				assertDetail(t, errs, tc.want[0].path, tc.detail)
			}
		})
	}
}

func TestValidateClusterUpdateAgainstTheCatalog(t *testing.T) {
	cases := []struct {
		name     string
		old, new string // versions
		want     []wantErr
	}{
		{name: "offered version", old: "v1.33", new: "v1.34"},
		{name: "version dropped from catalog may stay", old: "v1.32", new: "v1.32"},
		{name: "version dropped from catalog may upgrade one minor", old: "v1.32", new: "v1.33"},
		// The step is allowed by static validation; the catalog refuses it once.
		{name: "unoffered new version refused", old: "v1.37", new: "v1.38",
			want: []wantErr{{field.ErrorTypeNotSupported, "spec.version"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldV, newV := fixtures.SeedProd(), fixtures.SeedProd()
			oldV.Spec.Version, newV.Spec.Version = tc.old, tc.new
			assertErrors(t, ValidateClusterUpdate(internal(t, newV), internal(t, oldV)), tc.want)
		})
	}
}

func TestClusterWarnings(t *testing.T) {
	cases := []struct {
		name   string
		tenant func(*v1alpha1.Cluster)
		want   []string // the warnings, in order
	}{
		{name: "seed prod warns about GPU sizing", want: []string{
			"spec.nodeGroups[ml]: instance type u1.xlarge gives 4 vCPUs for 1 GPU (4 per GPU); the platform sizes 8-16 vCPUs per GPU, " +
				"so the GPUs may be starved; consider u1.2xlarge",
		}},
		{name: "sizing warning suggests a larger type of the family", tenant: func(c *v1alpha1.Cluster) {
			c.Spec.NodeGroups["ml"] = mlWith("l40s", "l40s")
		}, want: []string{"spec.nodeGroups[ml]: instance type u1.xlarge gives 4 vCPUs for 2 GPUs (2 per GPU); the platform sizes 8-16 vCPUs per GPU, " +
			"so the GPUs may be starved; consider u1.4xlarge"}},
		{name: "well-sized GPU group is quiet", tenant: func(c *v1alpha1.Cluster) {
			g := fixtures.SeedML()
			g.InstanceType = "u1.2xlarge"
			c.Spec.NodeGroups["ml"] = g
		}},
		{name: "resources override counts for sizing, with no type to suggest", tenant: func(c *v1alpha1.Cluster) {
			g := fixtures.SeedML()
			g.Resources = &v1alpha1.NodeResources{CPU: resource.MustParse("2"), Memory: resource.MustParse("8Gi")}
			c.Spec.NodeGroups["ml"] = g
		}, want: []string{"spec.nodeGroups[ml]: resources.cpu 2 gives 2 vCPUs for 1 GPU (2 per GPU); the platform sizes 8-16 vCPUs per GPU, " +
			"so the GPUs may be starved"}},
		{name: "no larger type of the family: no suggestion", tenant: func(c *v1alpha1.Cluster) {
			g := mlWith("h100", "h100", "h100", "h100", "h100")
			g.InstanceType = "m1.8xlarge"
			c.Spec.NodeGroups["ml"] = g
		}, want: []string{"spec.nodeGroups[ml]: instance type m1.8xlarge gives 32 vCPUs for 5 GPUs (6.4 per GPU); the platform sizes 8-16 vCPUs per GPU, " +
			"so the GPUs may be starved"}},
		{name: "unknown instance type is an error, not a warning", tenant: func(c *v1alpha1.Cluster) {
			g := fixtures.SeedML()
			g.InstanceType = "x1.large"
			c.Spec.NodeGroups["ml"] = g
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := fixtures.SeedProd()
			if tc.tenant != nil {
				tc.tenant(v)
			}
			got := ClusterWarnings(internal(t, v))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("warnings:\n  got  %q\n  want %q", got, tc.want)
			}
		})
	}
}
