package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Volumes materialises the volumes of pod under dir/volumes/<name> (a
// PersistentVolumeClaim is its PersistentVolume's hostPath, a hostPath
// volume itself) and returns each volume's directory on this machine.
// Secret, ConfigMap, downward-API and projected files are (re)written on
// every call: the agent calls it when a container (re)starts.
func Volumes(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, dir, podIP, hostIP string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		path := filepath.Join(dir, "volumes", v.Name)
		var files map[string]file
		var err error
		switch s := v.VolumeSource; {
		case s.EmptyDir != nil:
		case s.Secret != nil:
			files, err = secretFiles(ctx, cs, pod.Namespace, s.Secret.SecretName, s.Secret.Items, s.Secret.Optional, s.Secret.DefaultMode)
		case s.ConfigMap != nil:
			files, err = configMapFiles(ctx, cs, pod.Namespace, s.ConfigMap.Name, s.ConfigMap.Items, s.ConfigMap.Optional, s.ConfigMap.DefaultMode)
		case s.DownwardAPI != nil:
			files, err = downwardFiles(pod, s.DownwardAPI.Items, s.DownwardAPI.DefaultMode, podIP, hostIP)
		case s.Projected != nil:
			files, err = projectedFiles(ctx, cs, pod, s.Projected, podIP, hostIP)
		case s.PersistentVolumeClaim != nil:
			path, err = claimPath(ctx, cs, pod.Namespace, s.PersistentVolumeClaim.ClaimName)
		case s.HostPath != nil:
			path = s.HostPath.Path
		default:
			err = fmt.Errorf("volume type not supported by the process node")
		}
		if err != nil {
			return nil, fmt.Errorf("volume %s: %w", v.Name, err)
		}
		if err := os.MkdirAll(path, 0o755); err != nil {
			return nil, fmt.Errorf("volume %s: %w", v.Name, err)
		}
		for rel, f := range files {
			if err := writeVolumeFile(path, rel, f); err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
		}
		out[v.Name] = path
	}
	return out, nil
}

// ContainerMounts are the container's volumeMounts as host paths (subPath
// included), for PathRewriter.
func ContainerMounts(c *corev1.Container, volumes map[string]string) ([]Mount, error) {
	var ms []Mount
	for _, vm := range c.VolumeMounts {
		host, ok := volumes[vm.Name]
		if !ok {
			return nil, fmt.Errorf("volumeMount %s: no such volume", vm.Name)
		}
		if vm.SubPath != "" {
			host = filepath.Join(host, vm.SubPath)
		}
		ms = append(ms, Mount{ContainerPath: vm.MountPath, HostPath: host})
	}
	return ms, nil
}

type file struct {
	data []byte
	mode os.FileMode
}

func mode(item, def *int32) os.FileMode {
	switch {
	case item != nil:
		return os.FileMode(*item)
	case def != nil:
		return os.FileMode(*def)
	}
	return 0o644
}

func keyFiles(data map[string][]byte, items []corev1.KeyToPath, optional bool, defMode *int32, what string) (map[string]file, error) {
	out := map[string]file{}
	if len(items) == 0 {
		for k, v := range data {
			out[k] = file{data: v, mode: mode(nil, defMode)}
		}
		return out, nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return nil, fmt.Errorf("%s has no key %s", what, it.Key)
		}
		out[it.Path] = file{data: v, mode: mode(it.Mode, defMode)}
	}
	return out, nil
}

func secretFiles(ctx context.Context, cs kubernetes.Interface, ns, name string, items []corev1.KeyToPath, optional *bool, defMode *int32) (map[string]file, error) {
	s, err := cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && ptrTrue(optional) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return keyFiles(s.Data, items, ptrTrue(optional), defMode, "secret "+name)
}

func configMapFiles(ctx context.Context, cs kubernetes.Interface, ns, name string, items []corev1.KeyToPath, optional *bool, defMode *int32) (map[string]file, error) {
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && ptrTrue(optional) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("configmap %s: %w", name, err)
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return keyFiles(data, items, ptrTrue(optional), defMode, "configmap "+name)
}

