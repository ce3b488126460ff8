package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
)

// contentTypes records the Content-Type of every apps.hikube.io response a
// client receives, by method and path, so that a test can tell which wire
// format went through the aggregation layer.
type contentTypes struct {
	mu   sync.Mutex
	seen map[string]string
}

func (c *contentTypes) wrap(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	c.seen = map[string]string{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(req)
			if err == nil && strings.HasPrefix(req.URL.Path, "/apis/apps.hikube.io/") {
				key := req.Method + " " + req.URL.Path
				if req.URL.Query().Get("watch") == "true" {
					key += "?watch"
				}
				c.mu.Lock()
				c.seen[key] = resp.Header.Get("Content-Type")
				c.mu.Unlock()
			}
			return resp, err
		})
	})
	return cfg
}

// check fails unless every recorded response has a media type with prefix want.
func (c *contentTypes) check(t *testing.T, want string, minRequests int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) < minRequests {
		t.Errorf("recorded %d distinct requests, want at least %d: %v", len(c.seen), minRequests, c.seen)
	}
	for req, ct := range c.seen {
		if !strings.HasPrefix(ct, want) {
			t.Errorf("%s: Content-Type %q, want %s", req, ct, want)
		}
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestTypedClientSpeaksProtobuf drives clusters and the catalogs with the
// generated clientset (which prefers protobuf) through kube-apiserver's
// aggregation layer: create, get, list, update, watch and the status
// subresource all answer in application/vnd.kubernetes.protobuf, and the
// objects read back are the ones written.
func TestTypedClientSpeaksProtobuf(t *testing.T) {
	ctx := context.Background()
	var rec contentTypes
	cs, err := clientset.NewForConfig(rec.wrap(restConfig(t, "alice")))
	if err != nil {
		t.Fatal(err)
	}
	clusters := cs.AppsV1alpha1().Clusters(tenantA)

	list, err := clusters.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	w, err := clusters.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer w.Stop()

	want := newCluster("pb-typed")
	want.Spec.NodeGroups["workers"] = v1alpha1.NodeGroup{
		MinReplicas: want.Spec.NodeGroups["workers"].MinReplicas, MaxReplicas: want.Spec.NodeGroups["workers"].MaxReplicas,
		InstanceType: "u1.large", Roles: []string{"ingress-nginx"},
	}
	want.Spec.Addons.Fluxcd = &v1alpha1.Addon{Enabled: true, ValuesOverride: &runtime.RawExtension{Raw: []byte(`{"a":{"b":[1,2]}}`)}}
	created, err := clusters.Create(ctx, want, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { deleteCluster(t, tenantA, want.Name) })
	if got := created.Spec.NodeGroups["workers"].Roles; len(got) != 1 || got[0] != "ingress-nginx" {
		t.Errorf("created roles = %v", got)
	}
	if got := string(created.Spec.Addons.Fluxcd.ValuesOverride.Raw); !strings.Contains(got, `"b":[1,2]`) {
		t.Errorf("created valuesOverride = %s", got)
	}

	got, err := clusters.Get(ctx, want.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.UID != created.UID || got.Spec.Version != "v1.36" || got.Spec.NodeGroups["workers"].InstanceType != "u1.large" {
		t.Errorf("get returned %+v, want what was created", got.Spec)
	}

	got.Spec.NodeGroups["workers"] = v1alpha1.NodeGroup{
		MinReplicas: got.Spec.NodeGroups["workers"].MinReplicas, MaxReplicas: got.Spec.NodeGroups["workers"].MaxReplicas,
		InstanceType: "u1.xlarge",
	}
	updated, err := clusters.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if updated.Spec.NodeGroups["workers"].InstanceType != "u1.xlarge" || updated.Generation != created.Generation+1 {
		t.Errorf("update: instance type %q generation %d", updated.Spec.NodeGroups["workers"].InstanceType, updated.Generation)
	}

	list, err = clusters.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	found := false
	for _, c := range list.Items {
		found = found || (c.Name == want.Name && c.ResourceVersion == updated.ResourceVersion)
	}
	if !found {
		t.Errorf("list of %d clusters lacks %s at resourceVersion %s", len(list.Items), want.Name, updated.ResourceVersion)
	}

	events := collect(t, w, nameSet(want.Name), 2)
	if events[0].typ != watch.Added || events[1].typ != watch.Modified || events[1].rv != updated.ResourceVersion {
		t.Errorf("watch events = %v, want ADDED then MODIFIED at %s", events, updated.ResourceVersion)
	}

	its, err := cs.AppsV1alpha1().InstanceTypes().List(ctx, metav1.ListOptions{})
	if err != nil || len(its.Items) == 0 {
		t.Fatalf("list instancetypes: %d items, err=%v", len(its.Items), err)
	}
	it, err := cs.AppsV1alpha1().InstanceTypes().Get(ctx, its.Items[0].Name, metav1.GetOptions{})
	if err != nil || it.Spec.CPU.IsZero() || it.Spec.Family == "" {
		t.Fatalf("get instancetype %s: %+v, err=%v", its.Items[0].Name, it, err)
	}
	gpus, err := cs.AppsV1alpha1().GPUModels().List(ctx, metav1.ListOptions{})
	if err != nil || len(gpus.Items) == 0 {
		t.Fatalf("list gpumodels: %d items, err=%v", len(gpus.Items), err)
	}
	if gpus.Items[0].Spec.ShortName == "" || gpus.Items[0].Spec.Memory.IsZero() {
		t.Errorf("gpumodel %s decoded without its spec: %+v", gpus.Items[0].Name, gpus.Items[0].Spec)
	}

	// list, watch, create, get, update of clusters; list and get of
	// instancetypes; list of gpumodels.
	rec.check(t, "application/vnd.kubernetes.protobuf", 7)
}

// TestJSONStillServed: JSON clients are unchanged by protobuf — kubectl
// (-o json), the dynamic client and server-side apply, which is JSON/YAML
// only.
func TestJSONStillServed(t *testing.T) {
	ctx := context.Background()
	created := createCluster(t, "alice", tenantA, newCluster("pb-json"))

	out := mustKubectl(t, "alice", "-n", tenantA, "get", "clusters", created.Name, "-o", "json")
	var fromKubectl v1alpha1.Cluster
	if err := json.Unmarshal([]byte(out), &fromKubectl); err != nil {
		t.Fatalf("kubectl -o json is not a cluster: %v\n%s", err, out)
	}
	if fromKubectl.UID != created.UID || fromKubectl.Spec.NodeGroups["workers"].InstanceType != "u1.large" {
		t.Errorf("kubectl -o json: uid %s spec %+v", fromKubectl.UID, fromKubectl.Spec)
	}

	var rec contentTypes
	dyn, err := dynamic.NewForConfig(rec.wrap(restConfig(t, "alice")))
	if err != nil {
		t.Fatal(err)
	}
	res := dyn.Resource(v1alpha1.SchemeGroupVersion.WithResource("clusters")).Namespace(tenantA)
	list, err := res.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("dynamic list: %v", err)
	}
	found := false
	for _, u := range list.Items {
		found = found || u.GetUID() == created.UID
	}
	if !found {
		t.Errorf("dynamic list of %d clusters lacks %s", len(list.Items), created.Name)
	}
	u, err := res.Get(ctx, created.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("dynamic get: %v", err)
	}
	if it, _, _ := unstructured.NestedString(u.Object, "spec", "nodeGroups", "workers", "instanceType"); it != "u1.large" {
		t.Errorf("dynamic get: instanceType %q", it)
	}

	apply := []byte(`{"apiVersion":"apps.hikube.io/v1alpha1","kind":"Cluster","metadata":{"name":"pb-apply"},` +
		`"spec":{"version":"v1.36","nodeGroups":{"workers":{"minReplicas":1,"maxReplicas":2,"instanceType":"u1.large"}}}}`)
	applied, err := res.Patch(ctx, "pb-apply", types.ApplyPatchType, apply, metav1.PatchOptions{FieldManager: "pb-test"})
	if err != nil {
		t.Fatalf("server-side apply: %v", err)
	}
	t.Cleanup(func() { deleteCluster(t, tenantA, "pb-apply") })
	if mr, _, _ := unstructured.NestedInt64(applied.Object, "spec", "nodeGroups", "workers", "maxReplicas"); mr != 2 {
		t.Errorf("applied maxReplicas = %d", mr)
	}
	managers := map[string]bool{}
	for _, m := range applied.GetManagedFields() {
		managers[m.Manager] = true
	}
	if !managers["pb-test"] {
		t.Errorf("managedFields lack the apply's field manager: %v", managers)
	}
	rec.check(t, "application/json", 3)
}
