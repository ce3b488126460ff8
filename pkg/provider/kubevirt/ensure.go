package kubevirt

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/provider"
)

// annotationUpgradingFrom is on the control-plane Deployment while it rolls
// from that version to its own, so that every Ensure until the roll ends
// says an upgrade runs.
const annotationUpgradingFrom = "apps.hikube.io/upgrading-from"

// observed is what one Ensure reads of the host before it writes.
type observed struct {
	endpointHost string
	secrets      map[string]*corev1.Secret
	etcd         *appsv1.StatefulSet
	deploy       *appsv1.Deployment
}

// desired is what one Ensure writes, and the upgrade step it is on.
type desired struct {
	objects *HostObjects
	step    step
	members int
	// upgradingFrom is the version the Deployment rolls away from.
	upgradingFrom string
	// etcdBootstrap is the StatefulSet's annotationEtcdBootstrap.
	etcdBootstrap string
}

// DesiredObjects are the host objects of a new cluster c for spec, with its
// endpoint at endpointHost ("" while the Service has no ingress): what the
// first Ensure writes once the endpoint is known. Certificates are issued
// anew on every call.
func (cp *ControlPlane) DesiredObjects(c provider.ClusterRef, spec provider.ControlPlaneSpec, endpointHost string) (*HostObjects, error) {
	d, err := cp.desired(c, spec, observed{endpointHost: endpointHost})
	if err != nil {
		return nil, err
	}
	return d.objects, nil
}

