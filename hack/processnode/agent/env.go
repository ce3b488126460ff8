package agent

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// basePath is the PATH of every container: the images' own, for binaries
// that look things up (the components do not).
const basePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// nodeCPU and nodeMemory are what a process node advertises, and what a
// resourceFieldRef of a container without limits reads, as on a kubelet.
var (
	nodeCPU    = resource.MustParse("64")
	nodeMemory = resource.MustParse("256Gi")
)

// EnvVar is one resolved variable, in the container's order.
type EnvVar struct{ Name, Value string }

// Env resolves the environment of c as the kubelet does: envFrom first, then
// env in order, each value expanded against the variables before it. Values
// taken from Secrets are never logged.
func Env(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, c *corev1.Container, podIP, hostIP string) ([]EnvVar, error) {
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	for _, from := range c.EnvFrom {
		var data map[string]string
		switch {
		case from.ConfigMapRef != nil:
			cm, err := cs.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, from.ConfigMapRef.Name, metav1.GetOptions{})
			if err != nil {
				if apierrors.IsNotFound(err) && ptrTrue(from.ConfigMapRef.Optional) {
					continue
				}
				return nil, fmt.Errorf("envFrom configmap %s: %w", from.ConfigMapRef.Name, err)
			}
			data = cm.Data
		case from.SecretRef != nil:
			s, err := cs.CoreV1().Secrets(pod.Namespace).Get(ctx, from.SecretRef.Name, metav1.GetOptions{})
			if err != nil {
				if apierrors.IsNotFound(err) && ptrTrue(from.SecretRef.Optional) {
					continue
				}
				return nil, fmt.Errorf("envFrom secret %s: %w", from.SecretRef.Name, err)
			}
			data = map[string]string{}
			for k, v := range s.Data {
				data[k] = string(v)
			}
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			set(from.Prefix+k, data[k])
		}
	}
	for _, e := range c.Env {
		v := e.Value
		if e.ValueFrom == nil {
			set(e.Name, Expand(v, MapLookup(vars)))
			continue
		}
		switch f := e.ValueFrom; {
		case f.FieldRef != nil:
			val, err := FieldValue(pod, f.FieldRef.FieldPath, podIP, hostIP)
			if err != nil {
				return nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
			v = val
		case f.ResourceFieldRef != nil:
			val, err := resourceValue(pod, c, f.ResourceFieldRef)
			if err != nil {
				return nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
			v = val
		case f.SecretKeyRef != nil:
			s, err := cs.CoreV1().Secrets(pod.Namespace).Get(ctx, f.SecretKeyRef.Name, metav1.GetOptions{})
			if err != nil && !(apierrors.IsNotFound(err) && ptrTrue(f.SecretKeyRef.Optional)) {
				return nil, fmt.Errorf("env %s: secret %s: %w", e.Name, f.SecretKeyRef.Name, err)
			}
			b, ok := []byte(nil), false
			if err == nil {
				b, ok = s.Data[f.SecretKeyRef.Key]
			}
			if !ok {
				if ptrTrue(f.SecretKeyRef.Optional) {
					continue
				}
				return nil, fmt.Errorf("env %s: secret %s has no key %s", e.Name, f.SecretKeyRef.Name, f.SecretKeyRef.Key)
			}
			v = string(b)
		case f.ConfigMapKeyRef != nil:
			cm, err := cs.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, f.ConfigMapKeyRef.Name, metav1.GetOptions{})
			if err != nil && !(apierrors.IsNotFound(err) && ptrTrue(f.ConfigMapKeyRef.Optional)) {
				return nil, fmt.Errorf("env %s: configmap %s: %w", e.Name, f.ConfigMapKeyRef.Name, err)
			}
			s, ok := "", false
			if err == nil {
				s, ok = cm.Data[f.ConfigMapKeyRef.Key]
			}
			if !ok {
				if ptrTrue(f.ConfigMapKeyRef.Optional) {
					continue
				}
				return nil, fmt.Errorf("env %s: configmap %s has no key %s", e.Name, f.ConfigMapKeyRef.Name, f.ConfigMapKeyRef.Key)
			}
			v = s
		default:
			return nil, fmt.Errorf("env %s: unsupported valueFrom", e.Name)
		}
		set(e.Name, v)
	}
	out := make([]EnvVar, 0, len(order))
	for _, k := range order {
		out = append(out, EnvVar{Name: k, Value: vars[k]})
	}
	return out, nil
}

// FieldValue is the value of a downward-API field of pod.
func FieldValue(pod *corev1.Pod, path, podIP, hostIP string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP", "status.podIPs":
		return podIP, nil
	case "status.hostIP", "status.hostIPs":
		return hostIP, nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	}
	for prefix, m := range map[string]map[string]string{"metadata.labels": pod.Labels, "metadata.annotations": pod.Annotations} {
		if strings.HasPrefix(path, prefix+"['") && strings.HasSuffix(path, "']") {
			return m[strings.TrimSuffix(strings.TrimPrefix(path, prefix+"['"), "']")], nil
		}
	}
	return "", fmt.Errorf("unsupported fieldPath %q", path)
}

// formatMap renders labels or annotations as the downward API does.
func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q\n", k, m[k])
	}
	return b.String()
}

// resourceValue is a resourceFieldRef: the container's limit or request in
// units of the divisor, rounded up; a missing limit reads the node's size.
func resourceValue(pod *corev1.Pod, c *corev1.Container, ref *corev1.ResourceFieldSelector) (string, error) {
	if ref.ContainerName != "" && ref.ContainerName != c.Name {
		for i := range pod.Spec.Containers {
			if pod.Spec.Containers[i].Name == ref.ContainerName {
				c = &pod.Spec.Containers[i]
			}
		}
	}
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok {
		return "", fmt.Errorf("unsupported resource %q", ref.Resource)
	}
	list := c.Resources.Limits
	if kind == "requests" {
		list = c.Resources.Requests
	}
	q, ok := list[corev1.ResourceName(name)]
	if !ok || q.IsZero() {
		switch name {
		case "cpu":
			q = nodeCPU
		case "memory":
			q = nodeMemory
		default:
			q = resource.Quantity{}
		}
	}
	div := ref.Divisor
	if div.IsZero() {
		div = resource.MustParse("1")
	}
	return fmt.Sprint(int64(math.Ceil(float64(q.MilliValue()) / float64(div.MilliValue())))), nil
}

func ptrTrue(b *bool) bool { return b != nil && *b }
