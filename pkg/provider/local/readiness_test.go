package local

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/hikube/hikube/pkg/provider"
)

// readyzServer serves /readyz with ready deciding each answer, on a TLS
// port that admin trusts; probes counts the requests.
func readyzServer(t *testing.T, ready func(n int32) bool) (port int, admin *rest.Config, probes *atomic.Int32) {
	t.Helper()
	probes = &atomic.Int32{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := probes.Add(1)
		if r.URL.Path != "/readyz" || !ready(n) {
			http.Error(w, "not ready", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if port, err = strconv.Atoi(u.Port()); err != nil {
		t.Fatal(err)
	}
	admin = &rest.Config{TLSClientConfig: rest.TLSClientConfig{
		CAData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}),
	}}
	return port, admin, probes
}

// ownRecord is a replica record that names this test process: alive
// throughout.
func ownRecord(t *testing.T) procRecord {
	t.Helper()
	info, ok := readProc(os.Getpid())
	if !ok {
		t.Fatal("cannot read our own /proc entry")
	}
	return procRecord{Name: apiserverProc(0), PID: os.Getpid(), StartTime: info.startTime, Exe: info.exe}
}

// TestReadinessWatchNotifies checks that a watch over a starting replica
// calls the notifier once the replica's /readyz answers, and ends then;
// while it waits, the replica is awaited (rounds leave it to the watch).
func TestReadinessWatchNotifies(t *testing.T) {
	release := make(chan struct{})
	port, admin, calls := readyzServer(t, func(n int32) bool {
		select {
		case <-release:
			return n >= 3
		default:
			return false
		}
	})
	rec := ownRecord(t)

	p := &Provider{}
	notified := make(chan provider.ClusterRef, 4)
	p.NotifyChanges(func(c provider.ClusterRef) { notified <- c })
	c := provider.ClusterRef{Namespace: "ns", Name: "c", UID: "u"}
	dir := "/state/ns/c"
	p.watchReadiness(c, dir, admin, []int{port}, map[int]procRecord{0: rec})
	// A second round while the first watch runs starts no other.
	p.watchReadiness(c, dir, admin, []int{port}, map[int]procRecord{0: rec})
	if got := p.awaited(dir); got[0].PID != rec.PID || len(got) != 1 {
		t.Fatalf("awaited while the watch waits: %v, want replica 0 of pid %d", got, rec.PID)
	}
	close(release)

	select {
	case got := <-notified:
		if got != c {
			t.Fatalf("notified for %v, want %v", got, c)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no notification after /readyz answered")
	}
	if n := calls.Load(); n < 3 {
		t.Fatalf("notified after %d probes, before /readyz answered", n)
	}
	// The watch ends once nothing is pending.
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.watches.mu.Lock()
		running := len(p.watches.running)
		p.watches.mu.Unlock()
		if running == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the readiness watch still runs after its replica answered")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := p.awaited(dir); len(got) != 0 {
		t.Fatalf("awaited after the watch ended: %v", got)
	}
	select {
	case got := <-notified:
		t.Fatalf("a second notification for %v: two watches ran", got)
	default:
	}
}

// TestProbeReadyLeavesAwaitedReplicasToTheWatch checks that a round does
// not probe a replica that a watch awaits in the same process, and does
// probe it once another process serves as that replica.
func TestProbeReadyLeavesAwaitedReplicasToTheWatch(t *testing.T) {
	port, admin, probes := readyzServer(t, func(int32) bool { return true })
	rec := ownRecord(t)
	name := apiserverProc(0)
	obs := observed{recs: map[string]procRecord{name: rec}, live: map[string]bool{name: true}}
	f := files{dir: t.TempDir()}
	ctx := context.Background()

	if ready := probeReady(ctx, admin, []int{port}, obs, f, map[int]procRecord{0: rec}); ready[0] || probes.Load() != 0 {
		t.Fatalf("an awaited replica: ready %v after %d probes, want not ready and no probe", ready, probes.Load())
	}
	replaced := rec
	replaced.StartTime++ // the watch waits on an earlier process of that replica
	if ready := probeReady(ctx, admin, []int{port}, obs, f, map[int]procRecord{0: replaced}); !ready[0] || probes.Load() != 1 {
		t.Fatalf("a replica awaited in another process: ready %v after %d probes, want ready after one", ready, probes.Load())
	}
	if ready := probeReady(ctx, admin, []int{port}, obs, f, nil); !ready[0] {
		t.Fatalf("nothing awaited: ready %v", ready)
	}
}
