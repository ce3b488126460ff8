package chaos

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hikube/hikube/test/harness"
)

const (
	tenant   = "tenant-a"
	converge = 4 * time.Minute
)

// components can be killed; phases are when.
var (
	components = []string{"hikube-apiserver", "hikube-controller", "host kube-apiserver", "host etcd", "tenant kube-apiserver", "tenant etcd"}
	phases     = []string{"create", "scale up", "scale down", "upgrade", "delete"}
)

type fault struct{ component, phase string }

// TestKillAnyComponentInAnyPhase is the fault matrix.
func TestKillAnyComponentInAnyPhase(t *testing.T) {
	seed := time.Now().UnixNano()
	if s := os.Getenv("HIKUBE_CHAOS_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("HIKUBE_CHAOS_SEED=%q: %v", s, err)
		}
	}
	t.Logf("chaos seed %d (replay with HIKUBE_CHAOS_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	var faults []fault
	for _, c := range components {
		for _, p := range phases {
			faults = append(faults, fault{c, p})
		}
	}
	rng.Shuffle(len(faults), func(i, j int) { faults[i], faults[j] = faults[j], faults[i] })
	if os.Getenv("HIKUBE_CHAOS") != "full" {
		faults = faults[:3] // the sample of `make test`; `make chaos` runs all
	}
	for i, f := range faults {
		delay := time.Duration(rng.Int63n(int64(2 * time.Second)))
		t.Run(fmt.Sprintf("%s during %s", f.component, f.phase), func(t *testing.T) {
			run(t, fmt.Sprintf("chaos-%d", i), f, delay)
		})
	}
}

// run takes one cluster through phase with component killed delay after the
// change was made, and checks the outcome.
func run(t *testing.T, name string, f fault, delay time.Duration) {
	version, min, max := "v1.37", 1, 2
	switch f.phase {
	case "scale down":
		min, max = 2, 2
	case "upgrade":
		version = "v1.36"
	}
	var witness string
	if f.phase != "create" {
		apply(t, name, version, min, max)
		waitReady(t, name)
		witness = tenantKubeconfig(t, name)
		env.MustKubectl(t, witness, "create", "configmap", "chaos-witness", "-n", "default", "--from-literal=written=before-the-fault")
	}
	t.Cleanup(func() {
		env.Kubectl(t, "admin", "delete", "cluster", name, "-n", tenant, "--wait=true", "--timeout=3m")
	})

	pids := map[string]int{}
	switch f.phase {
	case "create":
		apply(t, name, version, 1, 2)
	case "scale up":
		min, max = 2, 3
		apply(t, name, version, min, max)
	case "scale down":
		min, max = 1, 1
		apply(t, name, version, min, max)
	case "upgrade":
		version = "v1.37"
		apply(t, name, version, min, max)
	case "delete":
		pids = tenantPIDs(t, name)
		env.MustKubectl(t, "alice", "delete", "cluster", name, "-n", tenant, "--wait=false")
	}
	time.Sleep(delay)
	kill(t, name, f.component)

	if f.phase == "delete" {
		// kubectl wait gives up at once while the host API restarts: ask again.
		eventuallyDo(t, converge, name+" to be deleted", func() (bool, string) {
			r := env.Kubectl(t, "alice", "wait", "--for=delete", "cluster/"+name, "-n", tenant, "--timeout=30s")
			return r.Err == nil, r.Stderr
		})
		assertNothingLeft(t, name, pids)
		return
	}
	waitReady(t, name)
	kc := tenantKubeconfig(t, name)
	eventuallyDo(t, converge, fmt.Sprintf("%s to have exactly %d nodes of version %s", name, min, version), func() (bool, string) {
		nodes := env.Kubectl(t, kc, "get", "nodes", "-l", "apps.hikube.io/node-group=workers", "-o", "jsonpath={.items[*].metadata.name}")
		got := env.Kubectl(t, "admin", "get", "cluster", name, "-n", tenant, "-o", "jsonpath={.status.version}").Stdout
		n := len(strings.Fields(nodes.Stdout))
		return n == min && strings.HasPrefix(got, version), fmt.Sprintf("%d nodes (%s), version %q", n, nodes.Stdout, got)
	})
	if witness != "" {
		out := env.MustKubectl(t, kc, "get", "configmap", "chaos-witness", "-n", "default", "-o", "jsonpath={.data.written}")
		if out != "before-the-fault" {
			t.Errorf("tenant data lost: configmap chaos-witness = %q", out)
		}
	}
	events := env.MustKubectl(t, "admin", "get", "events", "-n", tenant, "--field-selector", "involvedObject.name="+name+",involvedObject.kind=Cluster",
		"-o", `jsonpath={range .items[*]}{.reason}{"\n"}{end}`)
	if strings.TrimSpace(events) == "" {
		t.Errorf("no events about %s tell what happened", name)
	}
}

