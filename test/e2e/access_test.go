package e2e

import (
	"strings"
	"testing"
	"time"
)

const smallCluster = `apiVersion: apps.hikube.io/v1alpha1
kind: Cluster
metadata: {name: %s}
spec:
  version: "%s"
  controlPlane: {replicas: 1}
  nodeGroups:
    workers: {minReplicas: %d, maxReplicas: %d, instanceType: u1.large}
`

func small(name, version string, min, max int) string {
	return sprintf(smallCluster, name, version, min, max)
}

// TestKubeconfigAccess: the kubeconfig subresources hand out per-caller,
// short-lived credentials whose power follows the caller's role in the host.
func TestKubeconfigAccess(t *testing.T) {
	applyCluster(t, "alice", small("access", "v1.37", 1, 2))
	t.Cleanup(func() { deleteCluster(t, "access") })
	waitReady(t, tenantA, "access", 3*time.Minute)
	path := "/apis/apps.hikube.io/v1alpha1/namespaces/tenant-a/clusters/access/"

	t.Run("bob is refused", func(t *testing.T) {
		for _, sub := range []string{"kubeconfig", "viewerkubeconfig"} {
			r := env.Kubectl(t, "bob", "get", "--raw", path+sub)
			if r.Err == nil || !strings.Contains(r.Stderr, "Forbidden") {
				t.Errorf("bob got tenant-a's %s: err=%v stderr=%q", sub, r.Err, r.Stderr)
			}
		}
	})

	t.Run("a viewer gets a read-only kubeconfig", func(t *testing.T) {
		viewer, err := env.Platform.NewUserKubeconfig("victor")
		if err != nil {
			t.Fatal(err)
		}
		env.MustKubectl(t, "admin", "create", "rolebinding", "victor-view", "-n", tenantA, "--clusterrole=view", "--user=victor")
		t.Cleanup(func() { env.Kubectl(t, "admin", "delete", "rolebinding", "victor-view", "-n", tenantA) })
		eventually(t, 30*time.Second, "victor's view binding to take effect", func() bool {
			return env.Kubectl(t, viewer, "get", "cluster", "access", "-n", tenantA).Err == nil
		})
		if r := env.Kubectl(t, viewer, "get", "--raw", path+"kubeconfig"); r.Err == nil || !strings.Contains(r.Stderr, "Forbidden") {
			t.Errorf("a viewer got the admin kubeconfig: err=%v stderr=%q", r.Err, r.Stderr)
		}
		kc := tenantKubeconfig(t, viewer, tenantA, "access", "viewerkubeconfig")
		if out := env.MustKubectl(t, kc, "get", "nodes", "-o", "name"); !strings.Contains(out, "node/access-workers-") {
			t.Errorf("the viewer cannot list nodes: %q", out)
		}
		r := env.Kubectl(t, kc, "run", "intruder", "--image=busybox", "-n", "default")
		if r.Err == nil || !strings.Contains(r.Stderr, "forbidden") {
			t.Errorf("a viewer created a pod in the tenant cluster: err=%v stderr=%q", r.Err, r.Stderr)
		}
		who := env.MustKubectl(t, kc, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
		if who != "victor" {
			t.Errorf("inside the cluster the viewer is %q, want victor", who)
		}
	})

	t.Run("admin kubeconfig can write and names are unique per cluster", func(t *testing.T) {
		kc := tenantKubeconfig(t, "alice", tenantA, "access", "kubeconfig")
		ctx := env.MustKubectl(t, kc, "config", "current-context")
		if strings.TrimSpace(ctx) != "tenant-a-access" {
			t.Errorf("context name = %q, want tenant-a-access", ctx)
		}
		env.MustKubectl(t, kc, "create", "configmap", "written-by-alice", "-n", "default")
		exp := env.MustKubectl(t, "alice", "get", "--raw", path+"kubeconfig?expirationSeconds=600")
		if !strings.Contains(exp, "client-certificate-data") {
			t.Errorf("kubeconfig with expirationSeconds lacks a client certificate")
		}
	})
}
