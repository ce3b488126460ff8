package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/pkg/clusterpki"
	"github.com/hikube/hikube/pkg/provider"
)

// killAtFirstWAL SIGKILLs the cluster's etcd the instant its WAL directory
// appears: after etcd created its WAL, before it wrote its first membership
// (what a crash in an etcd's first second does). It reports the pid it
// killed, or an error once ctx ends.
func killAtFirstWAL(ctx context.Context, dir string) <-chan error {
	done := make(chan error, 1)
	go func() {
		pid := 0
		for pid == 0 {
			if ctx.Err() != nil {
				done <- fmt.Errorf("etcd was never started: %w", ctx.Err())
				return
			}
			if recs, err := readRecords(dir); err == nil {
				pid = recs[procEtcd].PID
			}
		}
		wal := filepath.Join(dir, "etcd", "member", "wal")
		for {
			if ctx.Err() != nil {
				done <- fmt.Errorf("etcd (pid %d) never created %s: %w", pid, wal, ctx.Err())
				return
			}
			if _, err := os.Stat(wal); err == nil {
				done <- syscall.Kill(pid, syscall.SIGKILL)
				return
			}
		}
	}()
	return done
}

// TestANewEtcdKilledInItsFirstStartIsMadeAfresh reproduces etcd-io/etcd#2877
// with the real binaries: a new cluster's etcd SIGKILLed as soon as its WAL
// exists comes back without voters and never elects a leader; the provider
// removes its data directory past the bound and the cluster becomes Ready.
func TestANewEtcdKilledInItsFirstStartIsMadeAfresh(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real control planes")
	}
	e := newEnv(t)
	p, err := New(Options{StateDir: e.state, BinDir: e.bin, Log: e.log, EtcdBootstrapTimeout: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.p = p
	// The kill races etcd's first steps on a loaded machine: an attempt
	// whose kill came after etcd wrote its membership becomes Ready
	// without the defect, and the next one tries again.
	var c provider.ClusterRef
	var dir string
	for attempt := 1; ; attempt++ {
		c = provider.ClusterRef{Namespace: "tenant-a", Name: fmt.Sprintf("first-second-%d", attempt), UID: fmt.Sprintf("u-first-second-%d", attempt)}
		if reproduced, d := firstSecondKill(t, e, c); reproduced {
			dir = d
			break
		}
		if attempt == 3 {
			t.Fatal("in 3 attempts, no kill came between etcd's WAL and its first membership: the defect was not reproduced")
		}
		t.Logf("attempt %d: the kill came after etcd wrote its membership; trying again", attempt)
		if _, err := e.p.Delete(e.ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	st, err := loadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.EtcdUnformed {
		t.Error("the state still says etcd never formed once the cluster is Ready")
	}
	// The tenant API serves on the fresh etcd.
	if _, err := e.client(c).CoreV1().Namespaces().List(e.ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("listing namespaces of the tenant: %v", err)
	}
}

// firstSecondKill makes cluster c with its etcd killed at its first WAL and
// waits for it to become Ready. It reports whether the provider made etcd
// afresh on the way (the kill reproduced the defect), and c's directory.
func firstSecondKill(t *testing.T, e *env, c provider.ClusterRef) (bool, string) {
	pkiData, err := clusterpki.Generate(c)
	if err != nil {
		t.Fatal(err)
	}
	spec := provider.ControlPlaneSpec{Minor: "v1.37", Replicas: 1, PKI: pkiData}
	dir := filepath.Join(e.state, c.Namespace, c.Name)
	ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
	defer cancel()
	killed := killAtFirstWAL(ctx, dir)
	e.ensure(c, spec)
	if err := <-killed; err != nil {
		t.Fatalf("killing etcd at its first WAL: %v", err)
	}
	var remade bool
	e.ensureUntil(c, spec, 4*time.Minute, "Ready after etcd was killed in its first start", func(s provider.ControlPlaneStatus) bool {
		if strings.Contains(s.Message, "etcd never elected a leader") && strings.Contains(s.Message, "data directory was removed") {
			remade = true
		}
		return s.Ready
	})
	return remade, dir
}
