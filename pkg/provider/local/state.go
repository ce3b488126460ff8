package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
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

// portFree reports whether port can be bound on loopback now.
type portFree func(port int) bool

func loopbackFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// pickPort returns a free loopback port that is not in taken.
func pickPort(taken map[int]bool) (int, error) {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("choosing a free loopback port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !taken[port] {
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free loopback port found")
}

// ensurePorts gives every etcd and apiserver replica a port: it keeps the
// persisted ones that are either used by our own live process (inUse) or
// free, and picks new ones for the rest; duplicates are replaced. It reports
// whether anything changed.
func ensurePorts(p *Ports, replicas int, inUse map[int]bool, free portFree) (bool, error) {
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
	taken := map[int]bool{}
	for _, f := range fields {
		if *f > 0 && !taken[*f] && (inUse[*f] || free(*f)) {
			taken[*f] = true
			continue
		}
		port, err := pickPort(taken)
		if err != nil {
			return changed, err
		}
		*f = port
		taken[port] = true
		changed = true
	}
	return changed, nil
}