// desired builds every object from spec and what exists: certificates that
// still fit are kept, etcd keeps its member count, an upgrade takes its
// next step.
func (cp *ControlPlane) desired(c provider.ClusterRef, spec provider.ControlPlaneSpec, obs observed) (desired, error) {
	target, ok := cp.opts.Versions[spec.Minor]
	if !ok {
		return desired{}, fmt.Errorf("no image version is known for Kubernetes %s", spec.Minor)
	}
	preset, err := LookupPreset(cmp.Or(spec.Preset, catalog.DefaultControlPlanePreset))
	if err != nil {
		return desired{}, err
	}
	running, runningEtcd := "", ""
	if obs.deploy != nil {
		running = imageVersion(containerImage(obs.deploy.Spec.Template.Spec.Containers, containerAPIServer))
	}
	if obs.etcd != nil {
		runningEtcd = containerImage(obs.etcd.Spec.Template.Spec.Containers, containerEtcd)
	}
	st := plan(running, runningEtcd, statefulSetRolledOut(obs.etcd), target, cp.etcdImageFor(spec.Minor))
	d := desired{step: st, members: etcdMembers(spec.Replicas, obs.etcd), etcdBootstrap: etcdBootstrapOf(obs)}
	switch {
	case st.upgrading && st.reason == ReasonUpgrading:
		d.upgradingFrom = running
	case obs.deploy != nil && obs.deploy.Annotations[annotationUpgradingFrom] != "" && !deploymentRolledOut(obs.deploy):
		d.upgradingFrom = obs.deploy.Annotations[annotationUpgradingFrom]
	}

	n := namesOf(c)
	h := &HostObjects{Namespace: corev1ac.Namespace(n.ns).WithLabels(clusterLabels(c))}
	d.objects = h
	is := issuer{now: cp.now(), existing: obs.secrets}
	url := ""
	if obs.endpointHost != "" {
		url = endpointURL(obs.endpointHost)
	}
	h.Secrets, err = is.buildSecrets(pkiInput{c: c, pki: spec.PKI, members: d.members, endpointHost: obs.endpointHost, endpointURL: url})
	if err != nil {
		return desired{}, err
	}
	h.Services = append(h.Services, cp.etcdHeadlessService(c), cp.endpointService(c))
	h.NetworkPolicies = append(h.NetworkPolicies, cp.etcdPolicy(c), cp.controlPlanePolicy(c))
	h.PodDisruptionBudgets = append(h.PodDisruptionBudgets, pdb(c, componentEtcd))
	h.StatefulSets = append(h.StatefulSets, cp.etcdStatefulSet(c, d.members, st.etcdImage, preset, spec.Zones, d.etcdBootstrap))
	if obs.endpointHost == "" || st.terminal {
		// The apiservers' certificate must name the endpoint: nothing
		// that serves or reaches the API is made before it is known.
		return d, nil
	}

	replicas := max(spec.Replicas, 1)
	deploy := cp.controlPlaneDeployment(cpInput{c: c, replicas: replicas, version: st.version, members: d.members, preset: preset, zones: spec.Zones,
		advertise: advertiseAddress(obs.endpointHost)})
	if d.upgradingFrom != "" {
		deploy = deploy.WithAnnotations(map[string]string{annotationUpgradingFrom: d.upgradingFrom})
	}
	h.PodDisruptionBudgets = append(h.PodDisruptionBudgets, pdb(c, componentControlPlane))
	cloudCM, err := cp.cloudConfigMap(c)
	if err != nil {
		return desired{}, err
	}
	csiCM, err := cp.csiDriverConfig(c)
	if err != nil {
		return desired{}, err
	}
	h.ConfigMaps = append(h.ConfigMaps, cloudCM, csiCM)
	for _, a := range []struct {
		component string
		rules     []*rbacv1ac.PolicyRuleApplyConfiguration
	}{{componentCloudProvider, cloudProviderRules()}, {componentCSI, csiRules()}} {
		sa, role, rb := hostAccess(c, a.component, a.rules...)
		h.ServiceAccounts, h.Roles, h.RoleBindings = append(h.ServiceAccounts, sa), append(h.Roles, role), append(h.RoleBindings, rb)
	}
	ccm, csi := cp.cloudProviderDeployment(c), cp.csiDeployment(c)
	// A re-issued certificate or kubeconfig rolls the pods that use it:
	// the controller manager, the scheduler and the KubeVirt components
	// read their credentials once, at start.
	for _, x := range []struct {
		d       *appsv1ac.DeploymentApplyConfiguration
		secrets []string
	}{
		{deploy, []string{secretAPIServer, secretKCM, secretScheduler}},
		{ccm, []string{secretCloudProvider}},
		{csi, []string{secretCSI}},
	} {
		x.d.Spec.Template.WithAnnotations(map[string]string{annotationCredentials: credentialsHash(c, h.Secrets, x.secrets...)})
	}
	h.Deployments = append(h.Deployments, deploy, ccm, csi)
	return d, nil
}

// annotationCredentials is on the pod template: a hash of the Secrets its
// pods mount.
const annotationCredentials = "apps.hikube.io/credentials-hash"

