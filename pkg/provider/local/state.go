package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hikube/hikube/pkg/portalloc"
)

// state is what a cluster directory remembers between calls and controller
// restarts (state.json). Process records live in run/*.json.
type state struct {
	UID   string `json:"uid,omitempty"`
	Ports Ports  `json:"ports"`
	// Minor is the minor the whole control plane runs once an upgrade has
	// finished; during an upgrade the records tell which process runs what.
	Minor string `json:"minor,omitempty"`
	// Restarting says which process died and when; it stays until the
	// control plane is Ready again, so the condition tells what happened in
	// between.
	Restarting string `json:"restarting,omitempty"`
	// EtcdUnformed says etcd was started on a new data directory and has
	// not been seen serving yet (etcdbootstrap.go).
	EtcdUnformed bool `json:"etcdUnformed,omitempty"`
}

// Ports are the loopback ports of a cluster, chosen once and kept, so that
// the endpoint and the kubeconfigs stay valid across restarts.
type Ports struct {
	EtcdClient int   `json:"etcdClient"`
	EtcdPeer   int   `json:"etcdPeer"`
	APIServers []int `json:"apiServers"`
}

func statePath(dir string) string { return filepath.Join(dir, "state.json") }

func loadState(dir string) (state, error) {
	var st state
	data, err := os.ReadFile(statePath(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("reading cluster state: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		// A corrupt state only costs new ports; data stays in etcd's dir.
		return state{}, nil
	}
	return st, nil
}

func saveState(dir string, st state) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	// Called on every round; an unchanged state is not rewritten.
	if err := writeIfChanged(statePath(dir), data, 0o600); err != nil {
		return fmt.Errorf("writing cluster state: %w", err)
	}
	return nil
}

// ensurePorts gives every etcd and apiserver replica a port: it keeps the
// persisted ones that are either used by our own live process (inUse) or
// free, and picks new ones for the rest; duplicates are replaced. It reports
// whether anything changed.
func ensurePorts(p *Ports, replicas int, inUse map[int]bool) (bool, error) {
	changed := false
	if len(p.APIServers) > replicas {
		p.APIServers = p.APIServers[:replicas]
		changed = true
	}
	for len(p.APIServers) < replicas {
		p.APIServers = append(p.APIServers, 0)
	}
	fields := []*int{&p.EtcdClient, &p.EtcdPeer}
	for i := range p.APIServers {
		fields = append(fields, &p.APIServers[i])
	}
	settled, err := portalloc.Settle(fields, func(port int) bool { return inUse[port] })
	return changed || settled, err
}