// kill kills component with SIGKILL. Nothing here restarts it: the
// platform's supervisor does for hikube's and the host's processes,
// hikube-controller for a tenant's.
func kill(t *testing.T, cluster, component string) {
	t.Helper()
	p := env.Platform
	var err error
	switch component {
	case "hikube-apiserver":
		err = p.KillHikubeAPIServer()
	case "hikube-controller":
		err = p.KillController()
	case "host kube-apiserver":
		err = p.KillHostProcess("kube-apiserver")
	case "host etcd":
		err = p.KillHostProcess("etcd")
	case "tenant kube-apiserver", "tenant etcd":
		proc := "kube-apiserver-0"
		if component == "tenant etcd" {
			proc = "etcd"
		}
		// The process may not be started yet (create) or already gone
		// (delete): kill it if it runs within a few seconds.
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if pid := tenantPIDs(t, cluster)[proc]; pid != 0 && harness.Alive(pid) {
				err = syscall.Kill(pid, syscall.SIGKILL)
				t.Logf("killed tenant %s (pid %d)", proc, pid)
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if err != nil {
		t.Fatalf("killing %s: %v", component, err)
	}
}

func apply(t *testing.T, name, version string, min, max int) {
	t.Helper()
	manifest := fmt.Sprintf(`apiVersion: apps.hikube.io/v1alpha1
kind: Cluster
metadata: {name: %s}
spec:
  version: "%s"
  controlPlane: {replicas: 1}
  nodeGroups:
    workers: {minReplicas: %d, maxReplicas: %d, instanceType: u1.large}
`, name, version, min, max)
	// The API may be down for a moment after a fault: apply until it answers.
	eventuallyDo(t, time.Minute, "applying "+name, func() (bool, string) {
		r := env.KubectlIn(t, "alice", []byte(manifest), "apply", "-n", tenant, "-f", "-")
		return r.Err == nil, r.Stderr
	})
}

func waitReady(t *testing.T, name string) {
	t.Helper()
	eventuallyDo(t, converge, name+" to be Ready", func() (bool, string) {
		r := env.Kubectl(t, "alice", "wait", "--for=condition=Ready", "cluster/"+name, "-n", tenant, "--timeout=20s")
		if r.Err == nil {
			return true, ""
		}
		return false, env.Kubectl(t, "admin", "get", "cluster", name, "-n", tenant, "-o", "jsonpath={.status.conditions}").Stdout
	})
}

func tenantKubeconfig(t *testing.T, name string) string {
	t.Helper()
	out := env.MustKubectl(t, "alice", "get", "--raw", "/apis/apps.hikube.io/v1alpha1/namespaces/"+tenant+"/clusters/"+name+"/kubeconfig")
	file := filepath.Join(t.TempDir(), name+".kubeconfig")
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func clusterDir(name string) string { return filepath.Join(env.Platform.ClustersDir(), tenant, name) }

// tenantPIDs reads the pids the local provider recorded for the cluster.
func tenantPIDs(t *testing.T, name string) map[string]int {
	t.Helper()
	out := map[string]int{}
	files, _ := filepath.Glob(filepath.Join(clusterDir(name), "run", "*.json"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var rec struct {
			PID int `json:"pid"`
		}
		if json.Unmarshal(data, &rec) == nil && rec.PID != 0 {
			out[strings.TrimSuffix(filepath.Base(f), ".json")] = rec.PID
		}
	}
	return out
}

// assertNothingLeft checks a deleted cluster left no process, state
// directory or Secret behind.
func assertNothingLeft(t *testing.T, name string, pids map[string]int) {
	t.Helper()
	eventuallyDo(t, time.Minute, "the processes of "+name+" to end", func() (bool, string) {
		for proc, pid := range pids {
			if harness.Alive(pid) {
				return false, fmt.Sprintf("%s (pid %d) still runs", proc, pid)
			}
		}
		return true, ""
	})
	if _, err := os.Stat(clusterDir(name)); !os.IsNotExist(err) {
		t.Errorf("the state directory of %s is left behind (%v)", name, err)
	}
	secrets := env.MustKubectl(t, "admin", "get", "secrets", "-n", "hikube-system", "-o", "name")
	if strings.Contains(secrets, tenant+"."+name+".pki") {
		t.Errorf("the PKI Secret of %s is left behind", name)
	}
}

// eventuallyDo polls cond until it holds or timeout passes, then fails with
// the last thing cond said.
func eventuallyDo(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		if time.Now().After(deadline) {
			t.Fatalf("waiting %s for %s; last: %s", timeout, what, last)
		}
		time.Sleep(time.Second)
	}
}