// credentialsHash is a short hash of the named Secrets' data.
func credentialsHash(c provider.ClusterRef, secrets []*corev1ac.SecretApplyConfiguration, names ...string) string {
	h := sha256.New()
	for _, what := range names {
		for _, s := range secrets {
			if *s.Name != secretName(c, what) {
				continue
			}
			for _, k := range slices.Sorted(maps.Keys(s.Data)) {
				fmt.Fprintf(h, "%s/%s=%x;", *s.Name, k, s.Data[k])
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func containerImage(containers []corev1.Container, name string) string {
	for _, c := range containers {
		if c.Name == name {
			return c.Image
		}
	}
	return ""
}

// statefulSetRolledOut says every member runs the current spec and is ready.
func statefulSetRolledOut(s *appsv1.StatefulSet) bool {
	if s == nil || s.Spec.Replicas == nil {
		return false
	}
	want := *s.Spec.Replicas
	return s.Status.ObservedGeneration >= s.Generation && s.Status.UpdatedReplicas == want && s.Status.ReadyReplicas == want &&
		(s.Status.UpdateRevision == "" || s.Status.CurrentRevision == s.Status.UpdateRevision)
}

// deploymentRolledOut says every replica runs the current spec and is
// available, and no old one is left.
func deploymentRolledOut(d *appsv1.Deployment) bool {
	if d == nil || d.Spec.Replicas == nil {
		return false
	}
	want := *d.Spec.Replicas
	return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas == want && d.Status.ReadyReplicas == want &&
		d.Status.AvailableReplicas == want && d.Status.Replicas == want
}

// observe reads what exists of the cluster's control plane.
func (cp *ControlPlane) observe(ctx context.Context, c provider.ClusterRef) (observed, error) {
	n := namesOf(c)
	obs := observed{secrets: map[string]*corev1.Secret{}}
	list, err := cp.host.CoreV1().Secrets(n.ns).List(ctx, metav1.ListOptions{LabelSelector: clusterSelector(c)})
	if err != nil {
		return obs, fmt.Errorf("listing the secrets of %s: %w", c, err)
	}
	for i := range list.Items {
		obs.secrets[list.Items[i].Name] = &list.Items[i]
	}
	if obs.etcd, err = getOrNil(cp.host.AppsV1().StatefulSets(n.ns).Get(ctx, n.etcd(), metav1.GetOptions{})); err != nil {
		return obs, fmt.Errorf("reading the etcd of %s: %w", c, err)
	}
	if obs.deploy, err = getOrNil(cp.host.AppsV1().Deployments(n.ns).Get(ctx, n.controlPlane(), metav1.GetOptions{})); err != nil {
		return obs, fmt.Errorf("reading the control plane of %s: %w", c, err)
	}
	return obs, nil
}

func getOrNil[T any](obj *T, err error) (*T, error) {
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return obj, nil
}

// EnsureControlPlane writes the cluster's host objects and reports what it
// sees. It never waits: the endpoint's address, etcd's and the
// Deployment's rollouts are looked at again on the next call.
func (cp *ControlPlane) EnsureControlPlane(ctx context.Context, c provider.ClusterRef, spec provider.ControlPlaneSpec) (provider.ControlPlaneStatus, error) {
	replicas := max(spec.Replicas, 1)
	status := provider.ControlPlaneStatus{Replicas: replicas}
	if _, ok := cp.opts.Versions[spec.Minor]; !ok {
		status.Reason, status.Terminal = ReasonUnknownVersion, true
		status.Message = fmt.Sprintf("no image version is known for Kubernetes %s; give one with --control-plane-versions %s=%s.N", spec.Minor, spec.Minor, spec.Minor)
		return status, nil
	}
	n := namesOf(c)
	opts := metav1.ApplyOptions{FieldManager: cp.opts.FieldManager, Force: true}
	if _, err := cp.host.CoreV1().Namespaces().Apply(ctx, corev1ac.Namespace(n.ns).WithLabels(clusterLabels(c)), opts); err != nil {
		return status, fmt.Errorf("host namespace of %s: %w", c, err)
	}
	obs, err := cp.observe(ctx, c)
	if err != nil {
		return status, err
	}
	// The Service first: its ingress address goes into the serving
	// certificate and the endpoint.
	svc, err := cp.host.CoreV1().Services(n.ns).Apply(ctx, cp.endpointService(c), opts)
	if err != nil {
		return status, fmt.Errorf("endpoint service of %s: %w", c, err)
	}
	obs.endpointHost = endpointHost(svc)
	d, err := cp.desired(c, spec, obs)
	if err != nil {
		return status, fmt.Errorf("control plane of %s: %w", c, err)
	}
	if err := d.objects.Apply(ctx, cp.host, opts); err != nil {
		return status, fmt.Errorf("control plane of %s: %w", c, err)
	}
	after, err := cp.observe(ctx, c)
	if err != nil {
		return status, err
	}
	after.endpointHost = obs.endpointHost
	rebootstrapped, err := cp.rebootstrapEtcd(ctx, c, d, after)
	if err != nil {
		return status, err
	}
	s := cp.status(ctx, c, spec, d, after)
	if rebootstrapped != "" && !s.Ready {
		s.Message += "; " + rebootstrapped
	}
	return s, nil
}

// status derives the ControlPlaneStatus from the StatefulSet's and the
// Deployment's status and a probe through the endpoint.
func (cp *ControlPlane) status(ctx context.Context, c provider.ClusterRef, spec provider.ControlPlaneSpec, d desired, obs observed) provider.ControlPlaneStatus {
	n := namesOf(c)
	s := provider.ControlPlaneStatus{Replicas: max(spec.Replicas, 1)}
	if d.step.terminal {
		s.Reason, s.Message, s.Terminal = d.step.reason, d.step.message, true
		return s
	}
	if obs.endpointHost == "" {
		s.Reason = ReasonWaitingForEndpoint
		s.Message = fmt.Sprintf("waiting for the %s Service %s/%s to get an ingress address", cp.opts.EndpointServiceType, n.ns, n.endpoint())
		return s
	}
	s.Endpoint = endpointURL(obs.endpointHost)
	if obs.deploy != nil {
		s.ReadyReplicas = min(obs.deploy.Status.ReadyReplicas, s.Replicas)
	}
	var etcdReady int32
	if obs.etcd != nil {
		etcdReady = obs.etcd.Status.ReadyReplicas
	}
	version, probeErr, rbacErr := "", error(nil), error(nil)
	if s.ReadyReplicas > 0 {
		if cfg, err := cp.AdminConfig(ctx, c); err != nil {
			probeErr = err
		} else if version, probeErr = cp.opts.Probe(ctx, cfg); probeErr == nil {
			s.Version = version
			rbacErr = cp.ensureTenantRBAC(ctx, cfg)
		}
	}
	etcdDone, deployDone := statefulSetRolledOut(obs.etcd), deploymentRolledOut(obs.deploy)
	s.Ready = etcdDone && deployDone && !d.step.upgrading && d.upgradingFrom == "" && probeErr == nil && rbacErr == nil && s.ReadyReplicas > 0 &&
		minorOf(version) == spec.Minor
	switch {
	case s.Ready:
	case d.step.reason == ReasonUpgradingEtcd:
		s.Reason = d.step.reason
		s.Message = fmt.Sprintf("%s (%d of %d members ready)", d.step.message, etcdReady, d.members)
	case d.upgradingFrom != "":
		var updated int32
		if obs.deploy != nil {
			updated = obs.deploy.Status.UpdatedReplicas
		}
		s.Reason = ReasonUpgrading
		s.Message = fmt.Sprintf("upgrading from %s to %s: step 2 of 2, rolling the control-plane replicas (%d of %d updated, %d ready)",
			d.upgradingFrom, d.step.version, updated, s.Replicas, s.ReadyReplicas)
	case !etcdDone:
		s.Reason = ReasonEtcdStarting
		s.Message = fmt.Sprintf("%d of %d etcd members ready", etcdReady, d.members)
	case !deployDone || s.ReadyReplicas == 0:
		s.Reason = ReasonStarting
		s.Message = fmt.Sprintf("%d of %d control-plane replicas ready", s.ReadyReplicas, s.Replicas)
	case probeErr != nil:
		s.Reason = ReasonStarting
		s.Message = fmt.Sprintf("the API does not answer through %s yet: %v", s.Endpoint, probeErr)
	case rbacErr != nil:
		s.Reason = ReasonStarting
		s.Message = fmt.Sprintf("giving the KubeVirt cloud provider and CSI controller their rights in the tenant: %v", rbacErr)
	default:
		s.Reason = ReasonStarting
		s.Message = fmt.Sprintf("the API at %s reports %s, not %s yet", s.Endpoint, version, spec.Minor)
	}
	if !s.Ready {
		klog.FromContext(ctx).V(4).Info("Control plane not ready", "cluster", c.String(), "reason", s.Reason, "message", s.Message)
	}
	return s
}
