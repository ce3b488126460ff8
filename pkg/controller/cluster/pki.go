package cluster

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/hikube/hikube/pkg/clusterpki"
)

// pkiReconciler creates the cluster's CA, front-proxy CA and service-account
// key once, in a Secret in hikube-system that tenants cannot read, and loads
// it for the control plane.
type pkiReconciler struct {
	secrets corev1client.SecretsGetter
	// generate makes a new PKI (clusterpki.Generate).
	generate func(clusterpki.ClusterRef) (clusterpki.PKI, error)
}

func (r *pkiReconciler) reconcile(ctx context.Context, s *state) (reconcileStatus, error) {
	secrets := r.secrets.Secrets(clusterpki.Namespace)
	name := clusterpki.SecretName(s.ref)
	sec, err := secrets.Get(ctx, name, metav1.GetOptions{})
	if err == nil && sec.Labels[clusterpki.LabelClusterUID] != s.ref.UID {
		// Left by an earlier cluster of the same name that was not cleaned
		// up: never hand its CA to a new cluster.
		if err := secrets.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &sec.UID}}); err != nil && !apierrors.IsNotFound(err) {
			return reconcileStop, fmt.Errorf("removing the stale PKI secret %s: %w", name, err)
		}
		err = apierrors.NewNotFound(sec.GroupVersionKind().GroupVersion().WithResource("secrets").GroupResource(), name)
	}
	if apierrors.IsNotFound(err) {
		p, genErr := r.generate(s.ref)
		if genErr != nil {
			return reconcileStop, genErr
		}
		sec, err = secrets.Create(ctx, clusterpki.ToSecret(s.ref, p), metav1.CreateOptions{FieldManager: fieldManager})
		if apierrors.IsAlreadyExists(err) {
			sec, err = secrets.Get(ctx, name, metav1.GetOptions{})
		}
	}
	if err != nil {
		return reconcileStop, fmt.Errorf("PKI secret %s/%s: %w", clusterpki.Namespace, name, err)
	}
	s.pki, err = clusterpki.FromSecret(sec)
	if err != nil {
		return reconcileStop, err
	}
	return reconcileContinue, nil
}
