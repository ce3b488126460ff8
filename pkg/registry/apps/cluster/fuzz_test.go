package cluster

import (
	"context"
	"net/url"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/install"
	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

// FuzzTableConvertor prints arbitrary clusters as `kubectl get` would ask
// for them: one row, one cell per column, never a panic (a half-written
// status, negative counts, huge maps).
func FuzzTableConvertor(f *testing.F) {
	for _, seed := range []string{
		`{"metadata":{"name":"web","creationTimestamp":"2026-01-01T00:00:00Z"},"spec":{"version":"v1.37","nodeGroups":{"web":{"minReplicas":2,"maxReplicas":10,"instanceType":"s1.large"}}},"status":{"phase":"Ready","endpoint":"https://x","nodeGroups":{"web":{"replicas":2,"readyReplicas":2}}}}`,
		`{"metadata":{"name":"ml"},"spec":{"nodeGroups":{"ml":{"minReplicas":1,"maxReplicas":5,"instanceType":"u1.xlarge","gpus":[{"name":"nvidia.com/L40S"},{"name":"nvidia.com/L40S"}]}}}}`,
		`{"metadata":{"name":"x"},"spec":{"nodeGroups":{"a":{"minReplicas":-5,"maxReplicas":-1},"":{}}},"status":{"nodeGroups":{"zz":{"replicas":-3}}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v v1alpha1.Cluster
		if err := yaml.Unmarshal(data, &v); err != nil {
			return
		}
		var in apps.Cluster
		if err := v1alpha1.Convert_v1alpha1_Cluster_To_apps_Cluster(&v, &in, nil); err != nil {
			return
		}
		table, err := tableConvertor{}.ConvertToTable(context.Background(), &in, nil)
		if err != nil {
			t.Fatalf("ConvertToTable: %v", err)
		}
		if len(table.Rows) != 1 || len(table.Rows[0].Cells) != len(columns) {
			t.Fatalf("table has %d rows, first with %d cells; want 1 row of %d", len(table.Rows), len(table.Rows[0].Cells), len(columns))
		}
		list, err := tableConvertor{}.ConvertToTable(context.Background(), &apps.ClusterList{Items: []apps.Cluster{in, in}}, nil)
		if err != nil || len(list.Rows) != 2 {
			t.Fatalf("a list of two gives %v rows, error %v", len(list.Rows), err)
		}
	})
}

// FuzzKubeconfigQuery decodes arbitrary query strings of GET
// clusters/<name>/kubeconfig the way the server does and checks the lifetime
// it would sign for: always within the documented bounds.
func FuzzKubeconfigQuery(f *testing.F) {
	for _, seed := range []string{"", "expirationSeconds=3600", "expirationSeconds=-1", "expirationSeconds=0",
		"expirationSeconds=99999999999999", "expirationSeconds=9223372037", "expirationSeconds=abc", "expirationSeconds=1&expirationSeconds=2", "x=%zz"} {
		f.Add(seed)
	}
	scheme := runtime.NewScheme()
	install.Install(scheme)
	codec := runtime.NewParameterCodec(scheme)
	f.Fuzz(func(t *testing.T, query string) {
		values, err := url.ParseQuery(query)
		if err != nil {
			return // the HTTP server refuses it before us
		}
		var opts apps.KubeconfigOptions
		if err := codec.DecodeParameters(values, v1alpha1.SchemeGroupVersion, &opts); err != nil {
			return // a 400 from the handler
		}
		d := clampExpiration(opts.ExpirationSeconds)
		if d < MinKubeconfigExpiration || d > MaxKubeconfigExpiration {
			t.Fatalf("expirationSeconds=%d signs for %s, outside [%s, %s]", opts.ExpirationSeconds, d, MinKubeconfigExpiration, MaxKubeconfigExpiration)
		}
		if opts.ExpirationSeconds > 0 && int64(MaxKubeconfigExpiration.Seconds()) <= opts.ExpirationSeconds && d != MaxKubeconfigExpiration {
			t.Fatalf("expirationSeconds=%d beyond the maximum signs for %s, want the maximum %s", opts.ExpirationSeconds, d, MaxKubeconfigExpiration)
		}
	})
}
