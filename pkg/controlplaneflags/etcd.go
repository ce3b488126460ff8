package controlplaneflags

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
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
		// A starting member waits out a randomized election timeout before
		// it elects itself (etcd fast-forwards the ticks it can, which
		// still leaves 0.1–1 s with the defaults), and every client, the
		// kube-apiserver first, waits with it. With no peers the timings
		// guard nothing else: no follower can miss a heartbeat, no leader
		// can be lost. 25 ms ticks and a 125 ms timeout (etcd's least
		// ratio, 5) make that wait 25–125 ms. Each tick wakes the member
		// up: an idle one uses 1.3 % of a core instead of 0.6 %, and
		// shorter ticks would cost more for little less wait.
		"--heartbeat-interval=" + strconv.Itoa(singleMemberHeartbeatMillis),
		"--election-timeout=" + strconv.Itoa(singleMemberElectionMillis),
	}
}

// The raft timings of a single member (Etcd.Flags).
const (
	singleMemberHeartbeatMillis = 25
	singleMemberElectionMillis  = 5 * singleMemberHeartbeatMillis
)

// EtcdMember is one member of an etcd cluster that serves TLS to clients and
// peers and verifies both by client certificates, such as a member of a
// tenant's etcd StatefulSet. Values may hold $(VAR) references the container
// runtime expands (the member's own name, say).
type EtcdMember struct {
	// Name names the member; it must be the name InitialCluster gives it.
	Name string
	// DataDir keeps the data across restarts.
	DataDir string
	// ListenClientURL, ListenPeerURL and ListenMetricsURL are where the
	// member listens (https://0.0.0.0:2379, https://0.0.0.0:2380,
	// http://0.0.0.0:2381).
	ListenClientURL, ListenPeerURL, ListenMetricsURL string
	// AdvertiseClientURL and AdvertisePeerURL are the member's stable names.
	AdvertiseClientURL, AdvertisePeerURL string
	// InitialCluster is every member as name=peerURL; it is read only when
	// the data directory is empty (the first start of a new cluster).
	InitialCluster []string
	// InitialClusterToken tells clusters apart that share member names.
	InitialClusterToken string
	// Client and Peer are the TLS material of the two listeners.
	Client, Peer EtcdTLS
}

// EtcdTLS is one listener's certificate, key and the CA that its clients'
// certificates must chain to.
type EtcdTLS struct {
	CertFile, KeyFile, TrustedCAFile string
}

// Validate reports the fields that are missing.
func (m EtcdMember) Validate() error {
	var errs []error
	for _, f := range []struct{ name, value string }{
		{"Name", m.Name}, {"DataDir", m.DataDir}, {"ListenClientURL", m.ListenClientURL}, {"ListenPeerURL", m.ListenPeerURL},
		{"AdvertiseClientURL", m.AdvertiseClientURL}, {"AdvertisePeerURL", m.AdvertisePeerURL},
		{"InitialClusterToken", m.InitialClusterToken},
		{"Client.CertFile", m.Client.CertFile}, {"Client.KeyFile", m.Client.KeyFile}, {"Client.TrustedCAFile", m.Client.TrustedCAFile},
		{"Peer.CertFile", m.Peer.CertFile}, {"Peer.KeyFile", m.Peer.KeyFile}, {"Peer.TrustedCAFile", m.Peer.TrustedCAFile},
	} {
		if f.value == "" {
			errs = append(errs, fmt.Errorf("etcd member flags: %s is required", f.name))
		}
	}
	if len(m.InitialCluster) == 0 {
		errs = append(errs, fmt.Errorf("etcd member flags: InitialCluster is required"))
	}
	return errors.Join(errs...)
}

// Flags returns the command line of m, in a fixed order. Clients and peers
// must present certificates signed by the trusted CAs: nothing else may
// read a tenant's data.
func (m EtcdMember) Flags() []string {
	args := []string{
		"--name=" + m.Name,
		"--data-dir=" + m.DataDir,
		"--listen-client-urls=" + m.ListenClientURL,
		"--advertise-client-urls=" + m.AdvertiseClientURL,
		"--listen-peer-urls=" + m.ListenPeerURL,
		"--initial-advertise-peer-urls=" + m.AdvertisePeerURL,
		"--initial-cluster=" + strings.Join(m.InitialCluster, ","),
		"--initial-cluster-token=" + m.InitialClusterToken,
		"--initial-cluster-state=new",
		"--cert-file=" + m.Client.CertFile,
		"--key-file=" + m.Client.KeyFile,
		"--trusted-ca-file=" + m.Client.TrustedCAFile,
		"--client-cert-auth=true",
		"--peer-cert-file=" + m.Peer.CertFile,
		"--peer-key-file=" + m.Peer.KeyFile,
		"--peer-trusted-ca-file=" + m.Peer.TrustedCAFile,
		"--peer-client-cert-auth=true",
	}
	if m.ListenMetricsURL != "" {
		// Health and metrics on a plain listener of their own, so that
		// probes need no client certificate.
		args = append(args, "--listen-metrics-urls="+m.ListenMetricsURL)
	}
	return args
}
