package controlplaneflags

import (
	"slices"
	"strings"
	"testing"
)

func TestEtcdFlagsOfASingleMember(t *testing.T) {
	m := Etcd{Name: "tenant", DataDir: "/c/etcd", ClientURL: "http://127.0.0.1:2379", PeerURL: "http://127.0.0.1:2380"}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"--name=tenant",
		"--data-dir=/c/etcd",
		"--listen-client-urls=http://127.0.0.1:2379",
		"--advertise-client-urls=http://127.0.0.1:2379",
		"--listen-peer-urls=http://127.0.0.1:2380",
		"--initial-advertise-peer-urls=http://127.0.0.1:2380",
		"--initial-cluster=tenant=http://127.0.0.1:2380",
		"--listen-metrics-urls=",
		"--heartbeat-interval=25",
		"--election-timeout=125",
	}
	if got := m.Flags(); !slices.Equal(got, want) {
		t.Errorf("flags:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestEtcdValidateNamesWhatIsMissing(t *testing.T) {
	err := Etcd{Name: "x"}.Validate()
	if err == nil {
		t.Fatal("an incomplete member is valid")
	}
	for _, want := range []string{"DataDir", "ClientURL", "PeerURL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "Name is") {
		t.Errorf("error %q names the Name that is set", err)
	}
}

func TestEtcdMemberFlagsRequireClientAndPeerCertificates(t *testing.T) {
	m := EtcdMember{
		Name: "$(POD_NAME)", DataDir: "/var/lib/etcd/data",
		ListenClientURL: "https://0.0.0.0:2379", ListenPeerURL: "https://0.0.0.0:2380", ListenMetricsURL: "http://0.0.0.0:2381",
		AdvertiseClientURL: "https://$(POD_NAME).e.ns.svc:2379", AdvertisePeerURL: "https://$(POD_NAME).e.ns.svc:2380",
		InitialCluster:      []string{"e-0=https://e-0.e.ns.svc:2380", "e-1=https://e-1.e.ns.svc:2380"},
		InitialClusterToken: "tok",
		Client:              EtcdTLS{CertFile: "/p/server.crt", KeyFile: "/p/server.key", TrustedCAFile: "/p/ca.crt"},
		Peer:                EtcdTLS{CertFile: "/p/peer.crt", KeyFile: "/p/peer.key", TrustedCAFile: "/p/ca.crt"},
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	got := m.Flags()
	for _, want := range []string{
		"--initial-cluster=e-0=https://e-0.e.ns.svc:2380,e-1=https://e-1.e.ns.svc:2380",
		"--client-cert-auth=true", "--peer-client-cert-auth=true", "--listen-metrics-urls=http://0.0.0.0:2381",
		"--advertise-client-urls=https://$(POD_NAME).e.ns.svc:2379",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %s in %v", want, got)
		}
	}
	err := EtcdMember{Name: "x"}.Validate()
	if err == nil || !strings.Contains(err.Error(), "Peer.TrustedCAFile") || !strings.Contains(err.Error(), "InitialCluster is") {
		t.Errorf("Validate of an incomplete member = %v", err)
	}
}
