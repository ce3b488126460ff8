package kubevirt

import (
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	kubevirtv1 "kubevirt.io/api/core/v1"
	cdiv1beta1 "kubevirt.io/containerized-data-importer-api/pkg/apis/core/v1beta1"
)

// Machine is everything one worker VM is made of, fully decided: the core
// chose name, zone and size; the provider chose the host namespace, the host
// storage class and the image.
type Machine struct {
	// Name of the VM, and of the tenant Node it becomes (cloud-provider-kubevirt
	// finds a VMI by its node's name).
	Name      string
	Namespace string
	Zone      string
	// InstanceType names the cluster instancetype; empty when CPU and Memory
	// are set (KubeVirt refuses an instancetype together with domain sizes).
	InstanceType string
	CPU          *resource.Quantity
	Memory       *resource.Quantity
	// GPUDevices holds one device resource name per GPU passed through, such
	// as nvidia.com/AD102GL_L40S.
	GPUDevices []string
	// RootDisk is the size of the root disk, imported from Image onto the
	// host StorageClass.
	RootDisk     resource.Quantity
	StorageClass string
	// Image is the node OS image (an OCI reference) the root disk is
	// imported from.
	Image string
	// UserDataSecret holds the cloud-init user data (userdata key).
	UserDataSecret string
	// Labels go on the VM, its VMI template and its DataVolume: the cluster's
	// ownership labels and the node group.
	Labels map[string]string
}

const (
	diskRoot      = "root"
	diskCloudInit = "cloudinit"
	networkPod    = "default"
	// labelZone is the host nodes' datacenter label the VM is pinned to.
	labelZone = "topology.kubernetes.io/zone"
)

// RootDataVolumeName is the DataVolume holding a machine's root disk.
func RootDataVolumeName(vm string) string { return vm + "-root" }

// ProviderID is the providerID the tenant Node of a VM carries.
func ProviderID(vm string) string { return "kubevirt://" + vm }

// VirtualMachine renders the VM of a machine. It is deterministic, so
// server-side apply of the result is a no-op when nothing changed.
func VirtualMachine(m Machine) (*kubevirtv1.VirtualMachine, error) {
	if (m.InstanceType == "") == (m.CPU == nil || m.Memory == nil) {
		return nil, fmt.Errorf("machine %s: exactly one of an instancetype or cpu and memory must be set", m.Name)
	}
	domain := kubevirtv1.DomainSpec{
		Devices: kubevirtv1.Devices{
			Disks: []kubevirtv1.Disk{
				{Name: diskRoot, DiskDevice: kubevirtv1.DiskDevice{Disk: &kubevirtv1.DiskTarget{Bus: kubevirtv1.DiskBusVirtio}}},
				{Name: diskCloudInit, DiskDevice: kubevirtv1.DiskDevice{Disk: &kubevirtv1.DiskTarget{Bus: kubevirtv1.DiskBusVirtio}}},
			},
			Interfaces: []kubevirtv1.Interface{{
				Name:                   networkPod,
				InterfaceBindingMethod: kubevirtv1.InterfaceBindingMethod{Masquerade: &kubevirtv1.InterfaceMasquerade{}},
			}},
		},
	}
	for i, dev := range m.GPUDevices {
		domain.Devices.GPUs = append(domain.Devices.GPUs, kubevirtv1.GPU{Name: fmt.Sprintf("gpu%d", i), DeviceName: dev})
	}
	var it *kubevirtv1.InstancetypeMatcher
	if m.InstanceType != "" {
		it = &kubevirtv1.InstancetypeMatcher{Kind: kindClusterInstancetype, Name: m.InstanceType}
	} else {
		domain.CPU = &kubevirtv1.CPU{Cores: uint32(m.CPU.Value())}
		domain.Memory = &kubevirtv1.Memory{Guest: ptr.To(m.Memory.DeepCopy())}
	}

	labels := maps.Clone(m.Labels)
	dv := RootDataVolumeName(m.Name)
	return &kubevirtv1.VirtualMachine{
		TypeMeta:   metav1.TypeMeta{APIVersion: kubevirtv1.SchemeGroupVersion.String(), Kind: "VirtualMachine"},
		ObjectMeta: metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, Labels: labels},
		Spec: kubevirtv1.VirtualMachineSpec{
			RunStrategy:  ptr.To(kubevirtv1.RunStrategyAlways),
			Instancetype: it,
			DataVolumeTemplates: []kubevirtv1.DataVolumeTemplateSpec{{
				ObjectMeta: metav1.ObjectMeta{Name: dv, Labels: maps.Clone(labels)},
				Spec: cdiv1beta1.DataVolumeSpec{
					Source: &cdiv1beta1.DataVolumeSource{Registry: &cdiv1beta1.DataVolumeSourceRegistry{URL: ptr.To("docker://" + m.Image)}},
					Storage: &cdiv1beta1.StorageSpec{
						AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
						StorageClassName: ptr.To(m.StorageClass),
						Resources: corev1.VolumeResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceStorage: m.RootDisk},
						},
					},
				},
			}},
			Template: &kubevirtv1.VirtualMachineInstanceTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: maps.Clone(labels)},
				Spec: kubevirtv1.VirtualMachineInstanceSpec{
					Domain: domain,
					// Nodes are drained in the tenant before their VM moves
					// or stops; KubeVirt waits for that instead of migrating.
					EvictionStrategy: ptr.To(kubevirtv1.EvictionStrategyExternal),
					Hostname:         m.Name,
					Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
						RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
							NodeSelectorTerms: []corev1.NodeSelectorTerm{{
								MatchExpressions: []corev1.NodeSelectorRequirement{{
									Key: labelZone, Operator: corev1.NodeSelectorOpIn, Values: []string{m.Zone},
								}},
							}},
						},
					}},
					Networks: []kubevirtv1.Network{{Name: networkPod, NetworkSource: kubevirtv1.NetworkSource{Pod: &kubevirtv1.PodNetwork{}}}},
					Volumes: []kubevirtv1.Volume{
						{Name: diskRoot, VolumeSource: kubevirtv1.VolumeSource{DataVolume: &kubevirtv1.DataVolumeSource{Name: dv}}},
						{Name: diskCloudInit, VolumeSource: kubevirtv1.VolumeSource{CloudInitNoCloud: &kubevirtv1.CloudInitNoCloudSource{
							UserDataSecretRef: &corev1.LocalObjectReference{Name: m.UserDataSecret},
						}}},
					},
				},
			},
		},
	}, nil
}
