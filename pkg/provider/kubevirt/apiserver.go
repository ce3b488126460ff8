package kubevirt

import (
	"net"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/pkg/controlplaneflags"
	"github.com/hikube/hikube/pkg/provider"
)

// Ports and paths of the control-plane pod.
const (
	apiserverPort         = 6443
	controllerManagerPort = 10257
	schedulerPort         = 10259

	apiserverPKIDir = "/etc/kubernetes/pki"
	kcmDir          = "/etc/kubernetes/controller-manager"
	schedulerDir    = "/etc/kubernetes/scheduler"
)

// criticalPriority keeps control planes and their etcd scheduled before, and
// never preempted by, ordinary host workloads (the tenants' VMs).
const criticalPriority = "system-cluster-critical"

// zoneKey is the label of the datacenter a host node is in.
const zoneKey = "topology.kubernetes.io/zone"

// cpInput is what the control-plane Deployment is made of.
type cpInput struct {
	c        provider.ClusterRef
	replicas int32
	version  string // full version of the images, such as v1.37.2
	members  int
	preset   Preset
	// zones are the datacenters the core placed the replicas in.
	zones []string
	// advertise is the address the apiservers publish in the tenant's
	// kubernetes Service: the endpoint's ingress IP, or the pod's own.
	advertise string
}

// advertiseAddress is the endpoint's ingress when it is an IP (tenant pods
// reach the API through it), else the pod's address.
func advertiseAddress(endpointHost string) string {
	if ip := net.ParseIP(endpointHost); ip != nil {
		return ip.String()
	}
	return "$(POD_IP)"
}

func (cp *ControlPlane) apiserverContainer(in cpInput) *corev1ac.ContainerApplyConfiguration {
	p := func(f string) string { return apiserverPKIDir + "/" + f }
	flags := controlplaneflags.KubeAPIServer{
		EtcdServers: etcdServers(namesOf(in.c), in.members),
		Serving: controlplaneflags.Serving{
			SecurePort: apiserverPort, BindAddress: "0.0.0.0", AdvertiseAddress: in.advertise,
			CertFile: p("apiserver.crt"), KeyFile: p("apiserver.key"),
		},
		ClientCAFile:          p("ca.crt"),
		ServiceAccount:        controlplaneflags.ServiceAccount{KeyFile: p("sa.pub"), SigningKeyFile: p("sa.key")},
		ServiceClusterIPRange: controlplaneflags.DefaultServiceClusterIPRange,
		Profiling:             ptr.To(false),
		FrontProxy: &controlplaneflags.FrontProxy{
			ClientCAFile:   p("front-proxy-ca.crt"),
			ClientCertFile: p("front-proxy-client.crt"), ClientKeyFile: p("front-proxy-client.key"),
		},
		// Workers join as kubeadm joins them (bootstrap token, then their
		// own node credentials), which NodeRestriction confines to their
		// own Node: the local provider enables the same.
		EnableBootstrapTokenAuth: true,
		AdmissionPlugins:         []string{"NodeRestriction"},
		EtcdTLS:                  &controlplaneflags.EtcdClientTLS{CAFile: p("etcd-ca.crt"), CertFile: p("etcd-client.crt"), KeyFile: p("etcd-client.key")},
	}
	https := func(path string, port int32) *corev1ac.HTTPGetActionApplyConfiguration {
		return corev1ac.HTTPGetAction().WithPath(path).WithPort(intstr.FromInt32(port)).WithScheme(corev1.URISchemeHTTPS)
	}
	return corev1ac.Container().
		WithName(containerAPIServer).
		WithImage(componentImage(containerAPIServer, in.version)).
		WithCommand(containerAPIServer).
		WithArgs(flags.Flags()...).
		WithEnv(corev1ac.EnvVar().WithName("POD_IP").WithValueFrom(corev1ac.EnvVarSource().WithFieldRef(corev1ac.ObjectFieldSelector().WithFieldPath("status.podIP")))).
		WithPorts(corev1ac.ContainerPort().WithName("https").WithContainerPort(apiserverPort)).
		WithResources(resourcesAC(resourcesFor(in.preset, containerAPIServer))).
		WithReadinessProbe(corev1ac.Probe().WithHTTPGet(https("/readyz", apiserverPort)).WithPeriodSeconds(5).WithFailureThreshold(3).WithTimeoutSeconds(15)).
		WithLivenessProbe(corev1ac.Probe().WithHTTPGet(https("/livez", apiserverPort)).WithPeriodSeconds(10).WithFailureThreshold(8).WithTimeoutSeconds(15)).
		WithStartupProbe(corev1ac.Probe().WithHTTPGet(https("/livez", apiserverPort)).WithPeriodSeconds(5).WithFailureThreshold(60).WithTimeoutSeconds(15)).
		WithSecurityContext(restricted()).
		WithVolumeMounts(corev1ac.VolumeMount().WithName("apiserver-pki").WithMountPath(apiserverPKIDir).WithReadOnly(true))
}