func downwardFiles(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile, defMode *int32, podIP, hostIP string) (map[string]file, error) {
	out := map[string]file{}
	for _, it := range items {
		var v string
		var err error
		switch {
		case it.FieldRef != nil:
			v, err = FieldValue(pod, it.FieldRef.FieldPath, podIP, hostIP)
		case it.ResourceFieldRef != nil:
			c := &corev1.Container{}
			if len(pod.Spec.Containers) > 0 {
				c = &pod.Spec.Containers[0]
			}
			v, err = resourceValue(pod, c, it.ResourceFieldRef)
		}
		if err != nil {
			return nil, fmt.Errorf("downwardAPI %s: %w", it.Path, err)
		}
		out[it.Path] = file{data: []byte(v), mode: mode(it.Mode, defMode)}
	}
	return out, nil
}

func projectedFiles(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, p *corev1.ProjectedVolumeSource, podIP, hostIP string) (map[string]file, error) {
	out := map[string]file{}
	merge := func(m map[string]file, err error) error {
		for k, v := range m {
			out[k] = v
		}
		return err
	}
	for _, src := range p.Sources {
		var err error
		switch {
		case src.Secret != nil:
			err = merge(secretFiles(ctx, cs, pod.Namespace, src.Secret.Name, src.Secret.Items, src.Secret.Optional, p.DefaultMode))
		case src.ConfigMap != nil:
			err = merge(configMapFiles(ctx, cs, pod.Namespace, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional, p.DefaultMode))
		case src.DownwardAPI != nil:
			err = merge(downwardFiles(pod, src.DownwardAPI.Items, p.DefaultMode, podIP, hostIP))
		case src.ServiceAccountToken != nil:
			err = merge(tokenFile(ctx, cs, pod, src.ServiceAccountToken, p.DefaultMode))
		default:
			err = fmt.Errorf("projected source not supported by the process node")
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// tokenFile asks for a token bound to the pod, as the kubelet does.
func tokenFile(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, t *corev1.ServiceAccountTokenProjection, defMode *int32) (map[string]file, error) {
	files, _, err := requestToken(ctx, cs, pod, t, defMode)
	return files, err
}

// requestToken is tokenFile that also says when the token expires.
func requestToken(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, t *corev1.ServiceAccountTokenProjection, defMode *int32) (map[string]file, time.Time, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: t.ExpirationSeconds,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	if t.Audience != "" {
		req.Spec.Audiences = []string{t.Audience}
	}
	tr, err := cs.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("token for service account %s: %w", sa, err)
	}
	return map[string]file{t.Path: {data: []byte(tr.Status.Token), mode: mode(nil, defMode)}}, tr.Status.ExpirationTimestamp.Time, nil
}

// claimPath is the directory of the PersistentVolume bound to a claim.
func claimPath(ctx context.Context, cs kubernetes.Interface, ns, claim string) (string, error) {
	pvc, err := cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claim, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("claim %s: %w", claim, err)
	}
	if pvc.Spec.VolumeName == "" || pvc.Status.Phase != corev1.ClaimBound {
		return "", fmt.Errorf("claim %s is not bound yet", claim)
	}
	pv, err := cs.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("claim %s: %w", claim, err)
	}
	switch {
	case pv.Spec.HostPath != nil:
		return pv.Spec.HostPath.Path, nil
	case pv.Spec.Local != nil:
		return pv.Spec.Local.Path, nil
	}
	return "", fmt.Errorf("claim %s: volume %s is neither hostPath nor local", claim, pv.Name)
}

func writeVolumeFile(dir, rel string, f file) error {
	clean := filepath.Clean("/" + rel)
	if strings.Contains(rel, "..") {
		return fmt.Errorf("path %q leaves the volume", rel)
	}
	path := filepath.Join(dir, clean)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	// Written in place: a running container of the same pod may hold it open.
	if err := os.WriteFile(path, f.data, f.mode.Perm()); err != nil {
		return err
	}
	return os.Chmod(path, f.mode.Perm())
}
