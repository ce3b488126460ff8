package clusterspec

import (
	"strings"
	"testing"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

func TestParseNodeGroupNamesTheBadPart(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want []string // substrings the message must hold
	}{
		{"", []string{"empty"}},
		{"instance-type=s1.large", []string{"name: missing"}},
		{"name=web,min", []string{`"min" is not key=value`}},
		{"name=web,size=3", []string{`unknown key "size"`, "instance-type"}},
		{"name=web,min=x", []string{"min:", `"x"`}},
		{"name=web,max=-1", []string{"max:", `"-1"`}},
		{"name=web,max=1000", []string{"max: 1000", "100"}},
		{"name=web,min=5,max=2", []string{"min=5", "max=2"}},
		{"name=web,ephemeral-storage=lots", []string{"ephemeral-storage:", `"lots"`}},
		{"name=web,min=", []string{"min: empty value"}},
		{"name=web,name=api", []string{`key "name" given twice`}},
		{"name=ml,instance-type=u1.xlarge,gpus=nvidia.com/L40S:x", []string{"gpus:", `count "x"`}},
		{"name=ml,instance-type=u1.xlarge,gpus=nvidia.com/L40S:0", []string{"gpus:", "count 0", "1 to 8"}},
		{"name=ml,instance-type=u1.xlarge,gpus=nvidia.com/L40S:9", []string{"gpus:", "count 9"}},
		{"name=ml,gpus=:2", []string{"gpus:", "missing GPU model"}},
		{"name=web,cpu=8", []string{"cpu and memory", "both"}},
		{"name=web,cpu=x,memory=8Gi", []string{"cpu:", `"x"`}},
		{"name=web,roles=;", []string{"roles: empty role"}},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			_, err := ParseNodeGroup(tc.spec)
			if err == nil {
				t.Fatalf("ParseNodeGroup(%q) accepted a bad spec", tc.spec)
			}
			if !strings.Contains(err.Error(), "--node-group") {
				t.Errorf("message %q does not name the flag", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseNodeGroupAcceptsTheSeedGroups(t *testing.T) {
	ng, err := ParseNodeGroup("name=web,instance-type=s1.large,min=2,max=10,roles=ingress-nginx,roles=monitoring,storage-class=replicated,ephemeral-storage=20Gi")
	if err != nil {
		t.Fatal(err)
	}
	g := ng.Group
	if ng.Name != "web" || g.InstanceType != "s1.large" || *g.MinReplicas != 2 || *g.MaxReplicas != 10 ||
		strings.Join(g.Roles, ",") != "ingress-nginx,monitoring" || g.StorageClass != "replicated" || g.EphemeralStorage.String() != "20Gi" {
		t.Errorf("parsed %+v", ng)
	}
	ng, err = ParseNodeGroup("name=ml,instance-type=u1.xlarge,min=0,max=5,gpus=nvidia.com/L40S:2")
	if err != nil {
		t.Fatal(err)
	}
	if len(ng.Group.GPUs) != 2 || ng.Group.GPUs[0].Name != "nvidia.com/L40S" || *ng.Group.MinReplicas != 0 {
		t.Errorf("parsed %+v", ng.Group)
	}
}

func TestParseGPUSpecs(t *testing.T) {
	for spec, want := range map[string]GPUSpec{
		"nvidia.com/L40S":           {"nvidia.com/L40S", 1},
		"nvidia.com/L40S:2":         {"nvidia.com/L40S", 2},
		"nvidia.com/AD102GL_L40S:1": {"nvidia.com/AD102GL_L40S", 1},
		"h100:8":                    {"nvidia.com/H100", 8},
	} {
		got, err := ParseGPU(spec)
		if err != nil || got != want {
			t.Errorf("ParseGPU(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	for spec, want := range map[string]string{
		"ml":                     `expected <node-group>=<model>`,
		"=nvidia.com/L40S":       `expected <node-group>=<model>`,
		"ml=nvidia.com/L40S:two": `count "two"`,
		"ml=nvidia.com/L40S:-1":  "count -1",
	} {
		_, _, err := ParseGroupGPU(spec)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--gpu") {
			t.Errorf("ParseGroupGPU(%q) = %v; want an error with %q naming --gpu", spec, err, want)
		}
	}
}

// TestCatalogValuesAreTheServersToJudge: instance types, GPU models,
// storage classes and versions the plugin's catalog does not know pass
// through as written, so that a plugin older than the server never refuses
// what the server offers; the server's catalog answers (also on
// --dry-run=server).
func TestCatalogValuesAreTheServersToJudge(t *testing.T) {
	ng, err := ParseNodeGroup("name=new,instance-type=z9.mega,storage-class=nvme,gpus=amd.com/MI300:2")
	if err != nil {
		t.Fatalf("a spec of values only a newer catalog knows was refused: %v", err)
	}
	g := ng.Group
	if g.InstanceType != "z9.mega" || g.StorageClass != "nvme" || len(g.GPUs) != 2 || g.GPUs[0].Name != "amd.com/MI300" {
		t.Errorf("parsed %+v", g)
	}
	// GPUs on a family the plugin believes shared: the server's to say too.
	if _, err := ParseNodeGroup("name=ml,instance-type=s1.large,gpus=nvidia.com/L40S"); err != nil {
		t.Errorf("GPUs on s1 refused by the plugin: %v", err)
	}
	c, err := Build(Options{Name: "c", Namespace: "tenant-a", Version: "1.40", StorageClass: "nvme",
		NodeGroups: []string{"name=ml,instance-type=z9.mega"}, GPUs: []string{"ml=amd.com/MI300:1"}})
	if err != nil {
		t.Fatalf("Build refused values only a newer catalog knows: %v", err)
	}
	if c.Spec.Version != "v1.40" || c.Spec.StorageClass != "nvme" || c.Spec.NodeGroups["ml"].GPUs[0].Name != "amd.com/MI300" {
		t.Errorf("built %+v", c.Spec)
	}
}

func TestBuildRefusesWhatTheAPIWould(t *testing.T) {
	for name, o := range map[string]Options{
		"gpu flag on unknown group": {GPUs: []string{"ml=nvidia.com/L40S"}},
		"version not a minor":       {Version: "latest"},
		"gpu count over the limit":  {NodeGroups: []string{"name=ml,instance-type=u1.xlarge"}, GPUs: []string{"ml=nvidia.com/L40S:9"}},
		"bad preset":                {ControlPlanePreset: "huge"},
		"bad addon":                 {Addons: []string{"kafka"}},
		"addon not a bool":          {Addons: []string{"fluxcd=maybe"}},
		"host without ingress":      {IngressHosts: []string{"a.example.ch"}},
		"duplicate group":           {NodeGroups: []string{"name=a", "name=a"}},
		"too many replicas":         {ControlPlaneReplicas: 9},
	} {
		o.Name, o.Namespace = "c", "tenant-a"
		if _, err := Build(o); err == nil {
			t.Errorf("%s: Build accepted %+v", name, o)
		}
	}
}

func TestBuildSeedProdAndValidate(t *testing.T) {
	c, err := Build(Options{
		Name: "prod", Namespace: "tenant-a", Version: "1.36", ControlPlaneReplicas: 3, ControlPlanePreset: "small", StorageClass: "replicated",
		NodeGroups: []string{"name=web,instance-type=s1.large,min=2,max=10,ephemeral-storage=20Gi,roles=ingress-nginx,storage-class=replicated",
			"name=ml,instance-type=u1.xlarge,min=1,max=5,gpus=nvidia.com/L40S"},
		Addons:       []string{"cert-manager", "ingress-nginx", "fluxcd=false", "monitoringAgents"},
		IngressHosts: []string{"app.example.ch"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Spec.Version != "v1.36" || !c.Spec.Addons.IngressNginx.Enabled || c.Spec.Addons.Fluxcd == nil || c.Spec.Addons.Fluxcd.Enabled {
		t.Errorf("built %+v", c.Spec)
	}
	if err := Validate(c, nil); err != nil {
		t.Errorf("the seed's prod cluster is refused: %v", err)
	}
	bad := c.DeepCopy()
	bad.Spec.Version = "v1.33"
	if err := Validate(bad, c); err == nil || !strings.Contains(err.Error(), "spec.version") {
		t.Errorf("a downgrade passed the client-side check: %v", err)
	}
}

func TestAddonNames(t *testing.T) {
	for key, flag := range map[string]string{"certManager": "cert-manager", "gatewayAPI": "gateway-api", "gpuOperator": "gpu-operator", "fluxcd": "fluxcd", "monitoringAgents": "monitoring-agents"} {
		if got := AddonFlagName(key); got != flag {
			t.Errorf("AddonFlagName(%s) = %s, want %s", key, got, flag)
		}
		for _, in := range []string{key, flag} {
			if got, err := AddonKey(in); err != nil || got != key {
				t.Errorf("AddonKey(%s) = %s, %v", in, got, err)
			}
		}
	}
	var a v1alpha1.Addons
	SetAddon(&a, "ingressNginx", true)
	if on, set := AddonEnabled(&a, "ingressNginx"); !on || !set {
		t.Error("ingress-nginx not enabled")
	}
}
