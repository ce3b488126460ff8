package cluster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

// addon is how an add-on lands in a tenant cluster: a namespace and its
// controller Deployment, placed on the nodes of the role of the same name
// when a group carries it.
type addon struct {
	namespace, deployment, role string
	replicas                    int32
	tolerateGPU                 bool
}

// addons by spec key. The workloads run the add-ons' controllers; their
// values override goes into the "values" ConfigMap next to them.
var addons = map[string]addon{
	"certManager":      {namespace: "cert-manager", deployment: "cert-manager", replicas: 1},
	"ingressNginx":     {namespace: "ingress-nginx", deployment: "ingress-nginx-controller", role: "ingress-nginx", replicas: 2},
	"fluxcd":           {namespace: "flux-system", deployment: "source-controller", replicas: 1},
	"monitoringAgents": {namespace: "hikube-monitoring", deployment: "monitoring-agent", role: "monitoring", replicas: 1},
	"gpuOperator":      {namespace: "gpu-operator", deployment: "gpu-operator", replicas: 1, tolerateGPU: true},
	"velero":           {namespace: "velero", deployment: "velero", replicas: 1},
	"gatewayAPI":       {namespace: "gateway-system", deployment: "gateway-controller", replicas: 1},
}

const labelAddon = "apps.hikube.io/addon"

// addonsReconciler installs the enabled add-ons in the tenant cluster,
// removes the disabled ones and reports each one's state.
type addonsReconciler struct {
	// resyncProgressing is how soon to look again while add-ons converge.
	resyncProgressing time.Duration
}

func (r *addonsReconciler) reconcile(ctx context.Context, s *state) (reconcileStatus, error) {
	enabled := enabledAddons(&s.cluster.Spec.Addons)
	st := map[string]v1alpha1.AddonStatus{}
	for _, key := range slices.Sorted(maps.Keys(addons)) {
		a := addons[key]
		spec, on := enabled[key]
		var state v1alpha1.AddonStatus
		var err error
		if on {
			state, err = installAddon(ctx, s, key, a, spec)
		} else {
			state, err = removeAddon(ctx, s, a)
		}
		if err != nil {
			return reconcileStop, fmt.Errorf("add-on %s of %s: %w", key, s.ref, err)
		}
		if state.State != "" {
			st[key] = state
		}
	}
	s.status.Addons = st
	var waiting []string
	for _, key := range slices.Sorted(maps.Keys(st)) {
		if st[key].State != v1alpha1.AddonReady {
			waiting = append(waiting, key+" "+string(st[key].State))
		}
	}
	if len(waiting) > 0 {
		setCondition(s, v1alpha1.ConditionAddonsReady, metav1.ConditionFalse, v1alpha1.ReasonAddonsProgressing, "waiting for add-ons: "+joinComma(waiting))
		s.requeueAfter(r.resyncProgressing)
		return reconcileContinue, nil
	}
	setCondition(s, v1alpha1.ConditionAddonsReady, metav1.ConditionTrue, v1alpha1.ReasonAddonsReady, fmt.Sprintf("%d add-ons ready", len(st)))
	return reconcileContinue, nil
}

func enabledAddons(a *v1alpha1.Addons) map[string]*v1alpha1.Addon {
	out := map[string]*v1alpha1.Addon{}
	add := func(key string, x *v1alpha1.Addon) {
		if x != nil && x.Enabled {
			out[key] = x
		}
	}
	add("certManager", a.CertManager)
	if a.IngressNginx != nil {
		add("ingressNginx", &a.IngressNginx.Addon)
	}
	add("fluxcd", a.Fluxcd)
	add("monitoringAgents", a.MonitoringAgents)
	add("gpuOperator", a.GPUOperator)
	add("velero", a.Velero)
	add("gatewayAPI", a.GatewayAPI)
	return out
}

