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
