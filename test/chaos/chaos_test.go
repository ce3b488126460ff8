package chaos

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hikube/hikube/test/harness"
)

const tenant = "tenant-a"

// The rows every mode has, and the phases: the columns.
var (
	components = []string{"hikube-apiserver", "hikube-controller", "host kube-apiserver", "host etcd", "tenant kube-apiserver", "tenant etcd"}
	phases     = []string{"create", "scale up", "scale down", "upgrade", "delete"}
)

// hostProcesses are the components that are processes of the platform, by
// the name the platform started them with; its supervisor restarts them.
var hostProcesses = map[string]string{
	"host kube-apiserver": "kube-apiserver",
	"host etcd":           "etcd",
	// The kubevirt mode's own.
	"process node": "hikube-process-node",
	"kubevirt sim": "host-kwok",
	"guest sim":    "hikube-guest-sim",
}

// platformMode is what differs between the platform's modes; the matrix,
// the faults and the checks common to both are this file's.
type platformMode interface {
	// components are the mode's rows of the matrix beyond the common ones.
	components() []string
	// sample is how many pairs `make test` runs.
	sample() int
	// converge bounds the time a cluster has to reach its spec.
	converge() time.Duration
	// tenantPID is the pid of a running tenant control-plane process,
	// "kube-apiserver" or "etcd", or 0.
	tenantPID(t *testing.T, cluster, proc string) int
	// snapshot records what a cluster has before it is deleted, for
	// nothingLeft to check it is all gone afterwards.
	snapshot(t *testing.T, cluster string) any
	nothingLeft(t *testing.T, cluster string, before any)
	// machinesMatch checks the mode's machines against the tenant's nodes
	// of the group (names): one each, nothing else.
	machinesMatch(t *testing.T, cluster, kubeconfig string, nodes []string) (bool, string)
	// logs are the log files of a cluster's control plane, each with the
	// name to keep it under.
	logs(t *testing.T, cluster string) map[string]string
	// orphans lists what the platform holds for clusters that no longer
	// exist or objects that no longer exist.
	orphans(t *testing.T) []string
}

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
	t.Logf("chaos seed %d (replay with HIKUBE_CHAOS_SEED=%d HIKUBE_CHAOS_PROVIDER=%s)", seed, seed, modeName())
	rng := rand.New(rand.NewSource(seed))
	var faults []fault
	for _, c := range slices.Concat(components, mode.components()) {
		for _, p := range phases {
			faults = append(faults, fault{c, p})
		}
	}
	rng.Shuffle(len(faults), func(i, j int) { faults[i], faults[j] = faults[j], faults[i] })
	if os.Getenv("HIKUBE_CHAOS") != "full" {
		faults = faults[:mode.sample()] // the sample of `make test`; `make chaos` runs all
	}
	// On a loaded machine the full matrix of the kubevirt mode may not fit
	// the time there is: HIKUBE_CHAOS_BUDGET stops starting pairs once it is
	// spent, and HIKUBE_CHAOS_FROM resumes the same seed's order there.
	from, budget := envInt(t, "HIKUBE_CHAOS_FROM"), time.Duration(envInt(t, "HIKUBE_CHAOS_BUDGET"))*time.Minute
	began := time.Now()
	for i, f := range faults {
		delay := time.Duration(rng.Int63n(int64(2 * time.Second)))
		if i < from {
			continue
		}
		if budget > 0 && time.Since(began) > budget {
			t.Logf("HIKUBE_CHAOS_BUDGET=%d spent after %d of %d pairs; the rest: HIKUBE_CHAOS_SEED=%d HIKUBE_CHAOS_FROM=%d", budget/time.Minute, i-from, len(faults)-from, seed, i)
			break
		}
		t.Run(fmt.Sprintf("%s during %s", f.component, f.phase), func(t *testing.T) {
			run(t, fmt.Sprintf("chaos-%d", i), f, delay)
		})
	}
}

// envInt is a whole number from the environment, 0 when unset.
func envInt(t *testing.T, name string) int {
	v := os.Getenv(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a whole number", name, v)
	}
	return n
}

