// Package cluster is the registry of clusters.apps.hikube.io: the semantics of
// create, update and status writes (strategy.go), the store wiring over etcd
// (storage.go) and the table kubectl prints (tableconvertor.go).
package cluster

import (
	"context"
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/validation"
)

// clusterStrategy is the behaviour of writes to the main resource: tenants own
// the spec, the controller owns the status.
type clusterStrategy struct {
	runtime.ObjectTyper
	names.NameGenerator
}

// NewStrategy returns the strategy of the clusters resource.
func NewStrategy(typer runtime.ObjectTyper) clusterStrategy {
	return clusterStrategy{typer, names.SimpleNameGenerator}
}

func (clusterStrategy) NamespaceScoped() bool { return true }

// GetResetFields tells server-side apply that status is not the tenant's: an
// apply of the main resource never takes ownership of it.
func (clusterStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"apps.hikube.io/v1alpha1": fieldpath.NewSet(fieldpath.MakePathOrDie("status")),
	}
}

// PrepareForCreate drops any status the client sent and starts the generation.
func (clusterStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	c := obj.(*apps.Cluster)
	c.Status = apps.ClusterStatus{}
	c.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation only when
// the spec changed, so status.observedGeneration means "this spec was seen".
func (clusterStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newC, oldC := obj.(*apps.Cluster), old.(*apps.Cluster)
	newC.Status = oldC.Status
	if !apiequality.Semantic.DeepEqual(newC.Spec, oldC.Spec) {
		newC.Generation = oldC.Generation + 1
	}
}

// Validate runs the static checks. What a cluster names from the catalog is
// checked after it by the HikubeCatalog admission plugin (pkg/admission/catalog).
func (clusterStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidateCluster(obj.(*apps.Cluster))
}

func (clusterStrategy) WarningsOnCreate(_ context.Context, obj runtime.Object) []string {
	return validation.ClusterWarnings(obj.(*apps.Cluster))
}

func (clusterStrategy) Canonicalize(runtime.Object) {}

func (clusterStrategy) AllowCreateOnUpdate(context.Context) bool { return false }

func (clusterStrategy) AllowUnconditionalUpdate(context.Context) bool { return true }

func (clusterStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateClusterUpdate(obj.(*apps.Cluster), old.(*apps.Cluster))
}

func (clusterStrategy) WarningsOnUpdate(_ context.Context, obj, _ runtime.Object) []string {
	return validation.ClusterWarnings(obj.(*apps.Cluster))
}

// statusStrategy is the behaviour of clusters/status: only the status moves.
type statusStrategy struct {
	clusterStrategy
}

// NewStatusStrategy returns the strategy of the clusters/status subresource.
func NewStatusStrategy(s clusterStrategy) statusStrategy { return statusStrategy{s} }

// GetResetFields tells server-side apply that a status writer never owns the spec.
func (statusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"apps.hikube.io/v1alpha1": fieldpath.NewSet(
			fieldpath.MakePathOrDie("spec"),
			fieldpath.MakePathOrDie("metadata", "labels"),
			fieldpath.MakePathOrDie("metadata", "annotations"),
		),
	}
}

// PrepareForUpdate keeps everything but the status as stored.
func (statusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newC, oldC := obj.(*apps.Cluster), old.(*apps.Cluster)
	newC.Spec = oldC.Spec
	newC.Labels = oldC.Labels
	newC.Annotations = oldC.Annotations
	newC.Generation = oldC.Generation
}

func (statusStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateClusterStatusUpdate(obj.(*apps.Cluster), old.(*apps.Cluster))
}

func (statusStrategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

// GetAttrs returns the labels and the selectable fields of a cluster.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	c, ok := obj.(*apps.Cluster)
	if !ok {
		return nil, nil, fmt.Errorf("not a Cluster: %T", obj)
	}
	return c.Labels, SelectableFields(c), nil
}

// SelectableFields are the fields list and watch can select on; the same set
// is registered as field label conversions in v1alpha1.
func SelectableFields(c *apps.Cluster) fields.Set {
	return generic.AddObjectMetaFieldsSet(fields.Set{
		"status.phase": string(c.Status.Phase),
		"spec.version": c.Spec.Version,
	}, &c.ObjectMeta, true)
}

// Match returns the predicate list and watch filter with.
func Match(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: GetAttrs}
}
