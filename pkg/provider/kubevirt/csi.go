package kubevirt

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/provider"
)

// Upstream images of the kubevirt-csi-driver controller, pinned. The driver
// publishes no releases: its images are tagged by commit, and this is the
// main branch of 24 June 2026. The sidecars are kubernetes-csi releases.
const (
	CSIDriverImage      = "quay.io/kubevirt/kubevirt-csi-driver:27b52aa22da761ce973cc04976b37762d88e6c78"
	CSIProvisionerImage = "registry.k8s.io/sig-storage/csi-provisioner:v5.2.0"
	CSIAttacherImage    = "registry.k8s.io/sig-storage/csi-attacher:v4.8.1"
	CSIResizerImage     = "registry.k8s.io/sig-storage/csi-resizer:v1.13.1"
	CSILivenessImage    = "registry.k8s.io/sig-storage/livenessprobe:v2.15.0"

	// CSIProvisioner is the driver's name: the provisioner of the tenant's
	// storage classes.
	CSIProvisioner = "csi.kubevirt.io"

	csiSocketDir   = "/var/lib/csi/sockets/pluginproxy"
	csiHealthzPort = 10301
)

// TenantStorageClass is the provisioner and parameters of a tenant-facing
// storage class (local, replicated, replicated-async): the CSI driver
// provisions a DataVolume on the mapped host class and hot-plugs it into
// the VM of the pod's node.
func (cp *ControlPlane) TenantStorageClass(class string) (string, map[string]string, bool) {
	return CSIProvisioner, map[string]string{"infraStorageClassName": cp.hostStorageClass(class), "bus": "scsi"}, true
}

var _ provider.TenantStorage = (*ControlPlane)(nil)

func (cp *ControlPlane) hostStorageClass(tenantClass string) string {
	if c, ok := cp.opts.StorageClasses[tenantClass]; ok {
		return c
	}
	return tenantClass
}

// csiDriverConfig tells the driver where the cluster's VMs are and which
// host classes it may use: only those the tenant's classes map to.
func (cp *ControlPlane) csiDriverConfig(c provider.ClusterRef) (*corev1ac.ConfigMapApplyConfiguration, error) {
	n := namesOf(c)
	hostClasses := map[string]bool{}
	for _, class := range catalog.StorageClasses {
		hostClasses[cp.hostStorageClass(class)] = true
	}
	enforcement, err := yaml.Marshal(map[string]any{
		"allowAll": false, "allowDefault": false, "allowList": slices.Sorted(maps.Keys(hostClasses)),
	})
	if err != nil {
		return nil, fmt.Errorf("storage class enforcement: %w", err)
	}
	l := clusterLabels(c)
	var sel []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		sel = append(sel, k+"="+l[k])
	}
	return corev1ac.ConfigMap(n.of(componentCSI), n.ns).
		WithLabels(componentLabels(c, componentCSI)).
		WithData(map[string]string{
			"infraClusterNamespace":        n.ns,
			"infraClusterLabels":           strings.Join(sel, ","),
			"infraStorageClassEnforcement": string(enforcement),
		}), nil
}

// csiRules are what the driver's controller does in the host namespace:
// create DataVolumes and hot-plug them into the cluster's VMs.
func csiRules() []*rbacv1ac.PolicyRuleApplyConfiguration {
	return []*rbacv1ac.PolicyRuleApplyConfiguration{
		rule([]string{"cdi.kubevirt.io"}, []string{"datavolumes"}, "get", "create", "delete"),
		rule([]string{"kubevirt.io"}, []string{"virtualmachineinstances", "virtualmachines"}, "list", "get"),
		rule([]string{"subresources.kubevirt.io"}, []string{"virtualmachines/addvolume", "virtualmachines/removevolume"}, "update"),
		rule([]string{"snapshot.storage.k8s.io"}, []string{"volumesnapshots"}, "get", "create", "delete"),
		rule([]string{""}, []string{"persistentvolumeclaims"}, "get", "patch"),
	}
}

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }

