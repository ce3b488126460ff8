package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func fixturePod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "etcd-0", Namespace: "cp", UID: "u1", Labels: map[string]string{"app": "etcd", "b": "2"}},
		Spec:       corev1.PodSpec{NodeName: "process-geneva", ServiceAccountName: "sa"},
	}
}

func fixtureClient() *fake.Clientset {
	return fake.NewClientset(
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "pki", Namespace: "cp"}, Data: map[string][]byte{"ca.crt": []byte("CA"), "tls.key": []byte("KEY"), "token": []byte("t0k")}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "conf", Namespace: "cp"}, Data: map[string]string{"level": "2", "cfg.yaml": "a: 1"}},
	)
}

func TestEnv(t *testing.T) {
	pod := fixturePod()
	c := &corev1.Container{
		Name:    "etcd",
		EnvFrom: []corev1.EnvFromSource{{Prefix: "CM_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "conf"}}}},
		Env: []corev1.EnvVar{
			{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "NS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
			{Name: "APP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
			{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "pki"}, Key: "token"}}},
			{Name: "LEVEL", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "conf"}, Key: "level"}}},
			{Name: "OPT", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "missing"}, Key: "x", Optional: ptr.To(true)}}},
			{Name: "PEER", Value: "http://$(POD_NAME).etcd.$(NS).svc:2380"},
			{Name: "LATER", Value: "$(DEFINED_AFTER)"},
			{Name: "DEFINED_AFTER", Value: "x"},
		},
	}
	vars, err := Env(context.Background(), fixtureClient(), pod, c, "10.1.1.2", "10.1.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vars {
		got = append(got, v.Name+"="+v.Value)
	}
	want := "CM_cfg.yaml=a: 1,CM_level=2,POD_IP=10.1.1.2,POD_NAME=etcd-0,NS=cp,APP=etcd,TOKEN=t0k,LEVEL=2," +
		"PEER=http://etcd-0.etcd.cp.svc:2380,LATER=$(DEFINED_AFTER),DEFINED_AFTER=x"
	if strings.Join(got, ",") != want {
		t.Fatalf("env:\n%s\nwant:\n%s", strings.Join(got, ","), want)
	}

	// A missing key that is not optional is an error (the kubelet's CreateContainerConfigError).
	c.Env = []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "pki"}, Key: "nope"}}}}
	if _, err := Env(context.Background(), fixtureClient(), pod, c, "", ""); err == nil {
		t.Fatal("want an error for a missing secret key")
	}
}

func TestVolumes(t *testing.T) {
	pod := fixturePod()
	pod.Spec.Volumes = []corev1.Volume{
		{Name: "pki", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "pki", DefaultMode: ptr.To[int32](0o600),
			Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca/ca.crt", Mode: ptr.To[int32](0o644)}, {Key: "tls.key", Path: "tls.key"}}}}},
		{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "conf"}}}},
		{Name: "info", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
			{Path: "ip", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}},
		}}}},
		{Name: "all", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "pki"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "conf"}, Items: []corev1.KeyToPath{{Key: "level", Path: "level"}}}},
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Optional: ptr.To(true)}},
		}}}},
		{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	dir := t.TempDir()
	vols, err := Volumes(context.Background(), fixtureClient(), pod, dir, "10.1.1.2", "10.1.0.1")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]struct {
		content string
		mode    os.FileMode
	}{
		"pki/ca/ca.crt": {"CA", 0o644},
		"pki/tls.key":   {"KEY", 0o600},
		"conf/cfg.yaml": {"a: 1", 0o644},
		"conf/level":    {"2", 0o644},
		"info/labels":   {"app=\"etcd\"\nb=\"2\"\n", 0o644},
		"info/ip":       {"10.1.1.2", 0o644},
		"all/ca.crt":    {"CA", 0o644},
		"all/level":     {"2", 0o644},
	}
	for rel, want := range files {
		path := filepath.Join(dir, "volumes", rel)
		data, err := os.ReadFile(path)
		if err != nil || string(data) != want.content {
			t.Errorf("%s: %q, %v; want %q", rel, data, err, want.content)
			continue
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != want.mode {
			t.Errorf("%s: mode %o, want %o", rel, fi.Mode().Perm(), want.mode)
		}
	}
	if fi, err := os.Stat(vols["scratch"]); err != nil || !fi.IsDir() {
		t.Errorf("emptyDir: %v", err)
	}
	c := &corev1.Container{VolumeMounts: []corev1.VolumeMount{{Name: "pki", MountPath: "/etc/kubernetes/pki"}, {Name: "conf", MountPath: "/etc/cfg.yaml", SubPath: "cfg.yaml"}}}
	ms, err := ContainerMounts(c, vols)
	if err != nil {
		t.Fatal(err)
	}
	r := NewPathRewriter(ms)
	if got := r.Rewrite("--config=/etc/cfg.yaml --ca=/etc/kubernetes/pki/ca/ca.crt"); got != "--config="+filepath.Join(dir, "volumes/conf/cfg.yaml")+" --ca="+filepath.Join(dir, "volumes/pki/ca/ca.crt") {
		t.Fatalf("rewritten: %s", got)
	}
	// A volume whose Secret is missing (not optional) is an error, retried by the caller.
	pod.Spec.Volumes = []corev1.Volume{{Name: "x", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "absent"}}}}
	if _, err := Volumes(context.Background(), fixtureClient(), pod, dir, "", ""); err == nil {
		t.Fatal("want an error for a missing secret")
	}
}
