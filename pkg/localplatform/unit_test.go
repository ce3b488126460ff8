package localplatform

import (
	"context"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/hikube/hikube/pkg/process"
)

func TestEveryChartKindIsEitherAppliedOrAProcessLocally(t *testing.T) {
	objs, err := renderChart(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, o := range objs {
		kind := o.GetKind()
		seen[kind] = true
		if slices.Contains(localKinds, kind) == slices.Contains(processKinds, kind) {
			t.Errorf("%s %s: kind %s must be in exactly one of localKinds and processKinds", kind, o.GetName(), kind)
		}
		if _, found, _ := unstructured.NestedBool(o.Object, "spec", "insecureSkipTLSVerify"); found {
			t.Errorf("%s %s sets insecureSkipTLSVerify", kind, o.GetName())
		}
	}
	for _, k := range append(slices.Clone(localKinds), processKinds...) {
		if !seen[k] {
			t.Errorf("kind %s is listed but the chart renders none", k)
		}
	}
	if !seen["Namespace"] {
		t.Error("the local values do not render the hikube-system Namespace")
	}
}

func TestDecodeManifestsSkipsEmptyDocumentsAndRejectsNamelessOnes(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    []string
		wantErr bool
	}{
		{name: "two documents and an empty one", yaml: "---\n# comment only\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n", want: []string{"a", "b"}},
		{name: "document without a name", yaml: "apiVersion: v1\nkind: Namespace\n", wantErr: true},
		{name: "invalid yaml", yaml: "apiVersion: [\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"m.yaml": {Data: []byte(tt.yaml)}}
			objs, err := decodeManifests(fsys, "m.yaml")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			var got []string
			for _, o := range objs {
				got = append(got, o.GetName())
			}
			if !tt.wantErr && !slices.Equal(got, tt.want) {
				t.Errorf("names = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPortsArePersistedAndATakenPortIsReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ports.json")
	first, err := loadOrChoosePorts(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range first.fields() {
		if *p <= 0 || seen[*p] {
			t.Fatalf("ports %+v: want distinct positive ports", first)
		}
		seen[*p] = true
	}
	second, err := loadOrChoosePorts(path)
	if err != nil || second != first {
		t.Fatalf("second choice = %+v (%v), want the persisted %+v", second, err, first)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(first.KubeAPIServer)))
	if err != nil {
		t.Skipf("cannot occupy port %d: %v", first.KubeAPIServer, err)
	}
	defer l.Close()
	third, err := loadOrChoosePorts(path)
	if err != nil {
		t.Fatal(err)
	}
	if third.KubeAPIServer == first.KubeAPIServer {
		t.Errorf("kube-apiserver port %d is taken but was kept", first.KubeAPIServer)
	}
	if third.EtcdClient != first.EtcdClient || third.HikubeAPIServer != first.HikubeAPIServer {
		t.Errorf("free ports changed: %+v -> %+v", first, third)
	}
}

func TestUserFileNamesAreSafeAndDistinctPerGroups(t *testing.T) {
	a := userFileName("system:serviceaccount:ns:sa", nil)
	if strings.ContainsAny(a, ":/") {
		t.Errorf("file name %q contains a path or colon", a)
	}
	if userFileName("carol", []string{"g1"}) == userFileName("carol", []string{"g2"}) {
		t.Errorf("different groups give the same file name")
	}
	if got := userFileName("carol", nil); got != "carol" {
		t.Errorf("userFileName(carol) = %q", got)
	}
}

// The local mode keeps its four controllers; the kubevirt mode, whose host
// runs workloads, adds those of workloads and the keys they need.
func TestControllerManagerFlagsByMode(t *testing.T) {
	k := &platformPKI{dir: "/pki", saKeyPath: "/pki/sa.key"}
	local := (&Platform{pki: k}).controllerManagerFlags("/kc")
	if !slices.Equal(local.Controllers, kcmControllers) || local.ServiceAccountKeyFile != "" || local.RootCAFile != "" {
		t.Fatalf("local mode: %+v", local)
	}
	kv := (&Platform{pki: k, opts: Options{NodeProvider: NodeProviderKubeVirt}}).controllerManagerFlags("/kc")
	for _, c := range []string{"deployment-controller", "replicaset-controller", "statefulset-controller", "endpointslice-controller",
		"disruption-controller", "persistentvolume-binder-controller", "pod-garbage-collector-controller", "node-lifecycle-controller"} {
		if !slices.Contains(kv.Controllers, c) {
			t.Errorf("kubevirt mode lacks %s", c)
		}
	}
	if slices.Contains(kv.Controllers, "resourcequota-controller") {
		t.Error("the resource quota controller would fight hikube over ResourceQuota status")
	}
	if kv.ServiceAccountKeyFile != "/pki/sa.key" || kv.RootCAFile != "/pki/ca.crt" {
		t.Errorf("kubevirt mode keys: %+v", kv)
	}
}

// The kubevirt mode runs the kubevirt provider whole: control planes as host
// workloads and KubeVirt workers; the local mode keeps the local provider.
func TestControllerProviderByMode(t *testing.T) {
	local := (&Platform{home: "/h", bin: "/b"}).controllerArgs()
	if !slices.Contains(local, "--control-plane-provider=local") || slices.ContainsFunc(local, func(a string) bool { return strings.HasPrefix(a, "--node-provider") }) {
		t.Errorf("local mode: %v", local)
	}
	if slices.ContainsFunc(local, func(a string) bool { return strings.HasPrefix(a, "--local-tenant-gogc") }) {
		t.Errorf("local mode sets the tenants' GOGC unasked: %v", local)
	}
	if a := (&Platform{home: "/h", bin: "/b", opts: Options{TenantGOGC: 50}}).controllerArgs(); !slices.Contains(a, "--local-tenant-gogc=50") {
		t.Errorf("TenantGOGC 50: %v", a)
	}
	kv := (&Platform{home: "/h", bin: "/b", opts: Options{NodeProvider: NodeProviderKubeVirt}}).controllerArgs()
	for _, want := range []string{"--control-plane-provider=kubevirt", "--node-provider=kubevirt"} {
		if !slices.Contains(kv, want) {
			t.Errorf("kubevirt mode lacks %s: %v", want, kv)
		}
	}
}

// KillHostProcess kills only host processes the platform started: hikube's
// own have their own methods, and a name it never started is an error, not
// a silent no-op that would make a fault test pass without a fault.
func TestKillHostProcessRefusesWhatIsNotAHostProcess(t *testing.T) {
	p := &Platform{procs: map[string]*process.Process{}}
	for _, name := range []string{procHikube, procController, procProcessNode, "no-such-process"} {
		if err := p.KillHostProcess(name); err == nil {
			t.Errorf("KillHostProcess(%q) = nil, want an error", name)
		}
	}
}
