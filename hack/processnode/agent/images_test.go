package agent

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestResolveBinary(t *testing.T) {
	bin := t.TempDir()
	for _, f := range []string{"etcd", "v1.37/kube-apiserver", "v1.36/kube-scheduler"} {
		p := filepath.Join(bin, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		image   string
		command []string
		want    string
		notRun  bool
		fails   bool
	}{
		{image: "registry.k8s.io/kube-apiserver:v1.37.2", command: []string{"kube-apiserver"}, want: "v1.37/kube-apiserver"},
		{image: "registry.k8s.io/kube-scheduler:v1.36.3", command: []string{"/usr/local/bin/kube-scheduler"}, want: "v1.36/kube-scheduler"},
		{image: "registry.k8s.io/etcd:3.7.0-0", command: []string{"etcd"}, want: "etcd"},
		{image: "registry.k8s.io/kube-apiserver:v1.35.0", command: []string{"kube-apiserver"}, fails: true}, // no binary of that minor
		{image: "registry.k8s.io/etcd:3.7.0-0", command: []string{"etcdctl"}, fails: true},                  // not the component
		{image: "registry.k8s.io/kube-apiserver:v1.37.2", fails: true},                                      // no command
		{image: "quay.io/kubevirt/kubevirt-csi-driver:v0.1", command: []string{"x"}, notRun: true},
		{image: "registry.k8s.io/pause:3.10", command: []string{"pause"}, notRun: true},
		{image: "registry.k8s.io/etcd", command: []string{"etcd"}, notRun: true},
	} {
		got, err := ResolveBinary(bin, tc.image, tc.command)
		var na ErrNotAllowed
		switch {
		case tc.notRun:
			if !errors.As(err, &na) {
				t.Errorf("%s: want not allowed, got %q, %v", tc.image, got, err)
			}
		case tc.fails:
			if err == nil || errors.As(err, &na) {
				t.Errorf("%s %v: want an error, got %q, %v", tc.image, tc.command, got, err)
			}
		case err != nil || got != filepath.Join(bin, tc.want):
			t.Errorf("%s: got %q, %v; want %s", tc.image, got, err, tc.want)
		}
	}
}
