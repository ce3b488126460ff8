package cluster

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/clusterpki"
)

// reconcileDelete tears down what the provider created, then the PKI, then
// lets the cluster go by removing the finalizer.
func (c *Controller) reconcileDelete(ctx context.Context, s *state) error {
	if !slices.Contains(s.cluster.Finalizers, Finalizer) {
		return nil
	}
	s.status.Phase = v1alpha1.ClusterDeleting
	done, err := c.provider.Delete(ctx, s.ref)
	if err != nil {
		return fmt.Errorf("deleting the resources of %s: %w", s.ref, err)
	}
	if !done {
		s.requeueAfter(c.opts.ResyncProgressing)
		return errStop
	}
	err = c.kube.CoreV1().Secrets(clusterpki.Namespace).Delete(ctx, clusterpki.SecretName(s.ref), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting the PKI of %s: %w", s.ref, err)
	}
	c.forget(s.ref.Namespace, s.ref.Name)
	c.recorder.Event(s.cluster, "Normal", "Deleted", "Control plane, nodes and credentials removed")
	finalizers := slices.DeleteFunc(slices.Clone(s.cluster.Finalizers), func(f string) bool { return f == Finalizer })
	if err := c.patchFinalizers(ctx, s, finalizers); err != nil {
		if apierrors.IsNotFound(err) {
			s.cluster = nil
			return nil
		}
		return err
	}
	s.cluster = nil // gone once the finalizer is removed
	return nil
}
