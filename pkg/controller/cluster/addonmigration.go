package cluster

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/hikube/hikube/pkg/addons/catalog"
)

// placeholder is where an earlier hikube put an add-on's placeholder
// Deployment, before add-ons were Helm releases.
type placeholder struct{ namespace, deployment string }

// placeholders by add-on key.
var placeholders = map[string]placeholder{
	"certManager":      {"cert-manager", "cert-manager"},
	"ingressNginx":     {"ingress-nginx", "ingress-nginx-controller"},
	"fluxcd":           {"flux-system", "source-controller"},
	"monitoringAgents": {"hikube-monitoring", "monitoring-agent"},
	"gpuOperator":      {"gpu-operator", "gpu-operator"},
	"velero":           {"velero", "velero"},
	"gatewayAPI":       {"gateway-system", "gateway-controller"},
}

// removePlaceholders deletes the placeholder Deployment and its "values"
// ConfigMap of an earlier hikube, identified by the platform's label and the
// absence of Helm's ownership annotation, so the release does not collide
// with them.
func removePlaceholders(ctx context.Context, kube kubernetes.Interface, a catalog.Addon) error {
	p, ok := placeholders[a.Key]
	if !ok {
		return nil
	}
	if p.namespace != a.Namespace {
		// The add-on moved: the old namespace held nothing but the placeholder.
		ns, err := kube.CoreV1().Namespaces().Get(ctx, p.namespace, metav1.GetOptions{})
		if err == nil && ns.Labels[labelAddon] == a.Key && ns.DeletionTimestamp == nil {
			err = kube.CoreV1().Namespaces().Delete(ctx, p.namespace, metav1.DeleteOptions{})
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("removing the placeholder namespace %s: %w", p.namespace, err)
		}
		return nil
	}
	if d, err := kube.AppsV1().Deployments(p.namespace).Get(ctx, p.deployment, metav1.GetOptions{}); err == nil {
		if d.Labels[labelManaged] == "true" && d.Annotations["meta.helm.sh/release-name"] == "" {
			if err := kube.AppsV1().Deployments(p.namespace).Delete(ctx, p.deployment, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("removing the placeholder Deployment %s/%s: %w", p.namespace, p.deployment, err)
			}
		}
	} else if !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading %s/%s: %w", p.namespace, p.deployment, err)
	}
	if cm, err := kube.CoreV1().ConfigMaps(p.namespace).Get(ctx, "values", metav1.GetOptions{}); err == nil {
		if cm.Labels[labelManaged] == "true" {
			if err := kube.CoreV1().ConfigMaps(p.namespace).Delete(ctx, "values", metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("removing the placeholder ConfigMap %s/values: %w", p.namespace, err)
			}
		}
	} else if !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading %s/values: %w", p.namespace, err)
	}
	return nil
}