func (cp *ControlPlane) controllerManagerContainer(in cpInput) *corev1ac.ContainerApplyConfiguration {
	p := func(f string) string { return kcmDir + "/" + f }
	flags := controlplaneflags.ControllerManager{
		Kubeconfig: p(keyKubeconfig), SecurePort: controllerManagerPort,
		// Replicas run in every zone; one leads.
		LeaderElect:            true,
		ServiceAccountKeyFile:  p("sa.key"),
		RootCAFile:             p("ca.crt"),
		ClusterSigningCertFile: p("ca.crt"),
		ClusterSigningKeyFile:  p("ca.key"),
		ServiceClusterIPRange:  controlplaneflags.DefaultServiceClusterIPRange,
		// The default controllers, and the two that kubeadm's bootstrap
		// tokens need (the local provider runs the same).
		Controllers: []string{"*", "bootstrapsigner", "tokencleaner"},
		// It starts with its apiserver, before RBAC lets it read the
		// request-header configuration: keep running rather than exit.
		TolerateAuthenticationLookupFailure: true,
	}
	return healthzContainer(containerControllerManager, in, flags.Flags(), controllerManagerPort, "kcm-healthz", "controller-manager", kcmDir)
}

func (cp *ControlPlane) schedulerContainer(in cpInput) *corev1ac.ContainerApplyConfiguration {
	flags := controlplaneflags.Scheduler{Kubeconfig: schedulerDir + "/" + keyKubeconfig, SecurePort: schedulerPort, LeaderElect: true}
	return healthzContainer(containerScheduler, in, flags.Flags(), schedulerPort, "sched-healthz", "scheduler", schedulerDir)
}

// healthzContainer is the controller manager or the scheduler: probed on
// /healthz of its secure port (named portName, unique in the pod), its
// kubeconfig and keys from one Secret.
func healthzContainer(name string, in cpInput, args []string, port int32, portName, volume, dir string) *corev1ac.ContainerApplyConfiguration {
	probe := func(failures int32) *corev1ac.ProbeApplyConfiguration {
		return corev1ac.Probe().
			WithHTTPGet(corev1ac.HTTPGetAction().WithPath("/healthz").WithPort(intstr.FromInt32(port)).WithScheme(corev1.URISchemeHTTPS)).
			WithPeriodSeconds(10).WithFailureThreshold(failures).WithTimeoutSeconds(15)
	}
	return corev1ac.Container().
		WithName(name).
		WithImage(componentImage(name, in.version)).
		WithCommand(name).
		WithArgs(args...).
		WithPorts(corev1ac.ContainerPort().WithName(portName).WithContainerPort(port)).
		WithResources(resourcesAC(resourcesFor(in.preset, name))).
		WithReadinessProbe(probe(3)).
		WithLivenessProbe(probe(8)).
		WithStartupProbe(probe(30)).
		WithSecurityContext(restricted()).
		WithVolumeMounts(corev1ac.VolumeMount().WithName(volume).WithMountPath(dir).WithReadOnly(true))
}

// controlPlaneDeployment runs kube-apiserver, kube-controller-manager and
// kube-scheduler together, one pod per replica spread over the zones. A
// rolling update adds a new replica before it removes an old one, so the
// API keeps its capacity while it moves to a new version.
func (cp *ControlPlane) controlPlaneDeployment(in cpInput) *appsv1ac.DeploymentApplyConfiguration {
	c, n := in.c, namesOf(in.c)
	pod := cp.podSpec(componentControlPlane, in.replicas > 1).
		WithPriorityClassName(criticalPriority).
		WithAffinity(preferZones(in.zones)).
		WithContainers(cp.apiserverContainer(in), cp.controllerManagerContainer(in), cp.schedulerContainer(in)).
		WithVolumes(
			secretVolume("apiserver-pki", secretName(c, secretAPIServer)),
			secretVolume("controller-manager", secretName(c, secretKCM)),
			secretVolume("scheduler", secretName(c, secretScheduler)),
		)
	return appsv1ac.Deployment(n.controlPlane(), n.ns).
		WithLabels(componentLabels(c, componentControlPlane)).
		WithSpec(appsv1ac.DeploymentSpec().
			WithReplicas(in.replicas).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(selectorOf(componentControlPlane))).
			WithStrategy(appsv1ac.DeploymentStrategy().
				WithType(appsv1.RollingUpdateDeploymentStrategyType).
				WithRollingUpdate(appsv1ac.RollingUpdateDeployment().
					WithMaxSurge(intstr.FromInt32(1)).
					WithMaxUnavailable(intstr.FromInt32(0)))).
			WithTemplate(corev1ac.PodTemplateSpec().
				WithLabels(componentLabels(c, componentControlPlane)).
				WithSpec(pod)))
}

