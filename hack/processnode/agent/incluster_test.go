package agent

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

func TestEntrypoints(t *testing.T) {
	dir := t.TempDir()
	apiserver := filepath.Join(dir, "hikube-apiserver")
	if err := os.WriteFile(apiserver, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	e := Entrypoints{"ghcr.io/hikube/hikube-apiserver": apiserver, "ghcr.io/hikube/hikube-controller": filepath.Join(dir, "missing")}
	for _, tc := range []struct {
		image   string
		command []string
		want    []string
		fails   bool
	}{
		{image: "ghcr.io/hikube/hikube-apiserver:v0.1.0", want: []string{"hikube-apiserver"}},
		{image: "ghcr.io/hikube/hikube-apiserver@sha256:abcd", want: []string{"hikube-apiserver"}},
		{image: "ghcr.io/hikube/hikube-apiserver:v9", command: []string{"/hikube-apiserver", "--v=2"}, want: []string{"/hikube-apiserver", "--v=2"}},
		{image: "ghcr.io/hikube/hikube-apiserver:v9", command: []string{"sh"}, fails: true},
		{image: "ghcr.io/hikube/hikube-controller:v0.1.0", fails: true}, // no binary built
	} {
		bin, cmd, err := e.Resolve(dir, tc.image, tc.command)
		switch {
		case tc.fails:
			if err == nil {
				t.Errorf("%s %v: want an error, got %s %v", tc.image, tc.command, bin, cmd)
			}
		case err != nil || bin != apiserver || !reflect.DeepEqual(cmd, tc.want):
			t.Errorf("%s %v: got %s %v, %v; want %s %v", tc.image, tc.command, bin, cmd, err, apiserver, tc.want)
		}
	}
	// Images off the map still go through the upstream allow-list.
	if _, _, err := e.Resolve(dir, "ghcr.io/other/hikube-apiserver:v1", nil); err == nil {
		t.Error("an image of another repository ran")
	}
	for _, bad := range []string{"ghcr.io/hikube/x:v1=/bin/x", "ghcr.io/hikube/x", "=/bin/x", "ghcr.io/x@sha256:1=/bin/x"} {
		if _, _, err := ParseEntrypoint(bad); err == nil {
			t.Errorf("ParseEntrypoint(%q) accepted it", bad)
		}
	}
	if repo, bin, err := ParseEntrypoint("localhost:5000/hikube/hikube-controller=/b/c"); err != nil || repo != "localhost:5000/hikube/hikube-controller" || bin != "/b/c" {
		t.Errorf("ParseEntrypoint with a registry port: %q %q %v", repo, bin, err)
	}
}

func TestBindMounts(t *testing.T) {
	got := BindMounts([]Mount{
		{ContainerPath: "/var/run/secrets/kubernetes.io/serviceaccount", HostPath: "/p/volumes/kube-api-access"},
		{ContainerPath: "/run/secrets/x/", HostPath: "/p/volumes/x"},
		{ContainerPath: "/var/run/hikube/serving", HostPath: "/p/volumes/serving"},
		{ContainerPath: "/run/secretsnot", HostPath: "/p/volumes/y"},
	})
	want := []Mount{
		{ContainerPath: "/run/secrets/kubernetes.io/serviceaccount", HostPath: "/p/volumes/kube-api-access"},
		{ContainerPath: "/run/secrets/x", HostPath: "/p/volumes/x"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("BindMounts = %v, want %v", got, want)
	}
	if s, err := EncodeMounts(nil); err != nil || s != "[]" {
		t.Errorf("EncodeMounts(nil) = %q, %v", s, err)
	}
}

func TestKubeServiceEnv(t *testing.T) {
	s := &kubeService{ip: "10.96.0.1", port: 443}
	got := map[string]string{}
	for _, v := range s.Env() {
		got[v.Name] = v.Value
	}
	want := map[string]string{
		"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443", "KUBERNETES_SERVICE_PORT_HTTPS": "443",
		"KUBERNETES_PORT": "tcp://10.96.0.1:443", "KUBERNETES_PORT_443_TCP": "tcp://10.96.0.1:443",
		"KUBERNETES_PORT_443_TCP_PROTO": "tcp", "KUBERNETES_PORT_443_TCP_PORT": "443", "KUBERNETES_PORT_443_TCP_ADDR": "10.96.0.1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Env = %v, want %v", got, want)
	}
	var none *kubeService
	if none.Env() != nil {
		t.Error("no kubernetes Service, yet variables")
	}
}

func TestRefreshTokens(t *testing.T) {
	pod := fixturePod()
	pod.Spec.Volumes = []corev1.Volume{{Name: "kube-api-access", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3607)}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "conf"}, Items: []corev1.KeyToPath{{Key: "level", Path: "level"}}}},
		},
	}}}}
	if got := tokenTTL(pod); got != 3607*time.Second {
		t.Errorf("tokenTTL = %s", got)
	}
	cs := fixtureClient()
	issued := 0
	cs.PrependReactor("create", "serviceaccounts", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "token" {
			return false, nil, nil
		}
		issued++
		tr := a.(clienttesting.CreateAction).GetObject().(*authenticationv1.TokenRequest).DeepCopy()
		if ref := tr.Spec.BoundObjectRef; ref == nil || ref.Kind != "Pod" || ref.UID != pod.UID {
			t.Errorf("token not bound to the pod: %+v", ref)
		}
		tr.Status.Token = "token-" + string(rune('0'+issued))
		tr.Status.ExpirationTimestamp = metav1.NewTime(time.Now().Add(time.Hour))
		return true, tr, nil
	})
	dir := t.TempDir()
	if _, err := Volumes(context.Background(), cs, pod, dir, "", ""); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "volumes", "kube-api-access", "token")
	before, _ := os.ReadFile(path)
	next, err := RefreshTokens(context.Background(), cs, pod, dir)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != "token-1" || string(after) != "token-2" {
		t.Errorf("token before %q after %q, want token-1 then token-2", before, after)
	}
	// 80% of the hour the token lives.
	if d := time.Until(next); d < 47*time.Minute || d > 48*time.Minute {
		t.Errorf("next refresh in %s, want 48 minutes", d)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 2 {
		t.Errorf("volume holds %d files, want token and level (no temporary file left)", len(entries))
	}
	if tokenRefreshAfter(365*24*time.Hour) != tokenRefreshMax {
		t.Error("a long-lived token is not refreshed daily")
	}
}
