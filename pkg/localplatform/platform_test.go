package localplatform

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/hikube/hikube/pkg/kubeconfig"
)

// testBinDir is _output/bin: the real upstream binaries and the real
// hikube-apiserver, built by `make tools build` (which `make test` runs first).
func testBinDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "_output", "bin"))
	if err != nil {
		t.Fatal(err)
	}
	if d := os.Getenv("HIKUBE_BIN_DIR"); d != "" {
		dir = d
	}
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubectl", "hikube-apiserver", "hikube-controller"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("%s not built: run `make tools build` first: %v", name, err)
		}
	}
	return dir
}

func startPlatform(t *testing.T, home, bin string) *Platform {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, err := Start(ctx, Options{Home: home, BinDir: bin, Log: testWriter{t}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return p
}

func TestPlatformStartsIsolatesTenantsRestartsAndReusesItsState(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	bin := testBinDir(t)
	home := t.TempDir()
	ctx := context.Background()

	began := time.Now()
	p := startPlatform(t, home, bin)
	t.Cleanup(func() { _ = p.Stop() })
	t.Logf("first start: %s", time.Since(began))

	t.Run("tenant RBAC", func(t *testing.T) {
		carol, err := p.NewUserKubeconfig("carol", "team-c")
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			kubeconfig string
			ns         string
			verb       string
			resource   string
			sub        string
			want       bool
		}{
			{p.KubeconfigPath("alice"), "tenant-a", "create", "clusters", "", true},
			{p.KubeconfigPath("alice"), "tenant-a", "get", "clusters", "kubeconfig", true},
			{p.KubeconfigPath("alice"), "tenant-a", "update", "clusters", "status", false},
			{p.KubeconfigPath("alice"), "tenant-b", "get", "clusters", "", false},
			{p.KubeconfigPath("bob"), "tenant-b", "delete", "clusters", "", true},
			{p.KubeconfigPath("bob"), "tenant-a", "list", "clusters", "", false},
			{carol, "tenant-a", "list", "clusters", "", false},
			{carol, "", "list", "instancetypes", "", true},
			{carol, "", "get", "gpumodels", "", true},
			{p.KubeconfigPath("admin"), "tenant-b", "deletecollection", "clusters", "", true},
		}
		for _, tt := range tests {
			name := filepath.Base(tt.kubeconfig) + " " + tt.verb + " " + tt.resource + "/" + tt.sub + " in " + tt.ns
			t.Run(name, func(t *testing.T) {
				if got := canI(t, tt.kubeconfig, tt.ns, tt.verb, tt.resource, tt.sub); got != tt.want {
					t.Errorf("allowed = %v, want %v", got, tt.want)
				}
			})
		}
	})

	t.Run("kubectl as alice", func(t *testing.T) {
		out := kubectl(t, bin, p.KubeconfigPath("alice"), "auth", "can-i", "create", "clusters.apps.hikube.io", "-n", "tenant-a")
		if strings.TrimSpace(out) != "yes" {
			t.Errorf("kubectl auth can-i = %q, want yes", out)
		}
		out = kubectl(t, bin, p.KubeconfigPath("alice"), "api-resources", "--api-group=apps.hikube.io", "-o", "name")
		if !strings.Contains(out, "clusters.apps.hikube.io") {
			t.Errorf("discovery through the aggregator does not list clusters: %q", out)
		}
	})

	t.Run("hikube-apiserver restart", func(t *testing.T) {
		if err := p.KillHikubeAPIServer(); err != nil {
			t.Fatal(err)
		}
		// Have the aggregator notice the outage, as it would after a longer
		// one: the restart must not wait out its retry backoff.
		if err := p.registerHikube(ctx); err != nil {
			t.Fatal(err)
		}
		if err := p.waitFor(ctx, 30*time.Second, nil, func(ctx context.Context) (bool, error) {
			out := kubectl(t, bin, p.KubeconfigPath("admin"), "get", "apiservice", apiServiceName, "-o", "jsonpath={.status.conditions[0].status}")
			return out == "False", nil
		}); err != nil {
			t.Fatalf("the aggregator did not notice the outage: %v", err)
		}
		began := time.Now()
		if err := p.StartHikubeAPIServer(ctx); err != nil {
			t.Fatal(err)
		}
		t.Logf("hikube-apiserver back in %s", time.Since(began))
	})

	// A tenant cluster, provisioned by the controller, with data in it.
	alice := p.KubeconfigPath("alice")
	kubectl(t, bin, alice, "apply", "-n", "tenant-a", "-f", filepath.Join("..", "..", "artifacts", "examples", "web.yaml"))
	waitClusterReady(t, bin, alice, "web")
	uidBefore := kubectl(t, bin, alice, "get", "cluster", "web", "-n", "tenant-a", "-o", "jsonpath={.metadata.uid}")
	tenantKC := filepath.Join(t.TempDir(), "web.kubeconfig")
	if err := os.WriteFile(tenantKC, []byte(kubectl(t, bin, alice, "get", "--raw", "/apis/apps.hikube.io/v1alpha1/namespaces/tenant-a/clusters/web/kubeconfig")), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := kubectl(t, bin, tenantKC, "create", "configmap", "kept", "-n", "default"); !strings.Contains(out, "created") {
		t.Fatalf("writing into the tenant cluster: %q", out)
	}
	tenantAPIServer := tenantPID(t, p.ClustersDir(), "tenant-a", "web", "kube-apiserver-0")

	caBefore, _ := os.ReadFile(filepath.Join(home, "pki", "ca.crt"))
	portsBefore := p.Ports()
	if err := p.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := syscall.Kill(tenantAPIServer, 0); err == nil && !zombie(tenantAPIServer) {
		t.Errorf("the tenant kube-apiserver (pid %d) outlived the platform", tenantAPIServer)
	}

	began = time.Now()
	p2 := startPlatform(t, home, bin)
	t.Cleanup(func() { _ = p2.Stop() })
	t.Logf("second start: %s", time.Since(began))
	caAfter, _ := os.ReadFile(filepath.Join(home, "pki", "ca.crt"))
	if !bytes.Equal(caBefore, caAfter) {
		t.Errorf("the cluster CA was recreated on the second start")
	}
	if p2.Ports() != portsBefore {
		t.Errorf("ports changed on the second start: %+v -> %+v", portsBefore, p2.Ports())
	}
	if !canI(t, p2.KubeconfigPath("alice"), "tenant-a", "create", "clusters", "") {
		t.Errorf("alice lost her access after the second start")
	}
	if uid := kubectl(t, bin, alice, "get", "cluster", "web", "-n", "tenant-a", "-o", "jsonpath={.metadata.uid}"); uid != uidBefore || uid == "" {
		t.Errorf("cluster web after the second start has uid %q, want %q", uid, uidBefore)
	}
	// Until the controller's first pass the status still says what it said
	// before the stop, so wait for the tenant's API itself.
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 3*time.Minute, true, func(context.Context) (bool, error) {
		return strings.TrimSpace(kubectl(t, bin, tenantKC, "get", "--raw", "/readyz")) == "ok", nil
	})
	if err != nil {
		t.Fatalf("the tenant cluster did not come back after the platform restart: %v", err)
	}
	waitClusterReady(t, bin, alice, "web")
	if out := kubectl(t, bin, tenantKC, "get", "configmap", "kept", "-n", "default", "-o", "name"); strings.TrimSpace(out) != "configmap/kept" {
		t.Errorf("the tenant's data did not survive the platform restart: %q", out)
	}
	if err := p2.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestStartFailsWithTheLogOfAProcessThatExits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	bin := t.TempDir()
	// An "etcd" that fails at once; kube-apiserver is the same script.
	script := "#!/bin/sh\necho \"fatal: cannot open data dir\" >&2\nexit 3\n"
	for _, name := range []string{"etcd", "kube-apiserver"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := Start(ctx, Options{Home: t.TempDir(), BinDir: bin})
	if err == nil || !strings.Contains(err.Error(), "fatal: cannot open data dir") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("Start error = %v, want one quoting the process log and status", err)
	}
}

func TestStartRefusesAMissingBinary(t *testing.T) {
	_, err := Start(context.Background(), Options{Home: t.TempDir(), BinDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "build-tools") {
		t.Fatalf("Start error = %v, want one naming the missing binary and how to build it", err)
	}
}

// canI asks the host, as the user of kubeconfigPath, whether it may act on
// apps.hikube.io resources.
func canI(t *testing.T, kubeconfigPath, ns, verb, resource, sub string) bool {
	t.Helper()
	cfg, err := kubeconfig.LoadRESTConfig(kubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: ns, Verb: verb, Group: "apps.hikube.io", Resource: resource, Subresource: sub,
		},
	}}
	got, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(context.Background(), review, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectAccessReview: %v", err)
	}
	return got.Status.Allowed
}

