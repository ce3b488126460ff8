package local

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/hikube/hikube/pkg/clusterpki"
	"github.com/hikube/hikube/pkg/process"
	"github.com/hikube/hikube/pkg/provider"
)

// TestANewClusterIsSeededFromAPrivateCapture: the first cluster of a binary
// has its etcd bootstrapped by its kube-apiserver while the provider
// captures the seed privately; the next one gets the seed, is ready through
// the seeded readiness path, and holds the default objects with UIDs of its
// own, which its kube-apiserver then confirms (the full /readyz passes).
func TestANewClusterIsSeededFromAPrivateCapture(t *testing.T) {
	e := newEnv(t)
	seedDir := t.TempDir()
	p, err := New(Options{StateDir: e.state, BinDir: e.bin, Log: e.log, SeedDir: seedDir})
	if err != nil {
		t.Fatal(err)
	}
	e.p = p
	start := func(name string) (provider.ClusterRef, provider.ControlPlaneSpec) {
		c := provider.ClusterRef{Namespace: "seeds", Name: name, UID: "uid-" + name}
		pkiData, err := clusterpki.Generate(c)
		if err != nil {
			t.Fatal(err)
		}
		spec := provider.ControlPlaneSpec{Minor: "v1.37", Replicas: 1, PKI: pkiData}
		e.ensureUntil(c, spec, 40*time.Second, name+" Ready", ready)
		return c, spec
	}
	first, _ := start("first")
	f1 := files{dir: e.dir(first)}
	if _, err := os.Stat(f1.seededMarker()); err == nil {
		t.Fatal("the first cluster was seeded although no seed existed yet")
	}

	id, err := binaryID(p.binariesFor("v1.37").apiserver)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(e.ctx, 200*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := os.Stat(p.seedPath(id))
		return err == nil, nil
	}); err != nil {
		t.Fatalf("no seed captured: %v", err)
	}
	s, err := loadSeed(p.seedPath(id), id)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, prefix := range seedPrefixes {
		n := 0
		for _, o := range s.Objects {
			if strings.HasPrefix(o.Key, prefix) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("the seed holds nothing under %s", prefix)
		}
		kinds = append(kinds, prefix+"="+strconv.Itoa(n))
	}
	t.Logf("seed: %v", kinds)
	// The capture's scratch directory goes once its processes have ended.
	if err := wait.PollUntilContextTimeout(e.ctx, 100*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		entries, _ := os.ReadDir(seedDir)
		return len(entries) == 1, nil
	}); err != nil {
		entries, _ := os.ReadDir(seedDir)
		t.Errorf("the seed directory holds %v, want the seed alone", entries)
	}

	t.Cleanup(func() {
		if t.Failed() {
			d := filepath.Join(e.state, "seeds", "second")
			t.Logf("kube-apiserver of the second cluster:\n%s", process.Tail(files{dir: d}.log(apiserverProc(0)), 60))
			st, _ := loadState(d)
			admin, _ := adminConfig(files{dir: d}, st.Ports.APIServers[0])
			out, err := get(context.Background(), admin, st.Ports.APIServers[0], seededReadyz+"&verbose")
			t.Logf("readyz: %s %v", out, err)
			out, err = get(context.Background(), admin, st.Ports.APIServers[0], "/readyz?verbose")
			t.Logf("readyz: %s %v", out, err)
		}
	})
	second, _ := start("second")
	f2 := files{dir: e.dir(second)}
	if data, err := os.ReadFile(f2.seededMarker()); err != nil || strings.TrimSpace(string(data)) != id {
		t.Fatalf("the second cluster was not seeded: %q, %v", data, err)
	}
	cs1, cs2 := e.client(first), e.client(second)
	for _, name := range []string{"cluster-admin", "system:basic-user", "system:kube-controller-manager"} {
		r1, err := cs1.RbacV1().ClusterRoles().Get(e.ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r2, err := cs2.RbacV1().ClusterRoles().Get(e.ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r1.UID == r2.UID {
			t.Errorf("clusterrole %s has the same UID %s in both clusters", name, r1.UID)
		}
		if !equality.Semantic.DeepEqual(r1.Rules, r2.Rules) {
			t.Errorf("clusterrole %s differs between the bootstrapped and the seeded cluster", name)
		}
		if time.Since(r2.CreationTimestamp.Time) > 5*time.Minute {
			t.Errorf("clusterrole %s of the seeded cluster was created at %s, the seed's time", name, r2.CreationTimestamp)
		}
	}
	pcs, err := cs2.SchedulingV1().PriorityClasses().Get(e.ctx, "system-node-critical", metav1.GetOptions{})
	if err != nil || pcs.Value != 2000001000 {
		t.Errorf("priority class system-node-critical in the seeded cluster: %+v, %v", pcs, err)
	}
	// The hooks it skipped readiness for finish too: nothing they wanted
	// to write was missing.
	st, err := loadState(f2.dir)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := adminConfig(f2, st.Ports.APIServers[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(e.ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := get(ctx, admin, st.Ports.APIServers[0], "/readyz")
		return err == nil, nil
	}); err != nil {
		t.Fatalf("the seeded kube-apiserver never passed the full /readyz: %v", err)
	}
}

func (e *env) dir(c provider.ClusterRef) string {
	e.t.Helper()
	d, err := e.p.clusterDir(c)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}
