package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var metaUpdateOptions = metav1.UpdateOptions{FieldManager: "hikube-controller"}

// ensureFinalizer adds the finalizer before anything is created for the
// cluster, so that nothing can outlive it.
func (c *Controller) ensureFinalizer(ctx context.Context, s *state) error {
	if slices.Contains(s.cluster.Finalizers, Finalizer) {
		return nil
	}
	return c.patchFinalizers(ctx, s, append(slices.Clone(s.cluster.Finalizers), Finalizer))
}

// patchFinalizers writes the finalizer list guarded by the resourceVersion
// read, so a concurrent change is never overwritten.
func (c *Controller) patchFinalizers(ctx context.Context, s *state, finalizers []string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"finalizers":      finalizers,
		"resourceVersion": s.cluster.ResourceVersion,
	}})
	if err != nil {
		return err
	}
	updated, err := c.hikube.AppsV1alpha1().Clusters(s.cluster.Namespace).Patch(ctx, s.cluster.Name,
		types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "hikube-controller"})
	if err != nil {
		return fmt.Errorf("setting finalizers of %s: %w", s.ref, err)
	}
	s.cluster = updated
	return nil
}
