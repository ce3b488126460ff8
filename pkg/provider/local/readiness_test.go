package local

import (
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

// TestReadinessWatchNotifies checks that a watch over a starting replica
// calls the notifier once the replica's /readyz answers, and ends then.
func TestReadinessWatchNotifies(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || calls.Add(1) < 3 {
			http.Error(w, "not ready", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	admin := &rest.Config{TLSClientConfig: rest.TLSClientConfig{
		CAData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}),
	}}
	// The replica's record names this test process: alive throughout.
	info, ok := readProc(os.Getpid())
	if !ok {
		t.Fatal("cannot read our own /proc entry")
	}
	rec := procRecord{Name: apiserverProc(0), PID: os.Getpid(), StartTime: info.startTime, Exe: info.exe}

	p := &Provider{}
	notified := make(chan provider.ClusterRef, 4)
	p.NotifyChanges(func(c provider.ClusterRef) { notified <- c })
	c := provider.ClusterRef{Namespace: "ns", Name: "c", UID: "u"}
	p.watchReadiness(c, "/state/ns/c", admin, []int{port}, map[int]procRecord{0: rec})
	// A second round while the first watch runs starts no other.
	p.watchReadiness(c, "/state/ns/c", admin, []int{port}, map[int]procRecord{0: rec})

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
	select {
	case got := <-notified:
		t.Fatalf("a second notification for %v: two watches ran", got)
	default:
	}
}
