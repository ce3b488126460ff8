package kubevirt

import (
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	"github.com/hikube/hikube/pkg/controlplaneflags"
	"github.com/hikube/hikube/pkg/provider"
)

// etcd ports.
const (
	etcdClientPort  = 2379
	etcdPeerPort    = 2380
	etcdMetricsPort = 2381

	etcdPKIDir  = "/etc/etcd/pki"
	etcdDataDir = "/var/lib/etcd"
)

// etcdMembers is 3 (one per datacenter) for a control plane of 3 replicas
// or more, else 1. A StatefulSet that exists keeps its count: growing or
// shrinking an etcd cluster needs member add/remove, which this provider
// does not do (docs/control-plane.md).
func etcdMembers(replicas int32, existing *appsv1.StatefulSet) int {
	if existing != nil && existing.Spec.Replicas != nil && *existing.Spec.Replicas > 0 {
		return int(*existing.Spec.Replicas)
	}
	if replicas >= 3 {
		return 3
	}
	return 1
}

// etcdServers are the client URLs of every member, as the apiserver lists
// them.
func etcdServers(n names, members int) []string {
	var out []string
	for i := range members {
		out = append(out, fmt.Sprintf("https://%s:%d", n.etcdMember(i), etcdClientPort))
	}
	return out
}

// etcdHeadlessService gives each member its stable name; not-ready members
// are published, since members must find each other to become ready.
func (cp *ControlPlane) etcdHeadlessService(c provider.ClusterRef) *corev1ac.ServiceApplyConfiguration {
	n := namesOf(c)
	return corev1ac.Service(n.etcd(), n.ns).
		WithLabels(componentLabels(c, componentEtcd)).
		WithSpec(corev1ac.ServiceSpec().
			WithClusterIP(corev1.ClusterIPNone).
			WithPublishNotReadyAddresses(true).
			WithSelector(selectorOf(componentEtcd)).
			WithPorts(
				corev1ac.ServicePort().WithName("client").WithPort(etcdClientPort).WithTargetPort(intstr.FromInt32(etcdClientPort)),
				corev1ac.ServicePort().WithName("peer").WithPort(etcdPeerPort).WithTargetPort(intstr.FromInt32(etcdPeerPort)),
			))
}

