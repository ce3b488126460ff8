package kubevirt

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/client-go/kubernetes"
)

// HostObjects are the objects the control-plane half writes into a
// cluster's host namespace, in the order Apply writes them: what a pod
// mounts exists before the pod.
type HostObjects struct {
	Namespace            *corev1ac.NamespaceApplyConfiguration
	Secrets              []*corev1ac.SecretApplyConfiguration
	ConfigMaps           []*corev1ac.ConfigMapApplyConfiguration
	ServiceAccounts      []*corev1ac.ServiceAccountApplyConfiguration
	Roles                []*rbacv1ac.RoleApplyConfiguration
	RoleBindings         []*rbacv1ac.RoleBindingApplyConfiguration
	Services             []*corev1ac.ServiceApplyConfiguration
	NetworkPolicies      []*networkingv1ac.NetworkPolicyApplyConfiguration
	PodDisruptionBudgets []*policyv1ac.PodDisruptionBudgetApplyConfiguration
	StatefulSets         []*appsv1ac.StatefulSetApplyConfiguration
	Deployments          []*appsv1ac.DeploymentApplyConfiguration
}

// Each calls f with every object, in apply order, with its kind and name.
func (h *HostObjects) Each(f func(kind, name string, obj any)) {
	if h.Namespace != nil {
		f("Namespace", *h.Namespace.Name, h.Namespace)
	}
	for _, o := range h.Secrets {
		f("Secret", *o.Name, o)
	}
	for _, o := range h.ConfigMaps {
		f("ConfigMap", *o.Name, o)
	}
	for _, o := range h.ServiceAccounts {
		f("ServiceAccount", *o.Name, o)
	}
	for _, o := range h.Roles {
		f("Role", *o.Name, o)
	}
	for _, o := range h.RoleBindings {
		f("RoleBinding", *o.Name, o)
	}
	for _, o := range h.Services {
		f("Service", *o.Name, o)
	}
	for _, o := range h.NetworkPolicies {
		f("NetworkPolicy", *o.Name, o)
	}
	for _, o := range h.PodDisruptionBudgets {
		f("PodDisruptionBudget", *o.Name, o)
	}
	for _, o := range h.StatefulSets {
		f("StatefulSet", *o.Name, o)
	}
	for _, o := range h.Deployments {
		f("Deployment", *o.Name, o)
	}
}

// Apply writes every object with server-side apply, forcing ownership of
// the fields the provider decides; with opts.DryRun the server validates
// them and stores nothing.
func (h *HostObjects) Apply(ctx context.Context, host kubernetes.Interface, opts metav1.ApplyOptions) error {
	var err error
	h.Each(func(kind, name string, obj any) {
		if err != nil {
			return
		}
		if e := applyOne(ctx, host, obj, opts); e != nil {
			err = fmt.Errorf("applying %s %s: %w", kind, name, e)
		}
	})
	return err
}

func applyOne(ctx context.Context, host kubernetes.Interface, obj any, opts metav1.ApplyOptions) error {
	var err error
	switch o := obj.(type) {
	case *corev1ac.NamespaceApplyConfiguration:
		_, err = host.CoreV1().Namespaces().Apply(ctx, o, opts)
	case *corev1ac.SecretApplyConfiguration:
		_, err = host.CoreV1().Secrets(*o.Namespace).Apply(ctx, o, opts)
	case *corev1ac.ConfigMapApplyConfiguration:
		_, err = host.CoreV1().ConfigMaps(*o.Namespace).Apply(ctx, o, opts)
	case *corev1ac.ServiceAccountApplyConfiguration:
		_, err = host.CoreV1().ServiceAccounts(*o.Namespace).Apply(ctx, o, opts)
	case *rbacv1ac.RoleApplyConfiguration:
		_, err = host.RbacV1().Roles(*o.Namespace).Apply(ctx, o, opts)
	case *rbacv1ac.RoleBindingApplyConfiguration:
		_, err = host.RbacV1().RoleBindings(*o.Namespace).Apply(ctx, o, opts)
	case *corev1ac.ServiceApplyConfiguration:
		_, err = host.CoreV1().Services(*o.Namespace).Apply(ctx, o, opts)
	case *networkingv1ac.NetworkPolicyApplyConfiguration:
		_, err = host.NetworkingV1().NetworkPolicies(*o.Namespace).Apply(ctx, o, opts)
	case *policyv1ac.PodDisruptionBudgetApplyConfiguration:
		_, err = host.PolicyV1().PodDisruptionBudgets(*o.Namespace).Apply(ctx, o, opts)
	case *appsv1ac.StatefulSetApplyConfiguration:
		_, err = host.AppsV1().StatefulSets(*o.Namespace).Apply(ctx, o, opts)
	case *appsv1ac.DeploymentApplyConfiguration:
		_, err = host.AppsV1().Deployments(*o.Namespace).Apply(ctx, o, opts)
	default:
		err = fmt.Errorf("no apply for %T", obj)
	}
	return err
}
