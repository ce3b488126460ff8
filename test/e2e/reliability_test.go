package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hikube/hikube/test/harness"
)

// clusterDir is where the local provider keeps a tenant cluster.
func clusterDir(name string) string {
	return filepath.Join(env.Platform.ClustersDir(), tenantA, name)
}

// tenantPID reads the pid the local provider recorded for a process.
func tenantPID(t *testing.T, cluster, proc string) int {
	t.Helper()
	pid := harness.TenantPIDs(clusterDir(cluster))[proc]
	if pid == 0 {
		t.Fatalf("no pid recorded for %s of %s", proc, cluster)
	}
	return pid
}

func restartController(t *testing.T, kill bool) {
	t.Helper()
	var err error
	if kill {
		err = env.Platform.KillController()
	} else {
		err = env.Platform.StopController()
	}
	if err != nil {
		t.Fatalf("stopping the controller: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := env.Platform.StartController(ctx); err != nil {
		t.Fatalf("starting the controller: %v", err)
	}
}

// TestControllerCrashDuringProvisioningAndDelete: kill -9 of the controller
// while a cluster is being provisioned, then while it is being deleted; the
// cluster ends Ready without duplicate nodes, then fully gone.
func TestControllerCrashDuringProvisioningAndDelete(t *testing.T) {
	applyCluster(t, "alice", small("crash", "v1.37", 2, 3))
	eventually(t, time.Minute, "provisioning to begin", func() bool {
		_, err := os.Stat(clusterDir("crash"))
		return err == nil
	})
	restartController(t, true)
	waitReady(t, tenantA, "crash", 3*time.Minute)
	kc := tenantKubeconfig(t, "alice", tenantA, "crash", "kubeconfig")
	if n := len(nodesOfGroup(tenantNodes(t, kc), "workers")); n != 2 {
		t.Errorf("after the crash the group has %d nodes, want exactly minReplicas 2", n)
	}
	apiserver := tenantPID(t, "crash", "kube-apiserver-0")

	env.MustKubectl(t, "alice", "delete", "cluster", "crash", "-n", tenantA, "--wait=false")
	restartController(t, true)
	r := env.Kubectl(t, "alice", "wait", "--for=delete", "cluster/crash", "-n", tenantA, "--timeout=2m")
	if r.Err != nil {
		t.Fatalf("cluster not deleted after the controller crash: %v %s", r.Err, r.Stderr)
	}
	if harness.Alive(apiserver) {
		t.Errorf("the tenant kube-apiserver (pid %d) outlived its cluster", apiserver)
	}
	if _, err := os.Stat(clusterDir("crash")); !os.IsNotExist(err) {
		t.Errorf("the cluster's directory is left behind: %v", err)
	}
	secrets := env.MustKubectl(t, "admin", "get", "secrets", "-n", "hikube-system", "-o", "name")
	if strings.Contains(secrets, "tenant-a.crash.pki") {
		t.Errorf("the cluster's PKI secret is left behind")
	}
}

// TestTenantAPIServerKilled: a tenant kube-apiserver killed with SIGKILL is
// brought back, and the cluster's events say what happened.
func TestTenantAPIServerKilled(t *testing.T) {
	applyCluster(t, "alice", small("phoenix", "v1.37", 0, 1))
	t.Cleanup(func() { deleteCluster(t, "phoenix") })
	waitReady(t, tenantA, "phoenix", 3*time.Minute)
	pid := tenantPID(t, "phoenix", "kube-apiserver-0")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("killing the tenant kube-apiserver: %v", err)
	}
	eventually(t, 2*time.Minute, "a new tenant kube-apiserver", func() bool {
		return tenantPID(t, "phoenix", "kube-apiserver-0") != pid
	})
	waitReady(t, tenantA, "phoenix", 2*time.Minute)
	events := clusterEvents(t, tenantA, "phoenix")
	if !contains(events, "kube-apiserver", "exited") {
		t.Errorf("the events do not tell that the kube-apiserver exited:\n%s", events)
	}
}

// TestControllerRestartKeepsClusters: a graceful controller restart adopts
// the running processes instead of restarting them.
func TestControllerRestartKeepsClusters(t *testing.T) {
	applyCluster(t, "alice", small("adopted", "v1.37", 1, 1))
	t.Cleanup(func() { deleteCluster(t, "adopted") })
	waitReady(t, tenantA, "adopted", 3*time.Minute)
	pid := tenantPID(t, "adopted", "kube-apiserver-0")
	restartController(t, false)
	// The new controller's first pass (and any the tenant's events ask for)
	// must adopt the process, never replace it.
	consistently(t, 4*time.Second, "the tenant kube-apiserver keeping its pid", func() bool {
		return tenantPID(t, "adopted", "kube-apiserver-0") == pid && harness.Alive(pid)
	})
	waitReady(t, tenantA, "adopted", time.Minute)
}
