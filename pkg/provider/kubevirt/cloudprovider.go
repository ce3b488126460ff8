package kubevirt

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/hikube/hikube/pkg/provider"
)

// Upstream images of the per-cluster KubeVirt components, pinned.
const (
	// CloudProviderImage is cloud-provider-kubevirt v0.6.0 (January 2026).
	CloudProviderImage = "quay.io/kubevirt/kubevirt-cloud-controller-manager:v0.6.0"

	cloudProviderBinary = "/bin/kubevirt-cloud-controller-manager"
	cloudProviderPort   = 10258
	cloudConfigDir      = "/etc/cloud"
	tenantKubeconfigDir = "/etc/kubernetes/tenant"
)

// kccmConfig is cloud-provider-kubevirt's configuration file (its
// pkg/provider CloudConfig): no kubeconfig, so it reaches the host with
// its ServiceAccount; VMs and Services in the cluster's host namespace.
type kccmConfig struct {
	LoadBalancer struct {
		Enabled              bool `json:"enabled"`
		CreationPollInterval int  `json:"creationPollInterval"`
		CreationPollTimeout  int  `json:"creationPollTimeout"`
	} `json:"loadBalancer"`
	InstancesV2 struct {
		Enabled              bool `json:"enabled"`
		ZoneAndRegionEnabled bool `json:"zoneAndRegionEnabled"`
	} `json:"instancesV2"`
	Namespace   string            `json:"namespace"`
	InfraLabels map[string]string `json:"infraLabels"`
}

func (cp *ControlPlane) cloudConfigMap(c provider.ClusterRef) (*corev1ac.ConfigMapApplyConfiguration, error) {
	n := namesOf(c)
	var cc kccmConfig
	cc.LoadBalancer.Enabled, cc.LoadBalancer.CreationPollInterval, cc.LoadBalancer.CreationPollTimeout = true, 5, 60
	cc.InstancesV2.Enabled, cc.InstancesV2.ZoneAndRegionEnabled = true, true
	cc.Namespace, cc.InfraLabels = n.ns, clusterLabels(c)
	data, err := yaml.Marshal(cc)
	if err != nil {
		return nil, fmt.Errorf("cloud-config: %w", err)
	}
	return corev1ac.ConfigMap(n.of(componentCloudProvider), n.ns).
		WithLabels(componentLabels(c, componentCloudProvider)).
		WithData(map[string]string{"cloud-config": string(data)}), nil
}

// hostAccess is a ServiceAccount of the host namespace with a Role there.
func hostAccess(c provider.ClusterRef, component string, rules ...*rbacv1ac.PolicyRuleApplyConfiguration) (*corev1ac.ServiceAccountApplyConfiguration, *rbacv1ac.RoleApplyConfiguration, *rbacv1ac.RoleBindingApplyConfiguration) {
	n := namesOf(c)
	name, l := n.of(component), componentLabels(c, component)
	sa := corev1ac.ServiceAccount(name, n.ns).WithLabels(l)
	role := rbacv1ac.Role(name, n.ns).WithLabels(l).WithRules(rules...)
	rb := rbacv1ac.RoleBinding(name, n.ns).WithLabels(l).
		WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup("rbac.authorization.k8s.io").WithKind("Role").WithName(name)).
		WithSubjects(rbacv1ac.Subject().WithKind("ServiceAccount").WithName(name).WithNamespace(n.ns))
	return sa, role, rb
}

func rule(groups, resources []string, verbs ...string) *rbacv1ac.PolicyRuleApplyConfiguration {
	return rbacv1ac.PolicyRule().WithAPIGroups(groups...).WithResources(resources...).WithVerbs(verbs...)
}

// cloudProviderRules are what cloud-provider-kubevirt does in the host
// namespace: read VMs and their instances (node addresses and zones), and
// manage the Services and EndpointSlices that carry the tenant's
// LoadBalancer Services.
func cloudProviderRules() []*rbacv1ac.PolicyRuleApplyConfiguration {
	return []*rbacv1ac.PolicyRuleApplyConfiguration{
		rule([]string{"kubevirt.io"}, []string{"virtualmachines"}, "get", "list", "watch"),
		rule([]string{"kubevirt.io"}, []string{"virtualmachineinstances"}, "get", "list", "watch", "update"),
		rule([]string{""}, []string{"pods"}, "get", "list", "watch"),
		rule([]string{""}, []string{"services"}, "get", "list", "watch", "create", "update", "patch", "delete"),
		rule([]string{"discovery.k8s.io"}, []string{"endpointslices"}, "get", "list", "watch", "create", "update", "patch", "delete"),
	}
}

