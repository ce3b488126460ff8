// Package etcdflags builds the command line of the single-member etcd that
// hikube runs itself: under the host kube-apiserver of the local platform and
// under each local-provider tenant. Like kubeapiserverflags, the output is
// deterministic, because the local provider restarts a process whose command
// line changed.
package etcdflags

import (
	"errors"
	"fmt"
)

// Member is a single-member etcd cluster serving plain HTTP on ClientURL and
// PeerURL (loopback only: nothing else can reach it).
type Member struct {
	// Name names the member and its one-member initial cluster.
	Name string
	// DataDir keeps the data across restarts.
	DataDir string
	// ClientURL is listened on and advertised to clients, e.g.
	// http://127.0.0.1:2379.
	ClientURL string
	// PeerURL is listened on and advertised to peers (there are none, but
	// etcd needs one).
	PeerURL string
}

// Validate reports the fields that are missing.
func (m Member) Validate() error {
	var errs []error
	for _, f := range []struct{ name, value string }{
		{"Name", m.Name}, {"DataDir", m.DataDir}, {"ClientURL", m.ClientURL}, {"PeerURL", m.PeerURL},
	} {
		if f.value == "" {
			errs = append(errs, fmt.Errorf("etcd flags: %s is required", f.name))
		}
	}
	return errors.Join(errs...)
}

// Flags returns the command line of m, in a fixed order.
func (m Member) Flags() []string {
	return []string{
		"--name=" + m.Name,
		"--data-dir=" + m.DataDir,
		"--listen-client-urls=" + m.ClientURL,
		"--advertise-client-urls=" + m.ClientURL,
		"--listen-peer-urls=" + m.PeerURL,
		"--initial-advertise-peer-urls=" + m.PeerURL,
		"--initial-cluster=" + m.Name + "=" + m.PeerURL,
		// Metrics on the client URL only (etcd's default, spelled out): no
		// other port to allocate.
		"--listen-metrics-urls=",
	}
}
