package integration

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

// TestBadInputIsRefusedWithTheField: each bad cluster gets a 422 naming the
// field at fault and a message saying what is allowed, and nothing is stored.
func TestBadInputIsRefusedWithTheField(t *testing.T) {
	group := func(mut func(*v1alpha1.NodeGroup)) func(*v1alpha1.Cluster) {
		return func(c *v1alpha1.Cluster) {
			g := c.Spec.NodeGroups["workers"]
			mut(&g)
			c.Spec.NodeGroups["workers"] = g
		}
	}
	for _, tc := range []struct {
		name    string
		mutate  func(*v1alpha1.Cluster)
		field   string
		message string
	}{
		{"min above max", group(func(g *v1alpha1.NodeGroup) { g.MinReplicas = ptr.To[int32](5) }),
			"spec.nodeGroups[workers].minReplicas", "must be less than or equal to maxReplicas (3)"},
		{"unknown instance type", group(func(g *v1alpha1.NodeGroup) { g.InstanceType = "x9.huge" }),
			"spec.nodeGroups[workers].instanceType", "u1.xlarge"},
		{"unknown GPU model", group(func(g *v1alpha1.NodeGroup) { g.GPUs = []v1alpha1.GPU{{Name: "nvidia.com/T4"}} }),
			"spec.nodeGroups[workers].gpus[0].name", "nvidia.com/L40S"},
		{"GPU on the shared family", group(func(g *v1alpha1.NodeGroup) {
			g.InstanceType = "s1.large"
			g.GPUs = []v1alpha1.GPU{{Name: "nvidia.com/L40S"}}
		}), "spec.nodeGroups[workers].gpus", "cannot carry GPUs"},
		{"bad storage class", func(c *v1alpha1.Cluster) { c.Spec.StorageClass = "fast" },
			"spec.storageClass", `"replicated"`},
		{"bad node group storage class", group(func(g *v1alpha1.NodeGroup) { g.StorageClass = "ssd" }),
			"spec.nodeGroups[workers].storageClass", `"local"`},
		{"unsupported version", func(c *v1alpha1.Cluster) { c.Spec.Version = "v1.20" },
			"spec.version", `"v1.37"`},
		{"name too long for derived objects", func(c *v1alpha1.Cluster) { c.Name = strings.Repeat("a", 37) },
			"metadata.name", "36"},
		{"name not DNS-1035", func(c *v1alpha1.Cluster) { c.Name = "1abc" },
			"metadata.name", "DNS-1035"},
		{"resources with cpu only", group(func(g *v1alpha1.NodeGroup) {
			g.Resources = &v1alpha1.NodeResources{CPU: *resourceQuantity("4")}
		}), "spec.nodeGroups[workers].resources.memory", "together"},
		{"bad preset", func(c *v1alpha1.Cluster) { c.Spec.ControlPlane.ResourcesPreset = "huge" },
			"spec.controlPlane.resourcesPreset", `"small"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster("bad-input")
			tc.mutate(c)
			_, err := hikubeClient(t, "alice").AppsV1alpha1().Clusters(tenantA).Create(context.Background(), c, metav1.CreateOptions{})
			assertFieldError(t, err, tc.field, tc.message)
			assertNotStored(t, tenantA, c.Name)
		})
	}
}

func assertFieldError(t *testing.T, err error, field, message string) {
	t.Helper()
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Code != http.StatusUnprocessableEntity {
		t.Fatalf("want 422 Unprocessable Entity, got %v", err)
	}
	for _, cause := range status.Status().Details.Causes {
		if cause.Field == field && strings.Contains(cause.Message, message) {
			return
		}
	}
	t.Errorf("no cause on %s mentioning %q in: %v", field, message, err)
}

// TestKubectlShowsTheFieldError checks what a user reads: kubectl prints the
// field path and the reason, and exits non-zero.
func TestKubectlShowsTheFieldError(t *testing.T) {
	manifest := []byte(`apiVersion: apps.hikube.io/v1alpha1
kind: Cluster
metadata: {name: inverted}
spec:
  nodeGroups:
    web: {minReplicas: 4, maxReplicas: 2}
`)
	r := kubectlIn(t, "alice", manifest, "apply", "-n", tenantA, "-f", "-")
	if r.Err == nil {
		t.Fatal("kubectl apply of an invalid cluster succeeded")
	}
	want := `spec.nodeGroups[web].minReplicas: Invalid value: 4: must be less than or equal to maxReplicas (2)`
	if !strings.Contains(r.Stderr, want) {
		t.Errorf("kubectl stderr = %q, want it to contain %q", r.Stderr, want)
	}
	assertNotStored(t, tenantA, "inverted")
}

func TestUnknownAddonIsRejected(t *testing.T) {
	manifest := []byte(`apiVersion: apps.hikube.io/v1alpha1
kind: Cluster
metadata: {name: odd-addon}
spec:
  addons:
    kafka: {enabled: true}
`)
	r := kubectlIn(t, "alice", manifest, "apply", "-n", tenantA, "-f", "-")
	if r.Err == nil {
		t.Fatal("a cluster with an unknown add-on was accepted")
	}
	if !strings.Contains(r.Stderr, `unknown field "spec.addons.kafka"`) {
		t.Errorf("stderr = %q, want it to name spec.addons.kafka", r.Stderr)
	}
	assertNotStored(t, tenantA, "odd-addon")
}

func TestClustersOnlyInTenantNamespaces(t *testing.T) {
	mustKubectl(t, "admin", "create", "namespace", "not-a-tenant")
	t.Cleanup(func() { kubectlAs(t, "admin", "delete", "namespace", "not-a-tenant", "--wait=false") })
	_, err := hikubeClient(t, "admin").AppsV1alpha1().Clusters("not-a-tenant").Create(context.Background(), newCluster("stray"), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("cluster in an untenanted namespace: want 403 Forbidden, got %v", err)
	}
	if !strings.Contains(err.Error(), "hikube.io/tenant") {
		t.Errorf("the refusal should say how to make a tenant: %v", err)
	}
	assertNotStored(t, "not-a-tenant", "stray")
}

func TestVersionUpgradesOneMinorAtATime(t *testing.T) {
	c := newCluster("upgrade")
	c.Spec.Version = "v1.35"
	createCluster(t, "alice", tenantA, c)
	cs := hikubeClient(t, "alice").AppsV1alpha1().Clusters(tenantA)
	patchVersion := func(v string) error {
		_, err := cs.Patch(context.Background(), "upgrade", types.MergePatchType, []byte(`{"spec":{"version":"`+v+`"}}`), metav1.PatchOptions{})
		return err
	}
	assertFieldError(t, patchVersion("v1.34"), "spec.version", "downgrade")
	assertFieldError(t, patchVersion("v1.37"), "spec.version", "one minor at a time")
	if err := patchVersion("v1.36"); err != nil {
		t.Errorf("one-minor upgrade v1.35 → v1.36 refused: %v", err)
	}
}

// TestServerDefaultsAndAdvisesFromItsCatalog: what needs the catalog (the
// newest minor as the default version, vCPUs per GPU of an instance type) is
// the server's answer, on dry runs too, next to the advice that needs none.
func TestServerDefaultsAndAdvisesFromItsCatalog(t *testing.T) {
	manifest := []byte(`apiVersion: apps.hikube.io/v1alpha1
kind: Cluster
metadata: {name: advised}
spec:
  nodeGroups:
    ml: {minReplicas: 1, maxReplicas: 2, instanceType: u1.xlarge, gpus: [{name: nvidia.com/L40S}]}
`)
	r := kubectlIn(t, "alice", manifest, "create", "-n", tenantA, "--dry-run=server", "-o", "jsonpath={.spec.version}", "-f", "-")
	if r.Err != nil {
		t.Fatalf("dry-run create: %v\n%s", r.Err, r.Stderr)
	}
	if r.Stdout != "v1.37" {
		t.Errorf("dry-run version = %q, want the newest offered minor v1.37", r.Stdout)
	}
	for _, want := range []string{
		"Warning: spec.nodeGroups[ml]: instance type u1.xlarge gives 4 vCPUs for 1 GPU (4 per GPU); the platform sizes 8-16 vCPUs per GPU, so the GPUs may be starved; consider u1.2xlarge",
		"Warning: spec.addons.gpuOperator: the GPU operator is not enabled, but GPUs are attached to node group ml",
	} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("kubectl stderr = %q, want it to contain %q", r.Stderr, want)
		}
	}
	assertNotStored(t, tenantA, "advised")
}
