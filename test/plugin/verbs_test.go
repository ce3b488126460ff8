package plugin

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/test/harness"
)

// verbsCluster is a small cluster of tenant-a that the tests of the editing
// verbs change and put back: a shared-family group and a GPU group that
// starts at zero nodes.
const verbsCluster = "verbs"

func ensureVerbsCluster(t *testing.T) {
	t.Helper()
	if r := env.Kubectl(t, "alice", "get", "cluster", verbsCluster, "-n", tenantA); r.Err == nil {
		return
	}
	mustHikube(t, "alice", "create", "cluster", verbsCluster,
		"--node-group", "name=web,instance-type=s1.medium,min=1,max=2",
		"--node-group", "name=gpu,instance-type=u1.xlarge,min=0,max=1,gpus=nvidia.com/L40S:2",
		"--wait", "--timeout", "3m")
}

// hikubeCmd is `kubectl hikube --kubeconfig <user's> args...`, not started.
func hikubeCmd(ctx context.Context, user string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, env.KubectlPath, append([]string{"hikube", "--kubeconfig", env.Platform.KubeconfigPath(user)}, args...)...)
	cmd.Dir = env.Root
	return cmd
}

// TestAddonEnableDisableChangesOnlyThatAddon.
func TestAddonEnableDisableChangesOnlyThatAddon(t *testing.T) {
	ensureVerbsCluster(t)
	before := spec(t, tenantA, verbsCluster)
	out := mustHikube(t, "alice", "addon", "enable", verbsCluster, "monitoring-agents", "cert-manager")
	if !strings.Contains(out, "monitoring-agents, cert-manager enabled") {
		t.Errorf("addon enable said %q", out)
	}
	after := spec(t, tenantA, verbsCluster)
	addons, _ := after["addons"].(map[string]any)
	for _, key := range []string{"monitoringAgents", "certManager"} {
		if a, _ := addons[key].(map[string]any); a["enabled"] != true {
			t.Errorf("after enable, spec.addons.%s = %v", key, addons[key])
		}
	}
	delete(after, "addons")
	withoutAddons := copySpec(before)
	delete(withoutAddons, "addons")
	assertSameSpec(t, "all but the add-ons after addon enable", after, withoutAddons)

	mustHikube(t, "alice", "addon", "disable", verbsCluster, "monitoringAgents") // the spec key works too
	addons, _ = spec(t, tenantA, verbsCluster)["addons"].(map[string]any)
	if a, _ := addons["monitoringAgents"].(map[string]any); a["enabled"] != false {
		t.Errorf("after disable, spec.addons.monitoringAgents = %v", addons["monitoringAgents"])
	}
	if a, _ := addons["certManager"].(map[string]any); a["enabled"] != true {
		t.Errorf("disabling monitoring-agents changed cert-manager: %v", addons["certManager"])
	}

	r := hikube(t, "alice", "addon", "enable", verbsCluster, "kafka")
	if code := exitCode(t, r); code != 2 || !strings.Contains(r.Stderr, "kafka") {
		t.Errorf("addon enable kafka: exit %d, %s", code, r.Stderr)
	}
	mustHikube(t, "alice", "addon", "disable", verbsCluster, "cert-manager")
}

// TestNodeGroupAddThenDelete: add changes nothing but the new group; delete
// (with --yes) removes exactly it.
func TestNodeGroupAddThenDelete(t *testing.T) {
	ensureVerbsCluster(t)
	before := spec(t, tenantA, verbsCluster)
	out := mustHikube(t, "alice", "nodegroup", "add", verbsCluster, "--node-group", "name=batch,instance-type=m1.large,min=0,max=2,roles=monitoring")
	if !strings.Contains(out, "node group(s) batch added") {
		t.Errorf("nodegroup add said %q", out)
	}
	after := spec(t, tenantA, verbsCluster)
	batch := group(after, "batch")
	if batch["instanceType"] != "m1.large" || batch["minReplicas"] != float64(0) || batch["maxReplicas"] != float64(2) {
		t.Errorf("the added group: %v", batch)
	}
	delete(after["nodeGroups"].(map[string]any), "batch")
	assertSameSpec(t, "all but the new group after nodegroup add", after, before)

	// Which families carry GPUs is the server catalog's to say (422, exit 7).
	r := hikube(t, "alice", "nodegroup", "add", verbsCluster, "--node-group", "name=bad,instance-type=s1.large,gpus=nvidia.com/L40S")
	if code := exitCode(t, r); code != 7 || !strings.Contains(r.Stderr, "spec.nodeGroups[bad].gpus: Forbidden") || !strings.Contains(r.Stderr, "s1") {
		t.Errorf("a GPU on s1: exit %d, %s", code, r.Stderr)
	}

	out = mustHikube(t, "alice", "nodegroup", "delete", verbsCluster, "batch", "--yes")
	if !strings.Contains(out, "node group batch deleted") {
		t.Errorf("nodegroup delete said %q", out)
	}
	assertSameSpec(t, "after nodegroup delete", spec(t, tenantA, verbsCluster), before)

	r = hikube(t, "alice", "nodegroup", "delete", verbsCluster, "nope", "--yes")
	if code := exitCode(t, r); code != 3 {
		t.Errorf("deleting a missing group: exit %d, %s", code, r.Stderr)
	}
}

