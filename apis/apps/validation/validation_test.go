package validation

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/apis/apps/v1alpha1/fixtures"
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

// minimal is a cluster with only a name and one node group, the rest left to defaults.
func minimal(groups map[string]v1alpha1.NodeGroup) *v1alpha1.Cluster {
	return &v1alpha1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: "tenant-acme", ResourceVersion: "1"},
		Spec:       v1alpha1.ClusterSpec{NodeGroups: groups},
	}
}

// internal defaults and converts a versioned cluster, as the apiserver does
// before validation.
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

func TestSeedExamplesAreValid(t *testing.T) {
	cases := map[string]*v1alpha1.Cluster{
		"web node group for ingress":           minimal(map[string]v1alpha1.NodeGroup{"web": fixtures.SeedWeb()}),
		"ml node group with one L40S on u1":    minimal(map[string]v1alpha1.NodeGroup{"ml": fixtures.SeedML()}),
		"production cluster with 3 replicas":   fixtures.SeedProd(),
		"cluster without node groups":          minimal(nil),
		"node group left entirely to defaults": minimal(map[string]v1alpha1.NodeGroup{"default": {}}),
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			assertErrors(t, ValidateCluster(internal(t, c)), nil)
		})
	}
}

func TestValidateClusterRejects(t *testing.T) {
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
		{name: "name not a DNS-1035 label", tenant: func(c *v1alpha1.Cluster) { c.Name = "1prod" },
			want: []wantErr{{field.ErrorTypeInvalid, "metadata.name"}}},
		{name: "name too long for derived names", tenant: func(c *v1alpha1.Cluster) { c.Name = strings.Repeat("a", 37) },
			want: []wantErr{{field.ErrorTypeInvalid, "metadata.name"}}, detail: "no more than 36 characters"},
		{name: "namespace required", tenant: func(c *v1alpha1.Cluster) { c.Namespace = "" },
			want: []wantErr{{field.ErrorTypeRequired, "metadata.namespace"}}},
		{name: "control plane replicas above limit", tenant: func(c *v1alpha1.Cluster) { c.Spec.ControlPlane.Replicas = ptr.To[int32](7) },
			want: []wantErr{{field.ErrorTypeInvalid, "spec.controlPlane.replicas"}}, detail: "between 1 and 5"},
		{name: "control plane replicas zero", tenant: func(c *v1alpha1.Cluster) { c.Spec.ControlPlane.Replicas = ptr.To[int32](0) },
			want: []wantErr{{field.ErrorTypeInvalid, "spec.controlPlane.replicas"}}},
		{name: "control plane replicas nil", stored: func(c *apps.Cluster) { c.Spec.ControlPlane.Replicas = nil },
			want: []wantErr{{field.ErrorTypeRequired, "spec.controlPlane.replicas"}}},
		{name: "unknown control plane preset", tenant: func(c *v1alpha1.Cluster) { c.Spec.ControlPlane.ResourcesPreset = "huge" },
			want: []wantErr{{field.ErrorTypeNotSupported, "spec.controlPlane.resourcesPreset"}}, detail: `"2xlarge"`},
		{name: "minReplicas above maxReplicas", tenant: ng(func(g *v1alpha1.NodeGroup) { g.MinReplicas, g.MaxReplicas = ptr.To[int32](5), ptr.To[int32](3) }),
			want:   []wantErr{{field.ErrorTypeInvalid, web + ".minReplicas"}},
			detail: "spec.nodeGroups[web].minReplicas: Invalid value: 5: must be less than or equal to maxReplicas (3)"},
		{name: "negative minReplicas", tenant: ng(func(g *v1alpha1.NodeGroup) { g.MinReplicas = ptr.To[int32](-1) }),
			want: []wantErr{{field.ErrorTypeInvalid, web + ".minReplicas"}}},
		{name: "maxReplicas above per-group limit", tenant: ng(func(g *v1alpha1.NodeGroup) { g.MaxReplicas = ptr.To[int32](101) }),
			want: []wantErr{{field.ErrorTypeInvalid, web + ".maxReplicas"}}, detail: "between 0 and 100"},
		{name: "replicas nil after defaulting", stored: func(c *apps.Cluster) {
			g := c.Spec.NodeGroups["web"]
			g.MinReplicas, g.MaxReplicas = nil, nil
			c.Spec.NodeGroups["web"] = g
		}, want: []wantErr{{field.ErrorTypeRequired, web + ".minReplicas"}, {field.ErrorTypeRequired, web + ".maxReplicas"}}},
		{name: "sum of maxReplicas above cluster limit", tenant: func(c *v1alpha1.Cluster) {
			for _, n := range []string{"a", "b", "c", "d"} {
				c.Spec.NodeGroups[n] = v1alpha1.NodeGroup{MaxReplicas: ptr.To[int32](75)}
			}
		}, want: []wantErr{{field.ErrorTypeInvalid, "spec.nodeGroups"}}, detail: "add up to 315, more than the 300 nodes"},
		{name: "too many node groups", tenant: func(c *v1alpha1.Cluster) {
			for i := range 20 {
				c.Spec.NodeGroups[fmt.Sprintf("g%d", i)] = v1alpha1.NodeGroup{MaxReplicas: ptr.To[int32](1)}
			}
		}, want: []wantErr{{field.ErrorTypeTooMany, "spec.nodeGroups"}}},
		{name: "node group name not a DNS-1123 label", tenant: func(c *v1alpha1.Cluster) { c.Spec.NodeGroups["Web_1"] = v1alpha1.NodeGroup{} },
			want: []wantErr{{field.ErrorTypeInvalid, "spec.nodeGroups[Web_1]"}}},
		{name: "node group name too long for node names", tenant: func(c *v1alpha1.Cluster) { c.Spec.NodeGroups[strings.Repeat("g", 21)] = v1alpha1.NodeGroup{} },
			want: []wantErr{{field.ErrorTypeInvalid, "spec.nodeGroups[" + strings.Repeat("g", 21) + "]"}}, detail: "no more than 20 characters"},
		{name: "instance type required", stored: func(c *apps.Cluster) {
			g := c.Spec.NodeGroups["web"]
			g.InstanceType = ""
			c.Spec.NodeGroups["web"] = g
		}, want: []wantErr{{field.ErrorTypeRequired, web + ".instanceType"}}, detail: "such as s1.medium"},
		{name: "cpu without memory", tenant: ng(func(g *v1alpha1.NodeGroup) { g.Resources = &v1alpha1.NodeResources{CPU: resource.MustParse("4")} }),
			want: []wantErr{{field.ErrorTypeRequired, web + ".resources.memory"}}, detail: "cpu and memory must be set together"},
		{name: "memory without cpu", tenant: ng(func(g *v1alpha1.NodeGroup) { g.Resources = &v1alpha1.NodeResources{Memory: resource.MustParse("8Gi")} }),
			want: []wantErr{{field.ErrorTypeRequired, web + ".resources.cpu"}}},
		{name: "negative cpu and memory", tenant: ng(func(g *v1alpha1.NodeGroup) {
			g.Resources = &v1alpha1.NodeResources{CPU: resource.MustParse("-2"), Memory: resource.MustParse("-1Gi")}
		}), want: []wantErr{{field.ErrorTypeInvalid, web + ".resources.cpu"}, {field.ErrorTypeInvalid, web + ".resources.memory"}}},
		{name: "fractional cpu", tenant: ng(func(g *v1alpha1.NodeGroup) {
			g.Resources = &v1alpha1.NodeResources{CPU: resource.MustParse("1500m"), Memory: resource.MustParse("4Gi")}
		}), want: []wantErr{{field.ErrorTypeInvalid, web + ".resources.cpu"}}},
		{name: "zero ephemeral storage", tenant: ng(func(g *v1alpha1.NodeGroup) { g.EphemeralStorage = q("0") }),
			want: []wantErr{{field.ErrorTypeInvalid, web + ".ephemeralStorage"}}},
		{name: "ephemeral storage above limit", tenant: ng(func(g *v1alpha1.NodeGroup) { g.EphemeralStorage = q("3Ti") }),
			want: []wantErr{{field.ErrorTypeInvalid, web + ".ephemeralStorage"}}, detail: "2Ti"},
		{name: "ephemeral storage nil", stored: func(c *apps.Cluster) {
			g := c.Spec.NodeGroups["web"]
			g.EphemeralStorage = nil
			c.Spec.NodeGroups["web"] = g
		}, want: []wantErr{{field.ErrorTypeRequired, web + ".ephemeralStorage"}}},
		{name: "invalid role", tenant: ng(func(g *v1alpha1.NodeGroup) { g.Roles = []string{"ingress-nginx", "Ingress_Nginx"} }),
			want: []wantErr{{field.ErrorTypeInvalid, web + ".roles[1]"}}},
		{name: "duplicate role", tenant: ng(func(g *v1alpha1.NodeGroup) { g.Roles = []string{"monitoring", "monitoring"} }),
			want: []wantErr{{field.ErrorTypeDuplicate, web + ".roles[1]"}}},
		{name: "empty role", tenant: ng(func(g *v1alpha1.NodeGroup) { g.Roles = []string{""} }),
			want: []wantErr{{field.ErrorTypeRequired, web + ".roles[0]"}}},
		{name: "more GPUs than a VM takes", tenant: func(c *v1alpha1.Cluster) {
			c.Spec.NodeGroups["ml"] = mlWith(strings.Split(strings.Repeat("l40s ", 9), " ")[:9]...)
		}, want: []wantErr{{field.ErrorTypeTooMany, "spec.nodeGroups[ml].gpus"}}},
		{name: "unknown expose method", tenant: func(c *v1alpha1.Cluster) { c.Spec.Addons.IngressNginx.ExposeMethod = "NodePort" },
			want: []wantErr{{field.ErrorTypeNotSupported, "spec.addons.ingressNginx.exposeMethod"}}, detail: `"LoadBalancer"`},
		{name: "invalid ingress host", tenant: func(c *v1alpha1.Cluster) { c.Spec.Addons.IngressNginx.Hosts = []string{"App.example.ch"} },
			want: []wantErr{{field.ErrorTypeInvalid, "spec.addons.ingressNginx.hosts[0]"}}},
		{name: "wildcard not leading", tenant: func(c *v1alpha1.Cluster) { c.Spec.Addons.IngressNginx.Hosts = []string{"app.*.example.ch"} },
			want: []wantErr{{field.ErrorTypeInvalid, "spec.addons.ingressNginx.hosts[0]"}}},
		{name: "duplicate ingress host", tenant: func(c *v1alpha1.Cluster) {
			c.Spec.Addons.IngressNginx.Hosts = []string{"*.example.ch", "app.example.ch", "*.example.ch"}
		}, want: []wantErr{{field.ErrorTypeDuplicate, "spec.addons.ingressNginx.hosts[2]"}}},
		{name: "values override not an object", tenant: func(c *v1alpha1.Cluster) {
			c.Spec.Addons.CertManager.ValuesOverride = &runtime.RawExtension{Raw: []byte(`["replicas", 2]`)}
			c.Spec.Addons.IngressNginx.ValuesOverride = &runtime.RawExtension{Raw: []byte(`"x"`)}
		}, want: []wantErr{
			{field.ErrorTypeInvalid, "spec.addons.certManager.valuesOverride"},
			{field.ErrorTypeInvalid, "spec.addons.ingressNginx.valuesOverride"},
		}},
		{name: "values override beyond its size", tenant: func(c *v1alpha1.Cluster) {
			c.Spec.Addons.CertManager.ValuesOverride = &runtime.RawExtension{Raw: []byte(`{"blob":"` + strings.Repeat("x", apps.MaxValuesOverrideBytes) + `"}`)}
		}, want: []wantErr{{field.ErrorTypeTooLong, "spec.addons.certManager.valuesOverride"}}},
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

func mlWith(gpus ...string) v1alpha1.NodeGroup {
	g := fixtures.SeedML()
	g.GPUs = nil
	for _, n := range gpus {
		g.GPUs = append(g.GPUs, v1alpha1.GPU{Name: n})
	}
	return g
}

func TestValidateClusterAccepts(t *testing.T) {
	cases := []struct {
		name   string
		tenant func(*v1alpha1.Cluster)
	}{
		{"GPU by device resource name", func(c *v1alpha1.Cluster) { c.Spec.NodeGroups["ml"] = mlWith("nvidia.com/AD102GL_L40S", "l40s") }},
		{"GPUs on memory family", func(c *v1alpha1.Cluster) {
			g := mlWith("nvidia.com/H100", "nvidia.com/H100")
			g.InstanceType = "m1.4xlarge"
			c.Spec.NodeGroups["ml"] = g
		}},
		{"resources with both cpu and memory", func(c *v1alpha1.Cluster) {
			g := c.Spec.NodeGroups["web"]
			g.Resources = &v1alpha1.NodeResources{CPU: resource.MustParse("6"), Memory: resource.MustParse("12Gi")}
			c.Spec.NodeGroups["web"] = g
		}},
		{"empty resources", func(c *v1alpha1.Cluster) {
			g := c.Spec.NodeGroups["web"]
			g.Resources = &v1alpha1.NodeResources{}
			c.Spec.NodeGroups["web"] = g
		}},
		{"group scaled to zero", func(c *v1alpha1.Cluster) {
			g := c.Spec.NodeGroups["web"]
			g.MinReplicas, g.MaxReplicas = ptr.To[int32](0), ptr.To[int32](0)
			c.Spec.NodeGroups["web"] = g
		}},
		{"exactly the cluster node limit", func(c *v1alpha1.Cluster) {
			c.Spec.NodeGroups = map[string]v1alpha1.NodeGroup{}
			for _, n := range []string{"a", "b", "c"} {
				c.Spec.NodeGroups[n] = v1alpha1.NodeGroup{MaxReplicas: ptr.To[int32](100)}
			}
		}},
		{"longest names", func(c *v1alpha1.Cluster) {
			c.Name = "p" + strings.Repeat("a", 35)
			c.Spec.NodeGroups["g"+strings.Repeat("a", 19)] = v1alpha1.NodeGroup{}
		}},
		{"wildcard host and LoadBalancer", func(c *v1alpha1.Cluster) {
			c.Spec.Addons.IngressNginx.Hosts = []string{"*.apps.example.ch"}
			c.Spec.Addons.IngressNginx.ExposeMethod = "LoadBalancer"
		}},
		// What the catalog offers is checked by admission against the
		// server's catalog, so that a client never refuses a newer offer.
		{"names only the catalog judges", func(c *v1alpha1.Cluster) {
			c.Spec.Version = "v1.99"
			c.Spec.StorageClass = "nvme"
			c.Spec.NodeGroups["ml"] = mlWith("nvidia.com/B200")
			g := c.Spec.NodeGroups["web"]
			g.InstanceType = "x2.large"
			g.GPUs = []v1alpha1.GPU{{Name: "nvidia.com/L40S"}}
			c.Spec.NodeGroups["web"] = g
		}},
		{"version left to admission's default", func(c *v1alpha1.Cluster) { c.Spec.Version = "" }},
		{"values override object, empty and null", func(c *v1alpha1.Cluster) {
			c.Spec.Addons.CertManager.ValuesOverride = &runtime.RawExtension{Raw: []byte(`{"replicaCount": 2}`)}
			c.Spec.Addons.Fluxcd.ValuesOverride = &runtime.RawExtension{}
			c.Spec.Addons.MonitoringAgents.ValuesOverride = &runtime.RawExtension{Raw: []byte(`null`)}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := fixtures.SeedProd()
			tc.tenant(v)
			assertErrors(t, ValidateCluster(internal(t, v)), nil)
		})
	}
}

func TestValidateClusterName(t *testing.T) {
	cases := []struct {
		name   string
		prefix bool
		valid  bool
	}{
		{"prod", false, true},
		{strings.Repeat("a", 36), false, true},
		{strings.Repeat("a", 37), false, false},
		{"9lives", false, false},
		{"prod.eu", false, false},
		{"prod-", true, true},
		{strings.Repeat("a", 31), true, true},
		{strings.Repeat("a", 32), true, false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s prefix=%v", tc.name, tc.prefix), func(t *testing.T) {
			msgs := ValidateClusterName(tc.name, tc.prefix)
			if (len(msgs) == 0) != tc.valid {
				t.Errorf("ValidateClusterName(%q, %v) = %q, want valid=%v", tc.name, tc.prefix, msgs, tc.valid)
			}
		})
	}
}