// etcdStatefulSet runs the cluster's etcd: its members start together
// (Parallel: a new cluster forms only once they all run), spread over the
// zones, each with a volume on the host class.
// bootstrap is the value of annotationEtcdBootstrap it carries ("" for none).
func (cp *ControlPlane) etcdStatefulSet(c provider.ClusterRef, members int, image string, preset Preset, zones []string, bootstrap string) *appsv1ac.StatefulSetApplyConfiguration {
	n := namesOf(c)
	var initial []string
	for i := range members {
		initial = append(initial, fmt.Sprintf("%s-%d=https://%s:%d", n.etcd(), i, n.etcdMember(i), etcdPeerPort))
	}
	self := fmt.Sprintf("$(POD_NAME).%s.%s.svc", n.etcd(), n.ns)
	flags := controlplaneflags.EtcdMember{
		Name:                "$(POD_NAME)",
		DataDir:             etcdDataDir + "/data",
		ListenClientURL:     "https://0.0.0.0:" + strconv.Itoa(etcdClientPort),
		ListenPeerURL:       "https://0.0.0.0:" + strconv.Itoa(etcdPeerPort),
		ListenMetricsURL:    "http://0.0.0.0:" + strconv.Itoa(etcdMetricsPort),
		AdvertiseClientURL:  "https://" + self + ":" + strconv.Itoa(etcdClientPort),
		AdvertisePeerURL:    "https://" + self + ":" + strconv.Itoa(etcdPeerPort),
		InitialCluster:      initial,
		InitialClusterToken: n.etcd() + "-" + c.UID,
		Client:              controlplaneflags.EtcdTLS{CertFile: etcdPKIDir + "/server.crt", KeyFile: etcdPKIDir + "/server.key", TrustedCAFile: etcdPKIDir + "/ca.crt"},
		Peer:                controlplaneflags.EtcdTLS{CertFile: etcdPKIDir + "/peer.crt", KeyFile: etcdPKIDir + "/peer.key", TrustedCAFile: etcdPKIDir + "/ca.crt"},
	}
	health := func(path string) *corev1ac.HTTPGetActionApplyConfiguration {
		return corev1ac.HTTPGetAction().WithPath(path).WithPort(intstr.FromInt32(etcdMetricsPort)).WithScheme(corev1.URISchemeHTTP)
	}
	container := corev1ac.Container().
		WithName(containerEtcd).
		WithImage(image).
		WithCommand("etcd").
		WithArgs(flags.Flags()...).
		WithEnv(corev1ac.EnvVar().WithName("POD_NAME").WithValueFrom(corev1ac.EnvVarSource().WithFieldRef(corev1ac.ObjectFieldSelector().WithFieldPath("metadata.name")))).
		WithPorts(
			corev1ac.ContainerPort().WithName("client").WithContainerPort(etcdClientPort),
			corev1ac.ContainerPort().WithName("peer").WithContainerPort(etcdPeerPort),
			corev1ac.ContainerPort().WithName("metrics").WithContainerPort(etcdMetricsPort),
		).
		WithResources(resourcesAC(resourcesFor(preset, containerEtcd))).
		// Ready once the member serves with a leader; alive while it
		// answers locally, so a lost quorum does not restart every member.
		// Timeouts as kubeadm's static pods have them: a loaded host
		// answers late, and the 1 s default would count that as a failure.
		WithReadinessProbe(corev1ac.Probe().WithHTTPGet(health("/health")).WithPeriodSeconds(5).WithFailureThreshold(3).WithTimeoutSeconds(15)).
		WithLivenessProbe(corev1ac.Probe().WithHTTPGet(health("/health?serializable=true")).WithPeriodSeconds(10).WithFailureThreshold(8).WithTimeoutSeconds(15)).
		WithStartupProbe(corev1ac.Probe().WithHTTPGet(health("/health?serializable=true")).WithPeriodSeconds(5).WithFailureThreshold(60).WithTimeoutSeconds(15)).
		WithSecurityContext(restricted()).
		WithVolumeMounts(
			corev1ac.VolumeMount().WithName("data").WithMountPath(etcdDataDir),
			corev1ac.VolumeMount().WithName("pki").WithMountPath(etcdPKIDir).WithReadOnly(true),
		)
	pod := cp.podSpec(componentEtcd, members > 1).
		WithPriorityClassName(criticalPriority).
		WithAffinity(preferZones(zones)).
		WithContainers(container).
		WithVolumes(secretVolume("pki", secretName(c, secretEtcdCerts)))
	claim := corev1ac.PersistentVolumeClaim("data", "").
		WithLabels(componentLabels(c, componentEtcd)).
		WithSpec(corev1ac.PersistentVolumeClaimSpec().
			WithAccessModes(corev1.ReadWriteOnce).
			WithStorageClassName(cp.opts.EtcdStorageClass).
			WithResources(corev1ac.VolumeResourceRequirements().WithRequests(corev1.ResourceList{corev1.ResourceStorage: cp.opts.EtcdStorageSize})))
	sts := appsv1ac.StatefulSet(n.etcd(), n.ns).
		WithLabels(componentLabels(c, componentEtcd))
	if bootstrap != "" {
		sts = sts.WithAnnotations(map[string]string{annotationEtcdBootstrap: bootstrap})
	}
	return sts.
		WithSpec(appsv1ac.StatefulSetSpec().
			WithReplicas(int32(members)).
			WithServiceName(n.etcd()).
			WithPodManagementPolicy(appsv1.ParallelPodManagement).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(selectorOf(componentEtcd))).
			WithUpdateStrategy(appsv1ac.StatefulSetUpdateStrategy().WithType(appsv1.RollingUpdateStatefulSetStrategyType)).
			// Deleting the cluster deletes the members' data with it.
			WithPersistentVolumeClaimRetentionPolicy(appsv1ac.StatefulSetPersistentVolumeClaimRetentionPolicy().
				WithWhenDeleted(appsv1.DeletePersistentVolumeClaimRetentionPolicyType).
				WithWhenScaled(appsv1.RetainPersistentVolumeClaimRetentionPolicyType)).
			WithTemplate(corev1ac.PodTemplateSpec().
				WithLabels(componentLabels(c, componentEtcd)).
				WithSpec(pod)).
			WithVolumeClaimTemplates(claim))
}
