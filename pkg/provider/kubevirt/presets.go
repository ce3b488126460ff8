package kubevirt

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Preset is what one control-plane replica of a resourcesPreset gets, for
// the whole pod (kube-apiserver, kube-controller-manager, kube-scheduler):
// requests are what the scheduler reserves, limits what the replica may
// burst to. Each etcd member gets half of the pod's figures.
type Preset struct {
	Name                      string
	CPURequest, MemoryRequest string
	CPULimit, MemoryLimit     string
}

// Presets is the resourcesPreset table, smallest first (docs/control-plane.md
// shows it). Memory limits are twice the requests: an apiserver's memory
// follows its watch caches, which grow with the tenant's objects in bursts.
var Presets = []Preset{
	{Name: "nano", CPURequest: "200m", MemoryRequest: "512Mi", CPULimit: "500m", MemoryLimit: "1Gi"},
	{Name: "micro", CPURequest: "500m", MemoryRequest: "1Gi", CPULimit: "1", MemoryLimit: "2Gi"},
	{Name: "small", CPURequest: "1", MemoryRequest: "2Gi", CPULimit: "2", MemoryLimit: "4Gi"},
	{Name: "medium", CPURequest: "2", MemoryRequest: "4Gi", CPULimit: "4", MemoryLimit: "8Gi"},
	{Name: "large", CPURequest: "4", MemoryRequest: "8Gi", CPULimit: "8", MemoryLimit: "16Gi"},
	{Name: "xlarge", CPURequest: "8", MemoryRequest: "16Gi", CPULimit: "16", MemoryLimit: "32Gi"},
	{Name: "2xlarge", CPURequest: "16", MemoryRequest: "32Gi", CPULimit: "32", MemoryLimit: "64Gi"},
}

// Shares of a replica's resources, in percent, per container: the
// apiserver does most of the work.
var presetShares = map[string]int64{
	containerAPIServer: 50, containerControllerManager: 25, containerScheduler: 25,
	// etcd is its own pod: half of a control-plane replica.
	containerEtcd: 50,
}

// LookupPreset finds a preset by name.
func LookupPreset(name string) (Preset, error) {
	for _, p := range Presets {
		if p.Name == name {
			return p, nil
		}
	}
	return Preset{}, fmt.Errorf("unknown resourcesPreset %q", name)
}

// resourcesFor is container's share of preset p.
func resourcesFor(p Preset, container string) corev1.ResourceRequirements {
	share := presetShares[container]
	part := func(s string) resource.Quantity {
		q := resource.MustParse(s)
		return *resource.NewMilliQuantity(q.MilliValue()*share/100, q.Format)
	}
	mem := func(s string) resource.Quantity {
		q := resource.MustParse(s)
		return *resource.NewQuantity(q.Value()*share/100, resource.BinarySI)
	}
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: part(p.CPURequest), corev1.ResourceMemory: mem(p.MemoryRequest)},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: part(p.CPULimit), corev1.ResourceMemory: mem(p.MemoryLimit)},
	}
}