func kubectl(t *testing.T, bin, kubeconfigPath string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "kubectl"), append([]string{"--kubeconfig", kubeconfigPath}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run() // "can-i" exits 1 for "no"; the output says it
	if stderr.Len() > 0 {
		t.Logf("kubectl %v: %s", args, stderr.String())
	}
	return stdout.String()
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func waitClusterReady(t *testing.T, bin, kubeconfigPath, name string) {
	t.Helper()
	out := kubectl(t, bin, kubeconfigPath, "wait", "--for=condition=Ready", "cluster/"+name, "-n", "tenant-a", "--timeout=3m")
	if !strings.Contains(out, "condition met") {
		t.Fatalf("cluster %s not Ready: %q", name, out)
	}
}

// tenantPID reads the pid the local provider recorded for a tenant process.
func tenantPID(t *testing.T, clustersDir, ns, name, proc string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(clustersDir, ns, name, "run", proc+".json"))
	if err != nil {
		t.Fatalf("pid file of %s: %v", proc, err)
	}
	var rec struct {
		PID int `json:"pid"`
	}
	if err := json.Unmarshal(data, &rec); err != nil || rec.PID == 0 {
		t.Fatalf("pid file of %s: %v", proc, err)
	}
	return rec.PID
}

// zombie says whether pid has exited but was not reaped yet.
func zombie(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	rest := string(stat[bytes.LastIndexByte(stat, ')')+1:])
	f := strings.Fields(rest)
	return len(f) > 0 && f[0] == "Z"
}
