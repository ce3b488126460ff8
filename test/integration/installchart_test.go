package integration

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/hikube/hikube/pkg/installchart"
)

// TestInstallChartPassesServerSideDryRun renders the install chart as an
// operator would install it and has the real kube-apiserver validate every
// object (schema, defaults, admission) with a server-side dry-run apply,
// for each way of providing etcd and the serving certificate.
func TestInstallChartPassesServerSideDryRun(t *testing.T) {
	c, err := installchart.Load()
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range map[string]map[string]any{
		"defaults: internal etcd, generated certificate": nil,
		"external etcd and more replicas": {
			"etcd":      map[string]any{"mode": "external", "external": map[string]any{"endpoints": []any{"https://etcd.example:2379"}}},
			"apiserver": map[string]any{"replicas": 3}, "controller": map[string]any{"replicas": 3},
			"gpuInventory": map[string]any{"models": map[string]any{"l40s": map[string]any{"geneva": 8}}},
		},
		// The host has no cert-manager: its Issuer and Certificate are checked
		// by TestCertManagerModeLeavesTheCABundleToItsInjector (pkg/installchart);
		// everything else of that mode is dry-run here.
		"cert-manager serving certificate": {"apiserver": map[string]any{"servingCertificate": map[string]any{"source": "cert-manager"}}},
	} {
		t.Run(name, func(t *testing.T) {
			objs, err := installchart.Render(context.Background(), c, values)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			n := 0
			for _, o := range objs {
				if strings.HasPrefix(o.GetAPIVersion(), "cert-manager.io/") {
					continue
				}
				writeDoc(t, &buf, o)
				n++
			}
			if n < 20 {
				t.Fatalf("only %d objects rendered", n)
			}
			r := kubectlIn(t, "admin", buf.Bytes(), "apply", "--server-side", "--force-conflicts",
				"--field-manager=hikube-chart-test", "--dry-run=server", "-f", "-")
			if r.Err != nil {
				t.Fatalf("server-side dry-run of %d rendered objects failed: %v\n%s", n, r.Err, r.Stderr)
			}
			// kubectl prints one line per object it applied.
			if got := strings.Count(strings.TrimSpace(r.Stdout), "\n") + 1; got != n {
				t.Errorf("kubectl applied %d objects, want %d:\n%s", got, n, r.Stdout)
			}
		})
	}
}

func writeDoc(t *testing.T, buf *bytes.Buffer, o *unstructured.Unstructured) {
	t.Helper()
	data, err := yaml.Marshal(o.Object)
	if err != nil {
		t.Fatal(err)
	}
	buf.WriteString("---\n")
	buf.Write(data)
}
