package integration

import (
	"context"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

// TestWatchSeesCreateUpdateDelete runs `kubectl get clusters -w` and checks
// that every change, deletes included, reaches the watcher.
func TestWatchSeesCreateUpdateDelete(t *testing.T) {
	createCluster(t, "alice", tenantA, newCluster("watch-marker"))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, env.KubectlPath, "--kubeconfig", env.Platform.KubeconfigPath("alice"),
		"get", "clusters", "-n", tenantA, "-w", "--output-watch-events", "-o", "json")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	events := make(chan string, 100)
	go decodeWatchEvents(stdout, events)

	// The marker arrives with the initial list: the watch is open from here on.
	expectEvent(t, events, "ADDED watch-marker")
	c := createCluster(t, "alice", tenantA, newCluster("watched"))
	expectEvent(t, events, "ADDED watched")
	cs := hikubeClient(t, "alice").AppsV1alpha1().Clusters(tenantA)
	patch := []byte(`{"spec":{"nodeGroups":{"workers":{"maxReplicas":5}}}}`)
	if _, err := cs.Patch(context.Background(), c.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatalf("patching: %v", err)
	}
	expectEvent(t, events, "MODIFIED watched")
	if err := cs.Delete(context.Background(), c.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("deleting: %v", err)
	}
	expectEvent(t, events, "DELETED watched")
}

func decodeWatchEvents(r io.Reader, events chan<- string) {
	dec := json.NewDecoder(r)
	for {
		var ev struct {
			Type   string `json:"type"`
			Object struct {
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			} `json:"object"`
		}
		if err := dec.Decode(&ev); err != nil {
			close(events)
			return
		}
		events <- ev.Type + " " + ev.Object.Metadata.Name
	}
}

func expectEvent(t *testing.T, events <-chan string, want string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	var seen []string
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("watch ended before %q; saw %v", want, seen)
			}
			if ev == want {
				return
			}
			seen = append(seen, ev)
		case <-timeout:
			t.Fatalf("no %q event within 30s; saw %v", want, seen)
		}
	}
}

// TestDryRunWritesNothing: --dry-run=server validates and answers as if it
// wrote, on create, update and delete, but nothing changes.
func TestDryRunWritesNothing(t *testing.T) {
	r := kubectlAs(t, "alice", "create", "-n", tenantA, "-f", "artifacts/examples/ml.yaml", "--dry-run=server")
	if r.Err != nil || !strings.Contains(r.Stdout, "created (server dry run)") {
		t.Fatalf("dry-run create: err=%v stdout=%q stderr=%q", r.Err, r.Stdout, r.Stderr)
	}
	assertNotStored(t, tenantA, "ml")

	r = kubectlAs(t, "alice", "create", "-n", "default", "-f", "artifacts/examples/ml.yaml", "--dry-run=server")
	if r.Err == nil {
		t.Errorf("dry-run create in an untenanted namespace succeeded; admission must run on dry runs too")
	}

	c := createCluster(t, "alice", tenantA, newCluster("dry"))
	cs := hikubeClient(t, "alice").AppsV1alpha1().Clusters(tenantA)
	dry := []string{metav1.DryRunAll}
	upd := c.DeepCopy()
	upd.Spec.NodeGroups["workers"] = v1alpha1.NodeGroup{MinReplicas: ptr.To[int32](2), MaxReplicas: ptr.To[int32](9), InstanceType: "u1.large"}
	got, err := cs.Update(context.Background(), upd, metav1.UpdateOptions{DryRun: dry})
	if err != nil {
		t.Fatalf("dry-run update: %v", err)
	}
	if *got.Spec.NodeGroups["workers"].MaxReplicas != 9 {
		t.Errorf("dry-run update should answer with the would-be object")
	}
	if err := cs.Delete(context.Background(), c.Name, metav1.DeleteOptions{DryRun: dry}); err != nil {
		t.Fatalf("dry-run delete: %v", err)
	}
	stored, err := cs.Get(context.Background(), c.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("dry-run delete deleted the cluster: %v", err)
	}
	if stored.ResourceVersion != c.ResourceVersion || *stored.Spec.NodeGroups["workers"].MaxReplicas != 3 {
		t.Errorf("dry runs changed the stored cluster: rv %s -> %s", c.ResourceVersion, stored.ResourceVersion)
	}
}

