package plugin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedFlags are the seed's three clusters (artifacts/examples) as flags.
var seedFlags = map[string][]string{
	"web": {"--version", "v1.37",
		"--node-group", "name=web,instance-type=s1.large,min=2,max=10,ephemeral-storage=20Gi,roles=ingress-nginx",
		"--addon", "cert-manager", "--addon", "ingress-nginx", "--ingress-host", "app.example.ch"},
	"ml": {"--node-group", "name=ml,instance-type=u1.xlarge,min=1,max=5,gpus=nvidia.com/L40S",
		"--addon", "gpu-operator"},
	"prod": {"--version", "v1.36", "--control-plane-replicas", "3", "--control-plane-preset", "small", "--storage-class", "replicated",
		"--node-group", "name=web,instance-type=s1.large,min=2,max=10,ephemeral-storage=20Gi,roles=ingress-nginx,storage-class=replicated",
		"--node-group", "name=ml,instance-type=u1.xlarge,min=1,max=5,gpus=nvidia.com/L40S",
		"--addon", "cert-manager,ingress-nginx,fluxcd=false,monitoring-agents", "--ingress-host", "app.example.ch"},
}

var seedOrder = []string{"web", "ml", "prod"}

// seedFiles are the seed's YAML files of each cluster.
var seedFiles = map[string]string{"web": "web.yaml", "ml": "ml.yaml", "prod": "prod.yaml"}

// TestSeedClustersFromFlags creates the seed's clusters from flags (as
// alice, waiting for Ready), checks that each equals the seed's YAML, and that
// its --dry-run=client -o yaml piped to `kubectl apply -f -` gives the same
// spec. The copies go to tenant-b and are removed again (GPU capacity).
func TestSeedClustersFromFlags(t *testing.T) {
	for _, name := range seedOrder {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"create", "cluster", name}, seedFlags[name]...)
			r := hikube(t, "alice", append(args, "--wait", "--timeout", "3m")...)
			if r.Err != nil {
				t.Fatalf("create %s: %v\n%s\n%s", name, r.Err, r.Stdout, r.Stderr)
			}
			if !strings.Contains(r.Stdout, "cluster.apps.hikube.io/"+name+" created") || !strings.Contains(r.Stderr, "is Ready") {
				t.Errorf("create %s: stdout %q, stderr %q", name, r.Stdout, r.Stderr)
			}
			fromFlags := spec(t, tenantA, name)

			// The seed's YAML as the server would store it (server dry run: nothing stored).
			seed := env.MustKubectl(t, "admin", "create", "-n", tenantB, "-f", "artifacts/examples/"+seedFiles[name], "--dry-run=server", "-o", "jsonpath={.spec}")
			assertSameSpec(t, "flags vs artifacts/examples/"+seedFiles[name], fromFlags, decode(t, seed))

			yaml := mustHikube(t, "admin", append([]string{"-n", tenantB}, append(args, "--dry-run=client", "-o", "yaml")...)...)
			if r := env.KubectlIn(t, "admin", []byte(yaml), "apply", "-f", "-"); r.Err != nil {
				t.Fatalf("kubectl apply -f - of the dry run: %v\n%s\n%s", r.Err, r.Stderr, yaml)
			}
			assertSameSpec(t, "flags vs dry-run piped to kubectl apply", spec(t, tenantB, name), fromFlags)
			deleteCluster(t, "admin", tenantB, name)
		})
	}
	out := mustHikube(t, "alice", "get", "clusters")
	for _, name := range seedOrder {
		if !strings.Contains(out, name) {
			t.Errorf("get clusters lacks %s:\n%s", name, out)
		}
	}
	status := mustHikube(t, "alice", "status", "prod")
	for _, want := range []string{"Phase:           Ready", "Node Groups", "nvidia.com/L40S:1", "Conditions", "ControlPlaneReady", "kubectl hikube kubeconfig prod"} {
		if !strings.Contains(status, want) {
			t.Errorf("status prod lacks %q:\n%s", want, status)
		}
	}
}

func ensureSeed(t *testing.T, name string) {
	t.Helper()
	if r := env.Kubectl(t, "alice", "get", "cluster", name); r.Err == nil {
		return
	}
	mustHikube(t, "alice", append([]string{"create", "cluster", name}, append(seedFlags[name], "--wait", "--timeout", "3m")...)...)
}