// podSpec is what every control-plane and etcd pod shares: the nodes meant
// for control planes, spread over the zones (strictly when there are
// several replicas), no host API token, no service links.
func (cp *ControlPlane) podSpec(component string, spread bool) *corev1ac.PodSpecApplyConfiguration {
	when := corev1.ScheduleAnyway
	if spread {
		when = corev1.DoNotSchedule
	}
	spec := corev1ac.PodSpec().
		WithAutomountServiceAccountToken(false).
		WithEnableServiceLinks(false).
		WithSecurityContext(corev1ac.PodSecurityContext().
			WithSeccompProfile(corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault))).
		WithTopologySpreadConstraints(corev1ac.TopologySpreadConstraint().
			WithMaxSkew(1).
			WithTopologyKey(zoneKey).
			WithWhenUnsatisfiable(when).
			WithLabelSelector(metav1ac.LabelSelector().WithMatchLabels(selectorOf(component))))
	if len(cp.opts.NodeSelector) > 0 {
		spec = spec.WithNodeSelector(cp.opts.NodeSelector)
	}
	for _, t := range cp.opts.Tolerations {
		tol := corev1ac.Toleration().WithKey(t.Key).WithOperator(t.Operator).WithEffect(t.Effect)
		if t.Value != "" {
			tol = tol.WithValue(t.Value)
		}
		spec = spec.WithTolerations(tol)
	}
	return spec
}

// preferZones asks the scheduler for the datacenters the core chose
// (zone of replica i is zones[i]); a preference, not a rule, so that a
// replica still starts elsewhere while its datacenter is down. The spread
// constraint does the rest: with maxSkew 1 over the zones, n replicas land
// as the core's round-robin placed them.
func preferZones(zones []string) *corev1ac.AffinityApplyConfiguration {
	uniq := slices.Compact(slices.Sorted(slices.Values(zones)))
	if len(uniq) == 0 {
		return nil
	}
	return corev1ac.Affinity().WithNodeAffinity(corev1ac.NodeAffinity().
		WithPreferredDuringSchedulingIgnoredDuringExecution(corev1ac.PreferredSchedulingTerm().
			WithWeight(100).
			WithPreference(corev1ac.NodeSelectorTerm().WithMatchExpressions(corev1ac.NodeSelectorRequirement().
				WithKey(zoneKey).WithOperator(corev1.NodeSelectorOpIn).WithValues(uniq...)))))
}

// restricted is the container security context of every component: no
// privilege escalation, no capabilities (they all listen above 1024).
func restricted() *corev1ac.SecurityContextApplyConfiguration {
	return corev1ac.SecurityContext().
		WithAllowPrivilegeEscalation(false).
		WithCapabilities(corev1ac.Capabilities().WithDrop("ALL"))
}

func secretVolume(name, secret string) *corev1ac.VolumeApplyConfiguration {
	return corev1ac.Volume().WithName(name).WithSecret(corev1ac.SecretVolumeSource().WithSecretName(secret).WithDefaultMode(0o400))
}

func resourcesAC(r corev1.ResourceRequirements) *corev1ac.ResourceRequirementsApplyConfiguration {
	return corev1ac.ResourceRequirements().WithRequests(r.Requests).WithLimits(r.Limits)
}

// pdb lets at most one replica of component go at a time: etcd keeps its
// quorum, the API keeps serving.
func pdb(c provider.ClusterRef, component string) *policyv1ac.PodDisruptionBudgetApplyConfiguration {
	n := namesOf(c)
	return policyv1ac.PodDisruptionBudget(n.of(component), n.ns).
		WithLabels(componentLabels(c, component)).
		WithSpec(policyv1ac.PodDisruptionBudgetSpec().
			WithMaxUnavailable(intstr.FromInt32(1)).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(selectorOf(component))))
}

// endpointPort is the Service port of the tenant API.
const endpointPort = 443