// TestStatusAndGeneration: status is written through clusters/status only,
// spec writes bump the generation, status writes do not, and each keeps the other.
func TestStatusAndGeneration(t *testing.T) {
	c := createCluster(t, "alice", tenantA, newCluster("gen"))
	if c.Generation != 1 {
		t.Errorf("generation after create = %d, want 1", c.Generation)
	}
	admin := hikubeClient(t, "admin").AppsV1alpha1().Clusters(tenantA)

	// A status sent with the main resource is dropped.
	withStatus := c.DeepCopy()
	withStatus.Status.Phase = v1alpha1.ClusterReady
	after, err := admin.Update(context.Background(), withStatus, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if after.Status.Phase != "" || after.Generation != 1 {
		t.Errorf("update of the main resource: phase=%q generation=%d, want no status change and generation 1", after.Status.Phase, after.Generation)
	}

	st := after.DeepCopy()
	st.Status.Phase = v1alpha1.ClusterReady
	st.Status.ObservedGeneration = 1
	st.Spec.Version = "v1.37" // ignored by the status subresource
	st, err = admin.UpdateStatus(context.Background(), st, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update status: %v", err)
	}
	if st.Status.Phase != v1alpha1.ClusterReady || st.Spec.Version != "v1.36" || st.Generation != 1 {
		t.Errorf("after status update: phase=%q version=%s generation=%d; want Ready, v1.36, 1", st.Status.Phase, st.Spec.Version, st.Generation)
	}

	sel := mustKubectl(t, "alice", "get", "clusters", "-n", tenantA, "--field-selector", "status.phase=Ready", "-o", "name")
	if strings.TrimSpace(sel) != "cluster.apps.hikube.io/gen" {
		t.Errorf("field selector status.phase=Ready = %q, want only gen", sel)
	}
	sel = mustKubectl(t, "alice", "get", "clusters", "-n", tenantA, "--field-selector", "spec.version=v1.36,metadata.name=gen", "-o", "name")
	if strings.TrimSpace(sel) != "cluster.apps.hikube.io/gen" {
		t.Errorf("field selector spec.version=v1.36 = %q, want gen", sel)
	}
	if r := kubectlAs(t, "alice", "get", "clusters", "-n", tenantA, "--field-selector", "spec.nodeGroups=x"); r.Err == nil {
		t.Errorf("an unsupported field selector was accepted")
	}

	patched, err := admin.Patch(context.Background(), "gen", types.MergePatchType, []byte(`{"spec":{"version":"v1.37"}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("spec patch: %v", err)
	}
	if patched.Generation != 2 || patched.Status.Phase != v1alpha1.ClusterReady {
		t.Errorf("after spec patch: generation=%d phase=%q; want 2 and the status kept", patched.Generation, patched.Status.Phase)
	}
}

// TestDeleteCollection removes every cluster of a namespace in one call.
func TestDeleteCollection(t *testing.T) {
	for _, n := range []string{"dc-1", "dc-2"} {
		c := newCluster(n)
		c.Labels = map[string]string{"suite": "deletecollection"}
		createCluster(t, "alice", tenantA, c)
	}
	cs := hikubeClient(t, "alice").AppsV1alpha1().Clusters(tenantA)
	if err := cs.DeleteCollection(context.Background(), metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "suite=deletecollection"}); err != nil {
		t.Fatalf("deletecollection: %v", err)
	}
	for _, n := range []string{"dc-1", "dc-2"} {
		if _, err := cs.Get(context.Background(), n, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("%s survived deletecollection: %v", n, err)
		}
	}
}

// TestDeletingATenantNamespaceDeletesItsClusters: kube-controller-manager's
// namespace controller (a protobuf-preferring client) empties the namespace.
func TestDeletingATenantNamespaceDeletesItsClusters(t *testing.T) {
	const ns = "tenant-gone"
	mustKubectl(t, "admin", "create", "namespace", ns)
	mustKubectl(t, "admin", "label", "namespace", ns, "hikube.io/tenant="+ns)
	createCluster(t, "admin", ns, newCluster("doomed"))
	mustKubectl(t, "admin", "delete", "namespace", ns, "--wait=false")
	eventually(t, 60*time.Second, "namespace "+ns+" to be gone", func() bool {
		r := kubectlAs(t, "admin", "get", "namespace", ns)
		return r.Err != nil && strings.Contains(r.Stderr, "NotFound")
	})
	assertNotStored(t, ns, "doomed")
}