// TestScaleChangesOnlyTheBounds: min 0 is allowed, and nothing but the two
// bounds of that one group changes.
func TestScaleChangesOnlyTheBounds(t *testing.T) {
	ensureSeed(t, "prod")
	before := spec(t, tenantA, "prod")
	out := mustHikube(t, "alice", "scale", "prod", "--node-group", "web", "--min", "0", "--max", "20", "--wait", "--timeout", "2m")
	if !strings.Contains(out, "min 2 -> 0, max 10 -> 20") {
		t.Errorf("scale said %q", out)
	}
	after := spec(t, tenantA, "prod")
	group(before, "web")["minReplicas"] = float64(0)
	group(before, "web")["maxReplicas"] = float64(20)
	assertSameSpec(t, "after scale", after, before)

	// Only --max: min stays.
	mustHikube(t, "alice", "scale", "prod", "--node-group", "web", "--max", "12")
	group(before, "web")["maxReplicas"] = float64(12)
	assertSameSpec(t, "after scale --max", spec(t, tenantA, "prod"), before)

	r := hikube(t, "alice", "scale", "prod", "--node-group", "nope", "--max", "3")
	if code := exitCode(t, r); code != 3 || !strings.Contains(r.Stderr, `no node group "nope"`) {
		t.Errorf("scale of a missing group: exit %d, %s", code, r.Stderr)
	}
}

// TestGPUAttachChangesOnlyTheGPUs, and bad GPU input is refused before it is sent.
func TestGPUAttachChangesOnlyTheGPUs(t *testing.T) {
	ensureSeed(t, "ml")
	before := spec(t, tenantA, "ml")
	out := mustHikube(t, "alice", "gpu", "attach", "ml", "--node-group", "ml", "--model", "nvidia.com/L40S", "--count", "2")
	if !strings.Contains(out, "nvidia.com/L40S:1 -> nvidia.com/L40S:2") {
		t.Errorf("gpu attach said %q", out)
	}
	group(before, "ml")["gpus"] = []any{map[string]any{"name": "nvidia.com/L40S"}, map[string]any{"name": "nvidia.com/L40S"}}
	assertSameSpec(t, "after gpu attach", spec(t, tenantA, "ml"), before)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", "nvidia.com/L40S", "--count", "9"}, "count 9 is out of range"},
		{[]string{"--model", "nvidia.com/H100"}, "one model"},
	} {
		r := hikube(t, "alice", append([]string{"gpu", "attach", "ml", "--node-group", "ml"}, tc.args...)...)
		if code := exitCode(t, r); code != 2 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("gpu attach %v: exit %d, stderr %q; want 2 and %q", tc.args, code, r.Stderr, tc.want)
		}
	}
	assertSameSpec(t, "after refused attaches", spec(t, tenantA, "ml"), before)

	out = mustHikube(t, "alice", "gpu", "list")
	if !strings.Contains(out, "nvidia.com/L40S") || !strings.Contains(out, "GENEVA FREE/CAP") {
		t.Errorf("gpu list:\n%s", out)
	}
}

// TestKubeconfigMergeThenGetNodes: the merged context works with plain
// kubectl, the user's own context survives, a second merge adds nothing,
// and the exec-credential mode works without a stored key.
func TestKubeconfigMergeThenGetNodes(t *testing.T) {
	ensureSeed(t, "web")
	kc := copyKubeconfig(t, "alice")
	out := mustHikube(t, kc, "kubeconfig", "web", "--merge")
	if !strings.Contains(out, `Context "tenant-a-web"`) {
		t.Errorf("kubeconfig said %q", out)
	}
	nodes := env.MustKubectl(t, kc, "--context", "tenant-a-web", "get", "nodes", "-o", "name")
	if strings.Count(nodes, "node/") < 1 {
		t.Errorf("get nodes through the merged context: %q", nodes)
	}
	mustHikube(t, kc, "kubeconfig", "web", "--merge")
	contexts := env.MustKubectl(t, kc, "config", "get-contexts", "-o", "name")
	if got := strings.Fields(contexts); len(got) != 2 || !strings.Contains(contexts, "alice@") || !strings.Contains(contexts, "tenant-a-web") {
		t.Errorf("contexts after two merges: %v", got)
	}
	if cur := strings.TrimSpace(env.MustKubectl(t, kc, "config", "current-context")); !strings.HasPrefix(cur, "alice@") {
		t.Errorf("current context moved to %s without --switch", cur)
	}

	mustHikube(t, kc, "kubeconfig", "web", "--exec", "--context-name", "web-exec")
	raw := env.MustKubectl(t, kc, "config", "view", "--raw", "-o", "jsonpath={.users[?(@.name==\"web-exec\")].user}")
	if strings.Contains(raw, "client-key") || !strings.Contains(raw, "credential") {
		t.Errorf("exec user entry: %s", raw)
	}
	env.MustKubectl(t, kc, "--context", "web-exec", "get", "nodes")
	// kubectl ran the credential plugin; a second command reuses the
	// certificate it cached (one private file for this cluster and user).
	cacheDir := filepath.Join(os.Getenv("XDG_CACHE_HOME"), "kubectl-hikube", "credentials")
	cached := func() os.FileInfo {
		entries, err := os.ReadDir(cacheDir)
		if err != nil || len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "tenant-a_web_") {
			t.Fatalf("credential cache %s: %v, %v; want one entry for tenant-a/web", cacheDir, entries, err)
		}
		info, err := entries[0].Info()
		if err != nil {
			t.Fatal(err)
		}
		return info
	}
	first := cached()
	env.MustKubectl(t, kc, "--context", "web-exec", "get", "nodes")
	if second := cached(); second.Mode().Perm() != 0o600 || !second.ModTime().Equal(first.ModTime()) {
		t.Errorf("the cached certificate: mode %v, modified %s then %s; want 0600, written once", second.Mode().Perm(), first.ModTime(), second.ModTime())
	}

	out = mustHikube(t, kc, "connect", "web", "--", env.KubectlPath, "get", "nodes", "-o", "name")
	if !strings.Contains(out, "node/") {
		t.Errorf("connect -- kubectl get nodes: %q", out)
	}
}