// TestGPUDetach: --count removes some GPUs per node, no count removes them
// all (the gpus field goes away); nothing else changes.
func TestGPUDetach(t *testing.T) {
	ensureVerbsCluster(t)
	before := spec(t, tenantA, verbsCluster)
	t.Cleanup(func() {
		mustHikube(t, "alice", "gpu", "attach", verbsCluster, "--node-group", "gpu", "--gpu", "nvidia.com/L40S:2")
	})

	out := mustHikube(t, "alice", "gpu", "detach", verbsCluster, "--node-group", "gpu", "--model", "nvidia.com/L40S", "--count", "1")
	if !strings.Contains(out, "nvidia.com/L40S:2 -> nvidia.com/L40S:1") {
		t.Errorf("gpu detach --count 1 said %q", out)
	}
	want := copySpec(before)
	group(want, "gpu")["gpus"] = []any{map[string]any{"name": "nvidia.com/L40S"}}
	assertSameSpec(t, "after gpu detach --count 1", spec(t, tenantA, verbsCluster), want)

	r := hikube(t, "alice", "gpu", "detach", verbsCluster, "--node-group", "gpu", "--model", "nvidia.com/L40S", "--count", "3")
	if code := exitCode(t, r); code != 2 || !strings.Contains(r.Stderr, "more than") {
		t.Errorf("detaching more than there are: exit %d, %s", code, r.Stderr)
	}

	out = mustHikube(t, "alice", "gpu", "detach", verbsCluster, "--node-group", "gpu")
	if !strings.Contains(out, "nvidia.com/L40S:1 -> -") {
		t.Errorf("gpu detach of all said %q", out)
	}
	delete(group(want, "gpu"), "gpus")
	assertSameSpec(t, "after gpu detach of all", spec(t, tenantA, verbsCluster), want)

	r = hikube(t, "alice", "gpu", "detach", verbsCluster, "--node-group", "gpu")
	if code := exitCode(t, r); code != 2 || !strings.Contains(r.Stderr, "no GPUs") {
		t.Errorf("detaching from a group without GPUs: exit %d, %s", code, r.Stderr)
	}

	// A model the catalog does not hold is the server's catalog admission
	// to refuse (422, exit 7), with the field at fault. The plugin never
	// refuses a model on its own compiled catalog, which may be older than
	// the server's.
	r = hikube(t, "alice", "gpu", "attach", verbsCluster, "--node-group", "gpu", "--model", "nvidia.com/T4")
	if code := exitCode(t, r); code != 7 || !strings.Contains(r.Stderr, `spec.nodeGroups[gpu].gpus[0].name: Unsupported value: "nvidia.com/T4"`) {
		t.Errorf("gpu attach of an unknown model: exit %d, stderr %q; want the catalog's field error", code, r.Stderr)
	}
	assertSameSpec(t, "after the refused attach", spec(t, tenantA, verbsCluster), want)
}

