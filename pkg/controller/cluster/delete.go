package cluster

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/clusterpki"
	"github.com/hikube/hikube/pkg/provider"
)

// deleteReconciler tears down what the provider created, then the PKI, then
// lets the cluster go by removing the finalizer. The finalizer stays until
// the provider says it is done, so nothing outlives the cluster.
type deleteReconciler struct {
	provider provider.Provider
	secrets  corev1client.SecretsGetter
	clusters clusterWriter
	tenants  *tenantClients
	recorder record.EventRecorder
	// resyncProgressing is how soon to look again while the provider removes.
	resyncProgressing time.Duration
}

func (r *deleteReconciler) reconcile(ctx context.Context, s *state) (reconcileStatus, error) {
	if !slices.Contains(s.cluster.Finalizers, Finalizer) {
		return reconcileContinue, nil
	}
	s.status.Phase = v1alpha1.ClusterDeleting
	// Stop watching the tenant before its API goes: a kube-apiserver with
	// our informers' watches open waits out its whole shutdown grace.
	r.tenants.forget(s.ref.Namespace, s.ref.Name)
	done, err := r.provider.Delete(ctx, s.ref)
	if err != nil {
		return reconcileStop, fmt.Errorf("deleting the resources of %s: %w", s.ref, err)
	}
	if !done {
		s.requeueAfter(r.resyncProgressing)
		return reconcileStop, nil
	}
	err = r.secrets.Secrets(clusterpki.Namespace).Delete(ctx, clusterpki.SecretName(s.ref), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return reconcileStop, fmt.Errorf("deleting the PKI of %s: %w", s.ref, err)
	}
	r.recorder.Event(s.cluster, corev1.EventTypeNormal, "Deleted", "Control plane, nodes and credentials removed")
	finalizers := slices.DeleteFunc(slices.Clone(s.cluster.Finalizers), func(f string) bool { return f == Finalizer })
	if _, err := r.clusters.setFinalizers(ctx, s.cluster, finalizers); err != nil && !apierrors.IsNotFound(err) {
		return reconcileStop, err
	}
	s.cluster = nil // gone once the finalizer is removed
	return reconcileContinue, nil
}