// TestBobIsForbiddenInTenantA: every command of bob's on tenant-a fails
// with the 403 message and exit code 4.
func TestBobIsForbiddenInTenantA(t *testing.T) {
	ensureSeed(t, "web")
	for _, args := range [][]string{
		{"get", "clusters"},
		{"status", "web"},
		{"scale", "web", "--node-group", "web", "--max", "3"},
		{"gpu", "attach", "web", "--node-group", "web", "--model", "nvidia.com/L40S"},
		{"kubeconfig", "web", "--print"},
		{"delete", "cluster", "web", "--yes"},
		{"create", "cluster", "intruder", "--node-group", "name=a,min=1"},
	} {
		r := hikube(t, "bob", append([]string{"-n", tenantA}, args...)...)
		if code := exitCode(t, r); code != 4 || !strings.Contains(r.Stderr, "forbidden") || !strings.Contains(r.Stderr, `User "bob"`) {
			t.Errorf("bob %v: exit %d, stderr %q; want exit 4 and a forbidden message", args, code, r.Stderr)
		}
	}
}

// TestDeleteRefusesWithoutTTY, and with --yes deletes the cluster and the
// contexts merged for it.
func TestDeleteRefusesWithoutTTY(t *testing.T) {
	mustHikube(t, "alice", "create", "cluster", "tmp", "--node-group", "name=w,min=1,max=2", "--wait", "--timeout", "3m")
	kc := copyKubeconfig(t, "alice")
	mustHikube(t, kc, "kubeconfig", "tmp")

	r := hikube(t, kc, "delete", "cluster", "tmp")
	if code := exitCode(t, r); code != 2 || !strings.Contains(r.Stderr, "--yes") || !strings.Contains(r.Stderr, "node group:  w") {
		t.Errorf("delete without TTY: exit %d, stderr %q", code, r.Stderr)
	}
	env.MustKubectl(t, "alice", "get", "cluster", "tmp")

	r = hikube(t, kc, "delete", "cluster", "tmp", "--yes", "--wait", "--timeout", "2m")
	if r.Err != nil || !strings.Contains(r.Stderr, `Removed context "tenant-a-tmp"`) {
		t.Fatalf("delete --yes: %v\n%s", r.Err, r.Stderr)
	}
	if r := env.Kubectl(t, "alice", "get", "cluster", "tmp"); r.Err == nil {
		t.Error("the cluster is still there after delete --wait")
	}
	if contexts := env.MustKubectl(t, kc, "config", "get-contexts", "-o", "name"); strings.Contains(contexts, "tmp") {
		t.Errorf("the merged context survived the delete: %s", contexts)
	}
}

// TestUpgradePlanChangesNothingWithoutYes.
func TestUpgradePlanChangesNothingWithoutYes(t *testing.T) {
	ensureSeed(t, "prod")
	before := spec(t, tenantA, "prod")
	out := mustHikube(t, "alice", "upgrade", "prod")
	if !strings.Contains(out, "v1.36 -> v1.37") {
		t.Errorf("plan: %s", out)
	}
	assertSameSpec(t, "after the plan", spec(t, tenantA, "prod"), before)
	r := hikube(t, "alice", "upgrade", "prod", "--version", "v1.35")
	if code := exitCode(t, r); code != 2 || !strings.Contains(r.Stderr, "downgrade") {
		t.Errorf("downgrade: exit %d, %s", code, r.Stderr)
	}
}