func installAddon(ctx context.Context, s *state, key string, a addon, spec *v1alpha1.Addon) (v1alpha1.AddonStatus, error) {
	kube := s.tenant.kube
	labels := map[string]string{labelAddon: key, "apps.hikube.io/managed": "true"}
	if _, err := kube.CoreV1().Namespaces().Apply(ctx, corev1ac.Namespace(a.namespace).WithLabels(labels), applyOptions); err != nil {
		return v1alpha1.AddonStatus{}, err
	}
	values := "{}"
	if spec.ValuesOverride != nil && len(spec.ValuesOverride.Raw) > 0 {
		values = string(spec.ValuesOverride.Raw)
	}
	cm := corev1ac.ConfigMap("values", a.namespace).WithLabels(labels).WithData(map[string]string{"values.json": values})
	if _, err := kube.CoreV1().ConfigMaps(a.namespace).Apply(ctx, cm, applyOptions); err != nil {
		return v1alpha1.AddonStatus{}, err
	}
	podSpec := corev1ac.PodSpec().WithContainers(corev1ac.Container().
		WithName("controller").
		WithImage("registry.hikube.io/addons/" + a.deployment + ":stable").
		WithResources(corev1ac.ResourceRequirements().WithRequests(corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi"),
		})))
	if a.role != "" && groupHasRole(s.cluster, a.role) {
		podSpec = podSpec.WithNodeSelector(map[string]string{"node-role.kubernetes.io/" + a.role: ""})
	}
	if a.tolerateGPU {
		podSpec = podSpec.WithTolerations(corev1ac.Toleration().WithKey(TaintGPU).WithOperator(corev1.TolerationOpExists).WithEffect(corev1.TaintEffectNoSchedule))
	}
	selector := map[string]string{labelAddon: key}
	dep := appsv1ac.Deployment(a.deployment, a.namespace).WithLabels(labels).WithSpec(appsv1ac.DeploymentSpec().
		WithReplicas(a.replicas).
		WithSelector(metav1ac.LabelSelector().WithMatchLabels(selector)).
		WithTemplate(corev1ac.PodTemplateSpec().WithLabels(selector).WithSpec(podSpec)))
	applied, err := kube.AppsV1().Deployments(a.namespace).Apply(ctx, dep, applyOptions)
	if err != nil {
		return v1alpha1.AddonStatus{}, err
	}
	if applied.Status.AvailableReplicas >= 1 && applied.Status.ObservedGeneration >= applied.Generation {
		return v1alpha1.AddonStatus{State: v1alpha1.AddonReady}, nil
	}
	return v1alpha1.AddonStatus{State: v1alpha1.AddonInstalling,
		Message: fmt.Sprintf("%d/%d replicas of %s/%s available", applied.Status.AvailableReplicas, a.replicas, a.namespace, a.deployment)}, nil
}

// removeAddon deletes the add-on's namespace; the state is Removing until it is gone.
func removeAddon(ctx context.Context, s *state, a addon) (v1alpha1.AddonStatus, error) {
	ns, err := s.tenant.kube.CoreV1().Namespaces().Get(ctx, a.namespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) || (err == nil && ns.Labels[labelAddon] == "") {
		return v1alpha1.AddonStatus{}, nil // never installed, or not ours
	}
	if err != nil {
		return v1alpha1.AddonStatus{}, err
	}
	if ns.DeletionTimestamp == nil {
		if err := s.tenant.kube.CoreV1().Namespaces().Delete(ctx, a.namespace, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return v1alpha1.AddonStatus{}, err
		}
	}
	return v1alpha1.AddonStatus{State: v1alpha1.AddonRemoving, Message: "namespace " + a.namespace + " is being deleted"}, nil
}

func groupHasRole(cl *v1alpha1.Cluster, role string) bool {
	for _, g := range cl.Spec.NodeGroups {
		if slices.Contains(g.Roles, role) {
			return true
		}
	}
	return false
}