func modeName() string {
	if _, ok := mode.(kubevirtMode); ok {
		return "kubevirt"
	}
	return "local"
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
		if t.Failed() {
			// The delete below takes the tenant's logs along; the
			// platform's home is kept when a test failed.
			keep := filepath.Join(env.Platform.Home(), "logs", "failed", name)
			for src, dst := range mode.logs(t, name) {
				copyFile(t, src, filepath.Join(keep, dst))
			}
			t.Logf("the logs of %s's control plane are kept in %s", name, keep)
		}
		// Not waiting: the next pair's cluster is made while this one goes,
		// and what it leaves is what the next pairs' orphan checks find.
		env.Kubectl(t, "admin", "delete", "cluster", name, "-n", tenant, "--wait=false")
	})

	var before any
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
		before = mode.snapshot(t, name)
		env.MustKubectl(t, "alice", "delete", "cluster", name, "-n", tenant, "--wait=false")
	}
	time.Sleep(delay)
	kill(t, name, f.component)

	if f.phase == "delete" {
		// kubectl wait gives up at once while the host API restarts: ask again.
		eventuallyDo(t, mode.converge(), name+" to be deleted", func() (bool, string) {
			r := env.Kubectl(t, "alice", "wait", "--for=delete", "cluster/"+name, "-n", tenant, "--timeout=30s")
			return r.Err == nil, r.Stderr
		})
		mode.nothingLeft(t, name, before)
		if _, err := os.Stat(clusterDir(name)); !os.IsNotExist(err) {
			t.Errorf("the state directory of %s is left behind (%v)", name, err)
		}
		secrets := env.MustKubectl(t, "admin", "get", "secrets", "-n", "hikube-system", "-o", "name")
		if strings.Contains(secrets, tenant+"."+name+".pki") {
			t.Errorf("the PKI Secret of %s is left behind", name)
		}
		noOrphans(t)
		return
	}
	waitReady(t, name)
	kc := tenantKubeconfig(t, name)
	eventuallyDo(t, mode.converge(), fmt.Sprintf("%s to have exactly %d nodes of version %s, one machine each", name, min, version), func() (bool, string) {
		r := env.Kubectl(t, kc, "get", "nodes", "-l", "apps.hikube.io/node-group=workers", "-o", "jsonpath={.items[*].metadata.name}")
		got := env.Kubectl(t, "admin", "get", "cluster", name, "-n", tenant, "-o", "jsonpath={.status.version}").Stdout
		nodes := strings.Fields(r.Stdout)
		if r.Err != nil || len(nodes) != min || !strings.HasPrefix(got, version) {
			return false, fmt.Sprintf("%d nodes (%s %s), version %q", len(nodes), r.Stdout, r.Stderr, got)
		}
		return mode.machinesMatch(t, name, kc, nodes)
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
	noOrphans(t)
}

// noOrphans waits for the platform to hold nothing for what no longer
// exists (a replaced pod's directory may take a moment to go).
func noOrphans(t *testing.T) {
	t.Helper()
	eventuallyDo(t, time.Minute, "no orphans", func() (bool, string) {
		left := mode.orphans(t)
		return len(left) == 0, strings.Join(left, "; ")
	})
}

// kill kills component with SIGKILL. Nothing here restarts it: the
// platform's supervisor does for hikube's and the host's processes,
// hikube-controller (local) or the process node (kubevirt) for a tenant's.
func kill(t *testing.T, cluster, component string) {
	t.Helper()
	p := env.Platform
	var err error
	switch component {
	case "hikube-apiserver":
		err = p.KillHikubeAPIServer()
	case "hikube-controller":
		err = p.KillController()
	case "tenant kube-apiserver", "tenant etcd":
		proc := strings.TrimPrefix(component, "tenant ")
		// The process may not be started yet (create) or already gone
		// (delete): kill it if it runs within a while.
		deadline := time.Now().Add(mode.converge() / 4)
		for {
			if pid := mode.tenantPID(t, cluster, proc); pid != 0 && harness.Alive(pid) {
				err = syscall.Kill(pid, syscall.SIGKILL)
				t.Logf("killed tenant %s (pid %d)", proc, pid)
				break
			}
			if time.Now().After(deadline) {
				t.Logf("no tenant %s ran to be killed", proc)
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	default:
		name, ok := hostProcesses[component]
		if !ok {
			t.Fatalf("no way to kill %q", component)
		}
		err = p.KillHostProcess(name)
		t.Logf("killed %s", name)
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
	eventuallyDo(t, mode.converge(), name+" to be Ready", func() (bool, string) {
		r := env.Kubectl(t, "alice", "wait", "--for=condition=Ready", "cluster/"+name, "-n", tenant, "--timeout=20s")
		if r.Err == nil {
			return true, ""
		}
		return false, env.Kubectl(t, "admin", "get", "cluster", name, "-n", tenant, "-o", "jsonpath={.status.conditions}").Stdout
	})
}

func tenantKubeconfig(t *testing.T, name string) string {
	t.Helper()
	var out string
	// hikube-apiserver may just be restarting.
	eventuallyDo(t, time.Minute, "the kubeconfig of "+name, func() (bool, string) {
		r := env.Kubectl(t, "alice", "get", "--raw", "/apis/apps.hikube.io/v1alpha1/namespaces/"+tenant+"/clusters/"+name+"/kubeconfig")
		out = r.Stdout
		return r.Err == nil, r.Stderr
	})
	file := filepath.Join(t.TempDir(), name+".kubeconfig")
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func clusterDir(name string) string { return filepath.Join(env.Platform.ClustersDir(), tenant, name) }

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

func copyFile(t *testing.T, src, dst string) {
	data, err := os.ReadFile(src)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(dst), 0o700)
	}
	if err == nil {
		err = os.WriteFile(dst, data, 0o600)
	}
	if err != nil {
		t.Logf("keeping %s: %v", src, err)
	}
}
