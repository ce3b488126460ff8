package integration

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestHikubeCallsHaveTheirPriorityLevels checks, through the priority and
// fairness headers of the real host kube-apiserver, that the install chart's
// FlowSchemas classify hikube's own calls: hikube-apiserver's delegated
// authorization (made while a tenant's request waits in the host) at
// workload-high, hikube-controller's Lease at leader-election, and that
// they catch nothing else (the controller's other calls, a tenant's).
func TestHikubeCallsHaveTheirPriorityLevels(t *testing.T) {
	ctx := context.Background()
	admin := restConfig(t, "admin")
	kube, err := kubernetes.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	fsUID := func(name string) string {
		fs, err := kube.FlowcontrolV1().FlowSchemas().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("FlowSchema %s: %v", name, err)
		}
		return string(fs.UID)
	}
	plUID := func(name string) string {
		pl, err := kube.FlowcontrolV1().PriorityLevelConfigurations().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("PriorityLevelConfiguration %s: %v", name, err)
		}
		return string(pl.UID)
	}
	sa := func(name string) rest.ImpersonationConfig {
		return rest.ImpersonationConfig{
			UserName: "system:serviceaccount:hikube-system:" + name,
			Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:hikube-system", "system:authenticated"},
		}
	}
	alice := rest.ImpersonationConfig{UserName: "alice", Groups: []string{"system:authenticated"}}
	const sar = `{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"alice","resourceAttributes":{"group":"apps.hikube.io","resource":"clusters","verb":"get","namespace":"tenant-a"}}}`
	for _, c := range []struct {
		name       string
		as         rest.ImpersonationConfig
		method     string
		path, body string
		flowSchema string // "" for any other than the chart's two
		level      string
	}{
		{"hikube-apiserver's SubjectAccessReview", sa("hikube-apiserver"), http.MethodPost, "/apis/authorization.k8s.io/v1/subjectaccessreviews", sar, "hikube-apiserver", "workload-high"},
		{"hikube-apiserver's quota read", sa("hikube-apiserver"), http.MethodGet, "/api/v1/namespaces/tenant-a/resourcequotas", "", "hikube-apiserver", "workload-high"},
		{"hikube-controller's Lease", sa("hikube-controller"), http.MethodGet, "/apis/coordination.k8s.io/v1/namespaces/hikube-system/leases/hikube-controller", "", "hikube-controller-leader-election", "leader-election"},
		{"hikube-controller's other calls", sa("hikube-controller"), http.MethodGet, "/api/v1/namespaces/hikube-system/configmaps", "", "", "workload-low"},
		{"a tenant's request", alice, http.MethodGet, "/apis/authorization.k8s.io/v1", "", "", "global-default"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := rest.CopyConfig(admin)
			cfg.Impersonate = c.as
			client, err := rest.HTTPClientFor(cfg)
			if err != nil {
				t.Fatal(err)
			}
			req, err := http.NewRequestWithContext(ctx, c.method, strings.TrimSuffix(cfg.Host, "/")+c.path, bytes.NewBufferString(c.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			gotFS, gotPL := resp.Header.Get("X-Kubernetes-PF-FlowSchema-UID"), resp.Header.Get("X-Kubernetes-PF-PriorityLevel-UID")
			if gotPL != plUID(c.level) {
				t.Errorf("%s %s (HTTP %d) ran at priority level %q, want %s (%s)", c.method, c.path, resp.StatusCode, gotPL, c.level, plUID(c.level))
			}
			for _, fs := range []string{"hikube-apiserver", "hikube-controller-leader-election"} {
				if matched := gotFS == fsUID(fs); matched != (fs == c.flowSchema) {
					t.Errorf("%s %s: matched FlowSchema %s = %v, want %v", c.method, c.path, fs, matched, fs == c.flowSchema)
				}
			}
		})
	}
}
