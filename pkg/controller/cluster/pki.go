package cluster

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/pkg/clusterpki"
)

// ensurePKI creates the cluster's CA, front-proxy CA and service-account key
// once, in a Secret in hikube-system that tenants cannot read, and loads it.
func (c *Controller) ensurePKI(ctx context.Context, s *state) error {
	secrets := c.kube.CoreV1().Secrets(clusterpki.Namespace)
	name := clusterpki.SecretName(s.ref)
	sec, err := secrets.Get(ctx, name, metav1.GetOptions{})
	if err == nil && sec.Labels[clusterpki.LabelClusterUID] != s.ref.UID {
		// Left by an earlier cluster of the same name that was not cleaned
		// up: never hand its CA to a new cluster.
		if err := secrets.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &sec.UID}}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("removing the stale PKI secret %s: %w", name, err)
		}
		err = apierrors.NewNotFound(sec.GroupVersionKind().GroupVersion().WithResource("secrets").GroupResource(), name)
	}
	if apierrors.IsNotFound(err) {
		p, genErr := clusterpki.Generate(s.ref)
		if genErr != nil {
			return genErr
		}
		sec, err = secrets.Create(ctx, clusterpki.ToSecret(s.ref, p), metav1.CreateOptions{FieldManager: "hikube-controller"})
		if apierrors.IsAlreadyExists(err) {
			sec, err = secrets.Get(ctx, name, metav1.GetOptions{})
		}
	}
	if err != nil {
		return fmt.Errorf("PKI secret %s/%s: %w", clusterpki.Namespace, name, err)
	}
	s.pki, err = clusterpki.FromSecret(sec)
	return err
}
