package validation

import (
	"encoding/json"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

// FuzzValidateCluster feeds arbitrary JSON clusters through what the server
// does with them (decode, default, convert, validate create and update) and
// checks that nothing panics, that defaulting is idempotent, and that a
// cluster accepted on create is accepted as its own unchanged update.
// `go test -fuzz FuzzValidateCluster ./apis/apps/validation/` explores further.
func FuzzValidateCluster(f *testing.F) {
	for _, seed := range []string{
		`{"metadata":{"name":"web","namespace":"t"},"spec":{"nodeGroups":{"web":{"minReplicas":2,"maxReplicas":10,"instanceType":"s1.large","roles":["ingress-nginx"]}}}}`,
		`{"metadata":{"name":"ml","namespace":"t"},"spec":{"nodeGroups":{"ml":{"minReplicas":1,"maxReplicas":5,"instanceType":"u1.xlarge","gpus":[{"name":"nvidia.com/L40S"}]}}}}`,
		`{"metadata":{"name":"x","namespace":"t"},"spec":{"version":"v1.9","controlPlane":{"replicas":-1},"nodeGroups":{"":{"resources":{"cpu":"1500m","memory":"0"}}}}}`,
		`{"metadata":{"name":"a","namespace":"t"},"spec":{"addons":{"ingressNginx":{"enabled":true,"hosts":["*.x.ch","x.ch","x.ch"],"valuesOverride":[1,2]}}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v v1alpha1.Cluster
		if err := yaml.Unmarshal(data, &v); err != nil {
			return
		}
		v1alpha1.SetObjectDefaults_Cluster(&v)
		once, _ := json.Marshal(&v)
		v1alpha1.SetObjectDefaults_Cluster(&v)
		if twice, _ := json.Marshal(&v); string(once) != string(twice) {
			t.Fatalf("defaulting is not idempotent:\n%s\n%s", once, twice)
		}
		var in apps.Cluster
		if err := v1alpha1.Convert_v1alpha1_Cluster_To_apps_Cluster(&v, &in, nil); err != nil {
			return
		}
		errs := ValidateCluster(&in)
		_ = ClusterWarnings(&in)
		if len(errs) == 0 {
			in.ResourceVersion = "1" // as stored
			if upd := ValidateClusterUpdate(in.DeepCopy(), &in); len(upd) != 0 {
				t.Fatalf("a valid cluster is refused as its own update: %v", upd)
			}
		}
		_ = ValidateClusterStatusUpdate(in.DeepCopy(), &in)
	})
}
