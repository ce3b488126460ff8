package controlplaneflags

import (
	"errors"
	"fmt"
)

// Etcd is the single-member etcd that hikube runs itself (under the host
// kube-apiserver of the local platform and under each local-provider tenant),
// serving plain HTTP on ClientURL and PeerURL: loopback only, where nothing
// else can reach it.
type Etcd struct {
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
func (m Etcd) Validate() error {
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
func (m Etcd) Flags() []string {
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
