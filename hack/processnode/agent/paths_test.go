package agent

import "testing"

func TestPathRewriter(t *testing.T) {
	r := NewPathRewriter([]Mount{
		{ContainerPath: "/etc/kubernetes", HostPath: "/h/vol/config"},
		{ContainerPath: "/etc/kubernetes/pki/", HostPath: "/h/vol/pki/"},
		{ContainerPath: "/var/lib/etcd", HostPath: "/h/pv"},
		{ContainerPath: "/", HostPath: "/never"},
	})
	for _, tc := range []struct{ in, want string }{
		// Longest mount path first.
		{"--tls-cert-file=/etc/kubernetes/pki/apiserver.crt", "--tls-cert-file=/h/vol/pki/apiserver.crt"},
		{"--kubeconfig=/etc/kubernetes/admin.conf", "--kubeconfig=/h/vol/config/admin.conf"},
		{"/etc/kubernetes/pki", "/h/vol/pki"},
		{"--data-dir=/var/lib/etcd", "--data-dir=/h/pv"},
		// Lists and several paths in one value.
		{"--files=/etc/kubernetes/a,/var/lib/etcd/b", "--files=/h/vol/config/a,/h/pv/b"},
		{"x:/var/lib/etcd/wal", "x:/h/pv/wal"},
		// Not a path of its own: a longer name, or inside another path.
		{"/var/lib/etcd2/x", "/var/lib/etcd2/x"},
		{"/srv/var/lib/etcd", "/srv/var/lib/etcd"},
		{"/etc/kubernetes-other", "/etc/kubernetes-other"},
		// The root is never rewritten.
		{"/usr/bin/env", "/usr/bin/env"},
		{"no paths", "no paths"},
	} {
		if got := r.Rewrite(tc.in); got != tc.want {
			t.Errorf("Rewrite(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