// csiDeployment runs the driver's controller service and the sidecars that
// watch the tenant (provisioner, attacher, resizer), all with the tenant
// kubeconfig; the driver reaches the host with its ServiceAccount.
func (cp *ControlPlane) csiDeployment(c provider.ClusterRef) *appsv1ac.DeploymentApplyConfiguration {
	n := namesOf(c)
	tenant := tenantKubeconfigDir + "/" + keyKubeconfig
	mounts := func(socketDir string) []*corev1ac.VolumeMountApplyConfiguration {
		return []*corev1ac.VolumeMountApplyConfiguration{
			corev1ac.VolumeMount().WithName("socket-dir").WithMountPath(socketDir),
			corev1ac.VolumeMount().WithName("tenant-kubeconfig").WithMountPath(tenantKubeconfigDir).WithReadOnly(true),
		}
	}
	small := corev1ac.ResourceRequirements().WithRequests(corev1.ResourceList{
		corev1.ResourceCPU: mustQuantity("10m"), corev1.ResourceMemory: mustQuantity("50Mi"),
	})
	fromConfig := func(name, key string) *corev1ac.EnvVarApplyConfiguration {
		return corev1ac.EnvVar().WithName(name).WithValueFrom(corev1ac.EnvVarSource().WithConfigMapKeyRef(
			corev1ac.ConfigMapKeySelector().WithName(n.of(componentCSI)).WithKey(key)))
	}
	sidecar := func(name, image string, args ...string) *corev1ac.ContainerApplyConfiguration {
		return corev1ac.Container().WithName(name).WithImage(image).
			WithArgs(append([]string{"--csi-address=" + csiSocketDir + "/csi.sock", "--kubeconfig=" + tenant}, args...)...).
			WithResources(small).WithVolumeMounts(mounts(csiSocketDir)...)
	}
	driver := corev1ac.Container().
		WithName("csi-driver").
		WithImage(CSIDriverImage).
		WithArgs(
			"--endpoint=unix://"+csiSocketDir+"/csi.sock",
			"--infra-cluster-namespace=$(INFRACLUSTER_NAMESPACE)",
			"--infra-cluster-labels=$(INFRACLUSTER_LABELS)",
			"--tenant-cluster-kubeconfig="+tenant,
			"--run-node-service=false",
			"--run-controller-service=true",
		).
		WithEnv(
			fromConfig("INFRACLUSTER_NAMESPACE", "infraClusterNamespace"),
			fromConfig("INFRACLUSTER_LABELS", "infraClusterLabels"),
			fromConfig("INFRA_STORAGE_CLASS_ENFORCEMENT", "infraStorageClassEnforcement"),
		).
		WithPorts(corev1ac.ContainerPort().WithName("healthz").WithContainerPort(csiHealthzPort)).
		WithLivenessProbe(corev1ac.Probe().
			WithHTTPGet(corev1ac.HTTPGetAction().WithPath("/healthz").WithPort(intstr.FromString("healthz"))).
			WithPeriodSeconds(10).WithFailureThreshold(5).WithTimeoutSeconds(3)).
		WithResources(small).
		WithVolumeMounts(mounts(csiSocketDir)...)
	liveness := corev1ac.Container().WithName("csi-liveness-probe").WithImage(CSILivenessImage).
		WithArgs("--csi-address="+csiSocketDir+"/csi.sock", "--probe-timeout=3s", fmt.Sprintf("--health-port=%d", csiHealthzPort)).
		WithResources(small).WithVolumeMounts(mounts(csiSocketDir)...)
	pod := cp.podSpec(componentCSI, false).
		WithAutomountServiceAccountToken(true).
		WithServiceAccountName(n.of(componentCSI)).
		WithContainers(
			driver,
			sidecar("csi-provisioner", CSIProvisionerImage, "--default-fstype=ext4", "--timeout=3m", "--retry-interval-max=1m", "--leader-election=true"),
			sidecar("csi-attacher", CSIAttacherImage, "--timeout=3m", "--retry-interval-max=1m", "--leader-election=true"),
			sidecar("csi-resizer", CSIResizerImage, "--timeout=3m", "--handle-volume-inuse-error=false", "--leader-election=true"),
			liveness,
		).
		WithVolumes(
			corev1ac.Volume().WithName("socket-dir").WithEmptyDir(corev1ac.EmptyDirVolumeSource()),
			secretVolume("tenant-kubeconfig", secretName(c, secretCSI)),
		)
	return singleReplica(c, componentCSI, pod)
}

// csiTenantRules are what the controller sidecars do in the tenant: the
// external-provisioner, -attacher and -resizer roles of kubernetes-csi.
func csiTenantRules() []*rbacv1ac.PolicyRuleApplyConfiguration {
	return []*rbacv1ac.PolicyRuleApplyConfiguration{
		rule([]string{""}, []string{"persistentvolumes"}, "get", "list", "watch", "create", "delete", "patch", "update"),
		rule([]string{""}, []string{"persistentvolumeclaims"}, "get", "list", "watch", "update", "patch"),
		rule([]string{""}, []string{"persistentvolumeclaims/status"}, "patch", "update"),
		rule([]string{"storage.k8s.io"}, []string{"storageclasses", "csinodes"}, "get", "list", "watch"),
		rule([]string{"storage.k8s.io"}, []string{"volumeattachments"}, "get", "list", "watch", "patch", "update"),
		rule([]string{"storage.k8s.io"}, []string{"volumeattachments/status"}, "patch"),
		rule([]string{""}, []string{"nodes", "pods"}, "get", "list", "watch"),
		rule([]string{""}, []string{"events"}, "list", "watch", "create", "update", "patch"),
		rule([]string{"snapshot.storage.k8s.io"}, []string{"volumesnapshots", "volumesnapshotcontents"}, "get", "list"),
		rule([]string{"coordination.k8s.io"}, []string{"leases"}, "get", "list", "watch", "create", "update", "patch", "delete"),
	}
}
