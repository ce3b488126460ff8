package autoscaler

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestTemplateFits(t *testing.T) {
	small := template("s1.large", "4", "8Gi")
	cpuPod := rl("cpu", "1", "memory", "1Gi")
	tests := []struct {
		name     string
		pod      corev1.Pod
		template NodeTemplate
		fits     bool
		why      string
	}{
		{name: "a pod within allocatable fits", pod: pod("a", cpuPod), template: small, fits: true},
		{name: "a pod needing more cpu than a node has does not fit", pod: pod("a", rl("cpu", "4500m")), template: small,
			why: "needs 4500m cpu, a node of the group has 4"},
		{name: "a pod needing more memory than a node has does not fit", pod: pod("a", rl("memory", "9Gi")), template: small,
			why: "needs 9Gi memory, a node of the group has 8Gi"},
		{name: "a pod needing a gpu the group lacks does not fit", pod: pod("a", rl(string(l40s), "1")), template: small,
			why: "needs 1 nvidia.com/AD102GL_L40S, a node of the group has 0"},
		{name: "a pod needing more gpus than a node has does not fit", pod: pod("a", rl(string(l40s), "2"), tolerateGPU), template: gpuTemplate(),
			why: "needs 2 nvidia.com/AD102GL_L40S, a node of the group has 1"},
		{name: "a gpu pod that tolerates the gpu taint fits", pod: pod("a", rl(string(l40s), "1"), tolerateGPU), template: gpuTemplate(), fits: true},
		{name: "a pod not tolerating a NoSchedule taint does not fit", pod: pod("a", cpuPod), template: gpuTemplate(),
			why: "does not tolerate taint nvidia.com/gpu=present:NoSchedule"},
		{name: "an Equal toleration with another value does not tolerate",
			pod: pod("a", cpuPod, func(p *corev1.Pod) {
				p.Spec.Tolerations = []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpEqual, Value: "absent"}}
			}),
			template: gpuTemplate(), why: "does not tolerate taint nvidia.com/gpu=present:NoSchedule"},
		{name: "an Equal toleration with the taint's value tolerates any effect",
			pod: pod("a", cpuPod, func(p *corev1.Pod) {
				p.Spec.Tolerations = []corev1.Toleration{{Key: "nvidia.com/gpu", Value: "present"}}
			}),
			template: gpuTemplate(), fits: true},
		{name: "a NoExecute taint needs a toleration too",
			pod:      pod("a", cpuPod),
			template: withTaint(small, corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoExecute}),
			why:      "does not tolerate taint dedicated=db:NoExecute"},
		{name: "a keyless Exists toleration tolerates every taint",
			pod: pod("a", cpuPod, func(p *corev1.Pod) {
				p.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
			}),
			template: withTaint(small, corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoExecute}), fits: true},
		{name: "a PreferNoSchedule taint does not keep a pod off",
			pod:      pod("a", cpuPod),
			template: withTaint(small, corev1.Taint{Key: "soft", Effect: corev1.TaintEffectPreferNoSchedule}), fits: true},
		{name: "a node selector on a label the template lacks does not fit",
			pod: pod("a", cpuPod, nodeSelector(roleIngres, "")), template: small,
			why: "node selector or required node affinity matches no node of the group (zones geneva, gland, lucerne)"},
		{name: "a node selector on the template's role label fits",
			pod: pod("a", cpuPod, nodeSelector(roleIngres, "")), template: withLabel(small, roleIngres, ""), fits: true},
		{name: "a zone selector fits when one of the template's zones matches",
			pod: pod("a", cpuPod, nodeSelector(zoneLabel, "gland")), template: small, fits: true},
		{name: "a zone selector outside the template's zones does not fit",
			pod: pod("a", cpuPod, nodeSelector(zoneLabel, "gland")), template: withZones(small, "geneva"),
			why: "node selector or required node affinity matches no node of the group (zones geneva)"},
		{name: "required node affinity NotIn every zone does not fit",
			pod: pod("a", cpuPod, requiredAffinity(corev1.NodeSelectorRequirement{
				Key: zoneLabel, Operator: corev1.NodeSelectorOpNotIn, Values: []string{"geneva", "gland"}})),
			template: withZones(small, "geneva", "gland"),
			why:      "node selector or required node affinity matches no node of the group (zones geneva, gland)"},
		{name: "required node affinity In on the instance type fits",
			pod: pod("a", cpuPod, requiredAffinity(corev1.NodeSelectorRequirement{
				Key: corev1.LabelInstanceTypeStable, Operator: corev1.NodeSelectorOpIn, Values: []string{"s1.large", "u1.large"}})),
			template: small, fits: true},
		{name: "a pod bound to a node name by field affinity (DaemonSet) does not fit",
			pod: pod("a", cpuPod, func(p *corev1.Pod) {
				p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
					NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{
						Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"w-a"}}}}}}}}
			}),
			template: small,
			why:      "node selector or required node affinity matches no node of the group (zones geneva, gland, lucerne)"},
		{name: "a template admitting no pods fits nothing",
			pod: pod("a", cpuPod), template: NodeTemplate{Allocatable: rl("cpu", "4", "memory", "8Gi", "pods", "0")},
			why: "a node of the group admits no pods"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fits, why := TemplateFits(&tc.pod, tc.template)
			if fits != tc.fits || why != tc.why {
				t.Errorf("TemplateFits() = %v, %q; want %v, %q", fits, why, tc.fits, tc.why)
			}
		})
	}
}

func withTaint(t NodeTemplate, taint corev1.Taint) NodeTemplate {
	t.Taints = append(append([]corev1.Taint(nil), t.Taints...), taint)
	return t
}

func requiredAffinity(req corev1.NodeSelectorRequirement) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{req}}}}}}
	}
}

func TestPodRequests(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	container := func(name string, req corev1.ResourceList) corev1.Container {
		return corev1.Container{Name: name, Resources: corev1.ResourceRequirements{Requests: req}}
	}
	tests := []struct {
		name string
		spec corev1.PodSpec
		want corev1.ResourceList
	}{
		{name: "containers' requests add up",
			spec: corev1.PodSpec{Containers: []corev1.Container{
				container("a", rl("cpu", "500m", "memory", "1Gi")), container("b", rl("cpu", "1", string(l40s), "1"))}},
			want: rl("cpu", "1500m", "memory", "1Gi", string(l40s), "1")},
		{name: "a larger init container sets the request",
			spec: corev1.PodSpec{
				InitContainers: []corev1.Container{container("init", rl("cpu", "3", "memory", "512Mi"))},
				Containers:     []corev1.Container{container("a", rl("cpu", "1", "memory", "1Gi"))}},
			want: rl("cpu", "3", "memory", "1Gi")},
		{name: "a sidecar init container adds to the containers",
			spec: corev1.PodSpec{
				InitContainers: []corev1.Container{{Name: "proxy", RestartPolicy: &always,
					Resources: corev1.ResourceRequirements{Requests: rl("cpu", "250m")}}},
				Containers: []corev1.Container{container("a", rl("cpu", "1"))}},
			want: rl("cpu", "1250m")},
		{name: "pod overhead is added",
			spec: corev1.PodSpec{Overhead: rl("cpu", "100m", "memory", "64Mi"),
				Containers: []corev1.Container{container("a", rl("cpu", "1", "memory", "1Gi"))}},
			want: rl("cpu", "1100m", "memory", "1088Mi")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PodRequests(&corev1.Pod{Spec: tc.spec})
			if !reflect.DeepEqual(toVec(got), toVec(tc.want)) {
				t.Errorf("PodRequests() = %v, want %v", got, tc.want)
			}
		})
	}
}