// cloudProviderDeployment runs kubevirt-cloud-controller-manager for the
// tenant: its --kubeconfig is the tenant's, the host is reached in-cluster.
func (cp *ControlPlane) cloudProviderDeployment(c provider.ClusterRef) *appsv1ac.DeploymentApplyConfiguration {
	n := namesOf(c)
	container := corev1ac.Container().
		WithName("kubevirt-cloud-controller-manager").
		WithImage(CloudProviderImage).
		WithCommand(cloudProviderBinary).
		WithArgs(
			"--cloud-provider=kubevirt",
			"--cloud-config="+cloudConfigDir+"/cloud-config",
			"--kubeconfig="+tenantKubeconfigDir+"/"+keyKubeconfig,
			"--authentication-skip-lookup=true",
			"--cluster-name="+c.Name,
			"--leader-elect=true",
			fmt.Sprintf("--secure-port=%d", cloudProviderPort),
		).
		WithPorts(corev1ac.ContainerPort().WithName("healthz").WithContainerPort(cloudProviderPort)).
		WithResources(corev1ac.ResourceRequirements().WithRequests(corev1.ResourceList{
			corev1.ResourceCPU: mustQuantity("100m"), corev1.ResourceMemory: mustQuantity("128Mi"),
		})).
		WithLivenessProbe(corev1ac.Probe().
			WithHTTPGet(corev1ac.HTTPGetAction().WithPath("/healthz").WithPort(intstr.FromInt32(cloudProviderPort)).WithScheme(corev1.URISchemeHTTPS)).
			WithPeriodSeconds(10).WithFailureThreshold(6).WithTimeoutSeconds(15)).
		WithVolumeMounts(
			corev1ac.VolumeMount().WithName("cloud-config").WithMountPath(cloudConfigDir).WithReadOnly(true),
			corev1ac.VolumeMount().WithName("tenant-kubeconfig").WithMountPath(tenantKubeconfigDir).WithReadOnly(true),
		)
	pod := cp.podSpec(componentCloudProvider, false).
		WithAutomountServiceAccountToken(true).
		WithServiceAccountName(n.of(componentCloudProvider)).
		WithContainers(container).
		WithVolumes(
			corev1ac.Volume().WithName("cloud-config").WithConfigMap(corev1ac.ConfigMapVolumeSource().WithName(n.of(componentCloudProvider))),
			secretVolume("tenant-kubeconfig", secretName(c, secretCloudProvider)),
		)
	return singleReplica(c, componentCloudProvider, pod)
}

// singleReplica is a Deployment of one replica, replaced in place: the
// per-cluster KubeVirt components lead-elect in the tenant anyway.
func singleReplica(c provider.ClusterRef, component string, pod *corev1ac.PodSpecApplyConfiguration) *appsv1ac.DeploymentApplyConfiguration {
	n := namesOf(c)
	return appsv1ac.Deployment(n.of(component), n.ns).
		WithLabels(componentLabels(c, component)).
		WithSpec(appsv1ac.DeploymentSpec().
			WithReplicas(1).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(selectorOf(component))).
			WithTemplate(corev1ac.PodTemplateSpec().
				WithLabels(componentLabels(c, component)).
				WithSpec(pod)))
}

// cloudProviderTenantRules are what the cloud controller manager does in
// the tenant cluster: initialise Nodes, write LoadBalancer Services'
// status, record events, hold its leader Lease.
func cloudProviderTenantRules() []*rbacv1ac.PolicyRuleApplyConfiguration {
	return []*rbacv1ac.PolicyRuleApplyConfiguration{
		rule([]string{""}, []string{"nodes"}, "get", "list", "watch", "update", "patch", "delete"),
		rule([]string{""}, []string{"nodes/status"}, "patch", "update"),
		rule([]string{""}, []string{"services"}, "get", "list", "watch", "patch", "update"),
		rule([]string{""}, []string{"services/status"}, "patch", "update"),
		rule([]string{"discovery.k8s.io"}, []string{"endpointslices"}, "get", "list", "watch"),
		rule([]string{""}, []string{"events"}, "create", "patch", "update"),
		rule([]string{"events.k8s.io"}, []string{"events"}, "create", "patch", "update"),
		rule([]string{"coordination.k8s.io"}, []string{"leases"}, "get", "create", "update"),
		rule([]string{""}, []string{"serviceaccounts"}, "get", "create"),
		rule([]string{""}, []string{"serviceaccounts/token"}, "create"),
	}
}
