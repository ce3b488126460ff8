package v1alpha1_test

import (
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/yaml"

	"github.com/hikube/hikube/apis/apps"
	. "github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/apis/apps/v1alpha1/fixtures"
)

// FuzzConversionRoundTrip checks that v1alpha1 → internal → v1alpha1 loses
// nothing for any cluster a client can send: what the server stores is
// internal, and what a client reads back must be what it wrote (defaulted).
// `make fuzz` explores beyond the seeds.
func FuzzConversionRoundTrip(f *testing.F) {
	prod, err := yaml.Marshal(fixtures.SeedProd())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(prod)
	for _, g := range []NodeGroup{fixtures.SeedWeb(), fixtures.SeedML()} {
		data, err := yaml.Marshal(Cluster{Spec: ClusterSpec{NodeGroups: map[string]NodeGroup{"g": g}}})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"metadata":{"name":"x"},"spec":{"addons":{"ingressNginx":{"enabled":true,"valuesOverride":{"a":{"b":[1,null,{"c":"d"}]}}}}},"status":{"phase":"Ready","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z","reason":"R","message":""}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v Cluster
		if err := yaml.Unmarshal(data, &v); err != nil {
			return
		}
		SetObjectDefaults_Cluster(&v)
		var in apps.Cluster
		if err := Convert_v1alpha1_Cluster_To_apps_Cluster(&v, &in, nil); err != nil {
			t.Fatalf("to internal: %v", err)
		}
		var back Cluster
		if err := Convert_apps_Cluster_To_v1alpha1_Cluster(&in, &back, nil); err != nil {
			t.Fatalf("back to v1alpha1: %v", err)
		}
		if !apiequality.Semantic.DeepEqual(&v, &back) {
			a, _ := yaml.Marshal(&v)
			b, _ := yaml.Marshal(&back)
			t.Fatalf("round trip changed the cluster:\n%s\n---\n%s", a, b)
		}
	})
}
