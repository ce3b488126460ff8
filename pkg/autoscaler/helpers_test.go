package autoscaler

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stypes "k8s.io/apimachinery/pkg/types"
)

const (
	l40s       = corev1.ResourceName("nvidia.com/AD102GL_L40S")
	zoneLabel  = corev1.LabelTopologyZone
	roleIngres = "node-role.kubernetes.io/ingress"
)

var (
	now      = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	allZones = []string{"geneva", "gland", "lucerne"}
	gpuTaint = corev1.Taint{Key: "nvidia.com/gpu", Value: "present", Effect: corev1.TaintEffectNoSchedule}
)

func rl(pairs ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(pairs); i += 2 {
		l[corev1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return l
}

// template is a node of an instance type: cpu, memory, 110 pods, extra
// resources as name/quantity pairs.
func template(instanceType string, cpu, mem string, extra ...string) NodeTemplate {
	return NodeTemplate{
		Labels:      map[string]string{corev1.LabelInstanceTypeStable: instanceType},
		Allocatable: rl(append([]string{"cpu", cpu, "memory", mem, "pods", "110"}, extra...)...),
		Zones:       allZones,
	}
}

// gpuTemplate is u1.xlarge with one L40S and the GPU taint.
func gpuTemplate() NodeTemplate {
	t := template("u1.xlarge", "4", "16Gi", string(l40s), "1")
	t.Taints = []corev1.Taint{gpuTaint}
	return t
}

func withLabel(t NodeTemplate, k, v string) NodeTemplate {
	labels := map[string]string{}
	for a, b := range t.Labels {
		labels[a] = b
	}
	labels[k] = v
	t.Labels = labels
	return t
}

func withZones(t NodeTemplate, zones ...string) NodeTemplate {
	t.Zones = zones
	return t
}

type podOpt func(*corev1.Pod)

func pod(name string, requests corev1.ResourceList, opts ...podOpt) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: k8stypes.UID("uid-" + name)},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Resources: corev1.ResourceRequirements{Requests: requests},
		}}},
	}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func pods(prefix string, n int, requests corev1.ResourceList, opts ...podOpt) []corev1.Pod {
	var out []corev1.Pod
	for i := 0; i < n; i++ {
		out = append(out, pod(fmt.Sprintf("%s-%d", prefix, i), requests, opts...))
	}
	return out
}

func tolerateGPU(p *corev1.Pod) {
	p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})
}

func nodeSelector(k, v string) podOpt {
	return func(p *corev1.Pod) {
		if p.Spec.NodeSelector == nil {
			p.Spec.NodeSelector = map[string]string{}
		}
		p.Spec.NodeSelector[k] = v
	}
}

func gpuPods(n int) []corev1.Pod {
	return pods("train", n, rl("cpu", "1", "memory", "2Gi", string(l40s), "1"), tolerateGPU)
}

func ready(names ...string) []Node {
	var out []Node
	for i, n := range names {
		out = append(out, Node{Name: n, Zone: allZones[i%len(allZones)], Ready: true})
	}
	return out
}

func booting(name, zone string) Node { return Node{Name: name, Zone: zone} }

func emptyFor(name string, d time.Duration) Node {
	return Node{Name: name, Zone: "geneva", Ready: true, EmptySince: now.Add(-d)}
}

func concat[T any](lists ...[]T) []T {
	var out []T
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
