package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	typedv1alpha1 "github.com/hikube/hikube/pkg/generated/clientset/versioned/typed/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/platform"
)

const fieldManager = platform.ControllerName

var metaUpdateOptions = metav1.UpdateOptions{FieldManager: fieldManager}

// clusterWriter writes what the controller owns of a Cluster: its
// finalizers and its status.
type clusterWriter interface {
	// setFinalizers replaces the finalizers of cl, failing if cl changed
	// since it was read, and returns the updated cluster.
	setFinalizers(ctx context.Context, cl *v1alpha1.Cluster, finalizers []string) (*v1alpha1.Cluster, error)
	// updateStatus writes cl's status through clusters/status.
	updateStatus(ctx context.Context, cl *v1alpha1.Cluster) (*v1alpha1.Cluster, error)
}

// apiClusterWriter is the clusterWriter over the clusters API.
type apiClusterWriter struct {
	clusters typedv1alpha1.ClustersGetter
}

// setFinalizers writes the finalizer list guarded by the resourceVersion
// read, so a concurrent change is never overwritten.
func (w apiClusterWriter) setFinalizers(ctx context.Context, cl *v1alpha1.Cluster, finalizers []string) (*v1alpha1.Cluster, error) {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"finalizers":      finalizers,
		"resourceVersion": cl.ResourceVersion,
	}})
	if err != nil {
		return nil, err
	}
	updated, err := w.clusters.Clusters(cl.Namespace).Patch(ctx, cl.Name,
		types.MergePatchType, patch, metav1.PatchOptions{FieldManager: fieldManager})
	if err != nil {
		return nil, fmt.Errorf("setting finalizers of %s/%s: %w", cl.Namespace, cl.Name, err)
	}
	return updated, nil
}

func (w apiClusterWriter) updateStatus(ctx context.Context, cl *v1alpha1.Cluster) (*v1alpha1.Cluster, error) {
	return w.clusters.Clusters(cl.Namespace).UpdateStatus(ctx, cl, metaUpdateOptions)
}

// finalizerReconciler adds the finalizer before anything is created for the
// cluster, so that nothing can outlive it: the steps after it run only once
// the finalizer is stored.
type finalizerReconciler struct {
	clusters clusterWriter
}

func (r *finalizerReconciler) reconcile(ctx context.Context, s *state) (reconcileStatus, error) {
	if slices.Contains(s.cluster.Finalizers, Finalizer) {
		return reconcileContinue, nil
	}
	updated, err := r.clusters.setFinalizers(ctx, s.cluster, append(slices.Clone(s.cluster.Finalizers), Finalizer))
	if err != nil {
		return reconcileStop, err
	}
	s.cluster = updated
	return reconcileContinue, nil
}