// TestEventsWatchFollowsNewEvents: events --watch lists, then prints the
// events that come after, until interrupted (exit 0).
func TestEventsWatchFollowsNewEvents(t *testing.T) {
	ensureVerbsCluster(t)
	cl, err := env.Hikube(t, "admin").AppsV1alpha1().Clusters(tenantA).Get(context.Background(), verbsCluster, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := hikubeCmd(ctx, "alice", "events", verbsCluster, "--watch")
	var out syncBuffer
	var errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck // a no-op once it has exited

	// The cluster's provisioning events are listed first; a probe created
	// after that can only reach stdout through the watch.
	harness.Eventually(t, time.Minute, "the listing of the existing events", func() bool {
		return strings.Contains(out.String(), "REASON")
	})
	listed := out.String()
	events := kubernetes.NewForConfigOrDie(env.RESTConfig(t, "admin")).CoreV1().Events(tenantA)
	probe := 0
	// The watch starts a moment after the listing; probe until one arrives.
	harness.Eventually(t, time.Minute, "a new event printed by --watch", func() bool {
		probe++
		now := metav1.Now()
		_, err := events.Create(context.Background(), &corev1.Event{
			ObjectMeta: metav1.ObjectMeta{GenerateName: verbsCluster + "-probe-", Namespace: tenantA},
			InvolvedObject: corev1.ObjectReference{
				APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: "Cluster",
				Namespace: tenantA, Name: verbsCluster, UID: cl.UID,
			},
			Reason: "WatchProbe", Message: fmt.Sprintf("probe %d", probe), Type: corev1.EventTypeNormal,
			FirstTimestamp: now, LastTimestamp: now, Count: 1, Source: corev1.EventSource{Component: "test-plugin"},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("creating a probe event: %v", err)
		}
		return strings.Contains(out.String(), "WatchProbe")
	})
	if strings.Contains(listed, "WatchProbe") {
		t.Errorf("a probe was in the listing, before any was created:\n%s", listed)
	}
	if n := strings.Count(out.String(), "REASON"); n != 1 {
		t.Errorf("the header is printed %d times:\n%s", n, out.String())
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("events --watch after Ctrl-C: %v\nstderr: %s", err, errOut.String())
	}
}

// TestQuotaShowsUsageAndLimitsAsAlice: alice (tenant admin) reads her
// tenant's quota; Used is what the platform counted.
func TestQuotaShowsUsageAndLimitsAsAlice(t *testing.T) {
	ensureVerbsCluster(t)
	rqs := kubernetes.NewForConfigOrDie(env.RESTConfig(t, "admin")).CoreV1().ResourceQuotas(tenantA)
	q := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "plugin-test", Namespace: tenantA},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			"count/clusters.apps.hikube.io": resource.MustParse("50"),
			"hikube.io/nodes":               resource.MustParse("1000"),
			"hikube.io/cpu":                 resource.MustParse("10000"),
			"hikube.io/memory":              resource.MustParse("100Ti"),
			"hikube.io/gpus.l40s":           resource.MustParse("100"),
		}},
	}
	if _, err := rqs.Create(context.Background(), q, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rqs.Delete(context.Background(), q.Name, metav1.DeleteOptions{}) })

	clusters := len(strings.Fields(env.MustKubectl(t, "alice", "get", "clusters", "-n", tenantA, "-o", "name")))
	want := fmt.Sprintf("count/clusters.apps.hikube.io  %d ", clusters)
	var out string
	harness.Eventually(t, time.Minute, "quota to show the counted clusters", func() bool {
		out = mustHikube(t, "alice", "quota")
		return strings.Contains(out, want)
	})
	for _, line := range []string{"Name:       plugin-test", "Namespace:  tenant-a", "Resource", "Used", "Hard", "hikube.io/gpus.l40s", "100Ti"} {
		if !strings.Contains(out, line) {
			t.Errorf("quota lacks %q:\n%s", line, out)
		}
	}
	if strings.Contains(out, "  -  ") {
		t.Errorf("a key is not counted yet:\n%s", out)
	}

	r := hikube(t, "bob", "-n", tenantA, "quota")
	if code := exitCode(t, r); code != 4 {
		t.Errorf("bob reading tenant-a's quota: exit %d, %s", code, r.Stderr)
	}
}

// copySpec deep-copies a spec map.
func copySpec(s map[string]any) map[string]any {
	out := make(map[string]any, len(s))
	for k, v := range s {
		out[k] = copyValue(v)
	}
	return out
}

func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return copySpec(x)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = copyValue(x[i])
		}
		return out
	}
	return v
}

// syncBuffer is a buffer a command writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var _ io.Writer = (*syncBuffer)(nil)

// TestWarningsOnlyWithWhatWasWritten: the server's advice about a cluster
// (GPUs without the GPU operator) is shown when the cluster is written, and
// not in front of the one error line when admission refuses it.
func TestWarningsOnlyWithWhatWasWritten(t *testing.T) {
	r := hikube(t, "alice", "create", "cluster", "refused", "-n", tenantA,
		"--node-group", "name=ml,instance-type=s1.xlarge,min=1,max=3,gpus=nvidia.com/L40S")
	if code := exitCode(t, r); code != 7 {
		t.Fatalf("GPUs on s1: exit %d, %s", code, r.Stderr)
	}
	if lines := strings.Split(strings.TrimSpace(r.Stderr), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "error: ") ||
		!strings.Contains(lines[0], "spec.nodeGroups[ml].gpus") {
		t.Errorf("a refused create printed %q, want one error line", r.Stderr)
	}
	if res := env.Kubectl(t, "alice", "get", "cluster", "refused", "-n", tenantA); res.Err == nil {
		t.Errorf("the refused cluster exists")
	}

	r = hikube(t, "alice", "create", "cluster", "advised", "-n", tenantA, "--dry-run=server", "-o", "name",
		"--node-group", "name=ml,instance-type=u1.xlarge,min=1,max=3,gpus=nvidia.com/L40S")
	if code := exitCode(t, r); code != 0 || !strings.Contains(r.Stderr, "Warning: spec.addons.gpuOperator") ||
		strings.TrimSpace(r.Stdout) != "cluster.apps.hikube.io/advised" {
		t.Errorf("GPUs without the operator, server dry run: exit %d, stdout %q, stderr %q", code, r.Stdout, r.Stderr)
	}
}
