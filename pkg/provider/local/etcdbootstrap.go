package local

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/hikube/hikube/pkg/process"
)

// A new etcd cut short in its very first start (SIGKILLed, or stopped as a
// stray of a controller that died while starting it) after it created its
// WAL and before it wrote its first membership comes back without voters
// and never elects a leader (etcd-io/etcd#2877); restarting it changes
// nothing. The state remembers that the cluster's etcd was started on an
// empty directory and has not formed yet; while so, an etcd that has run
// for EtcdBootstrapTimeout without answering /health is stopped and its data
// directory removed, and the round starts it afresh. There is no data to
// lose: neither etcd nor any apiserver has ever been seen serving.

// DefaultEtcdBootstrapTimeout is Options.EtcdBootstrapTimeout when unset: a
// new etcd answers within seconds, a minute even on a loaded machine.
const DefaultEtcdBootstrapTimeout = 60 * time.Second

// markEtcdUnformed notes, before etcd is first started, that its data
// directory is new. A directory that exists (a cluster made by an earlier
// hikube) is never marked, so never wiped.
func markEtcdUnformed(st *state, f files, etcdLive bool) error {
	if etcdLive || st.EtcdUnformed {
		return nil
	}
	_, err := os.Stat(f.etcdData())
	switch {
	case os.IsNotExist(err):
		st.EtcdUnformed = true
		return nil
	case err != nil:
		return fmt.Errorf("looking at etcd's data directory: %w", err)
	}
	return nil
}

// rebootstrapEtcd clears EtcdUnformed once etcd or an apiserver serves, and
// otherwise wipes an etcd that has run past the bound without a leader.
func (r *round) rebootstrapEtcd(ctx context.Context) error {
	if !r.st.EtcdUnformed {
		return nil
	}
	if len(r.obs.ready) > 0 || etcdHealthy(ctx, r.st.Ports.EtcdClient) {
		r.st.EtcdUnformed = false
		return nil
	}
	rec, ok := r.obs.recs[procEtcd]
	timeout := r.p.o.EtcdBootstrapTimeout
	if timeout <= 0 {
		timeout = DefaultEtcdBootstrapTimeout
	}
	if !ok || !r.obs.live[procEtcd] || time.Since(rec.StartedAt) < timeout {
		return nil
	}
	r.log.Info("Re-bootstrapping an etcd that never formed: it has run without a leader past the bound",
		"pid", rec.PID, "timeout", timeout, "dataDir", r.f.etcdData())
	if err := rec.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	if !process.WaitExited(replaceGrace, rec) {
		return fmt.Errorf("etcd (pid %d) did not end after SIGKILL", rec.PID)
	}
	r.p.exits.take(rec.PID)
	if err := removeRecord(r.dir, procEtcd); err != nil {
		return err
	}
	delete(r.obs.recs, procEtcd)
	r.obs.live[procEtcd] = false
	if err := os.Remove(r.f.seededMarker()); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("removing the seed marker: %w", err)
	}
	if err := os.RemoveAll(r.f.etcdData()); err != nil {
		return fmt.Errorf("removing etcd's data directory: %w", err)
	}
	r.deaths = append(r.deaths, fmt.Sprintf("etcd never elected a leader within %s of its start (a first start cut short leaves it without members); its data directory was removed", timeout))
	return nil
}

// etcdHealthy says the etcd on port answers /health with a leader.
func etcdHealthy(ctx context.Context, port int) bool {
	if port == 0 {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(port)+"/health", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer func() { _ = resp.Body.Close() }()
	var h struct {
		Health string `json:"health"`
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return err == nil && resp.StatusCode == http.StatusOK && json.Unmarshal(body, &h) == nil && h.Health == "true"
}
