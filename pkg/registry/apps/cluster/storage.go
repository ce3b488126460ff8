package cluster

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/pkg/registry/sizelimit"
)

// REST is the clusters resource.
type REST struct {
	*genericregistry.Store
	usage Usage
}

// StatusREST is the clusters/status subresource.
type StatusREST struct {
	store *genericregistry.Store
}

// Storage holds the resource and its subresources.
type Storage struct {
	Cluster *REST
	Status  *StatusREST
}

// NewStorage wires the clusters store over the storage the options describe
// (etcd, with the watch cache). usage, when not nil, is given back what
// quota admission charged for writes that did not land, lowered or deleted
// clusters.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter, usage Usage) (*Storage, error) {
	strategy := NewStrategy(scheme)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &apps.Cluster{} },
		NewListFunc:               func() runtime.Object { return &apps.ClusterList{} },
		PredicateFunc:             Match,
		DefaultQualifiedResource:  apps.Resource("clusters"),
		SingularQualifiedResource: apps.Resource("cluster"),

		CreateStrategy:      strategy,
		UpdateStrategy:      strategy,
		DeleteStrategy:      strategy,
		ResetFieldsStrategy: strategy,

		TableConvertor: tableConvertor{},
	}
	r := &REST{Store: store, usage: usage}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: GetAttrs}); err != nil {
		return nil, fmt.Errorf("completing the clusters store: %w", err)
	}
	// An object etcd refuses for its size is the client's error (413), not 500.
	store.Storage.Storage = sizelimit.Wrap(store.Storage.Storage)
	if usage != nil {
		// A deleted cluster's usage is given back by the request whose
		// delete removed it from etcd, exactly once (see releasingStorage).
		store.Storage.Storage = releasingStorage{Interface: store.Storage.Storage, release: r.releaseDeleted}
	}

	statusStore := *store
	statusStrategy := NewStatusStrategy(strategy)
	statusStore.UpdateStrategy = statusStrategy
	statusStore.ResetFieldsStrategy = statusStrategy
	return &Storage{Cluster: r, Status: &StatusREST{store: &statusStore}}, nil
}

var (
	_ rest.ShortNamesProvider   = &REST{}
	_ rest.CategoriesProvider   = &REST{}
	_ rest.SingularNameProvider = &REST{}
)

// ShortNames lets tenants type `kubectl get hkc`.
func (*REST) ShortNames() []string { return []string{"hkc"} }

// Categories puts clusters in `kubectl get hikube`.
func (*REST) Categories() []string { return []string{"hikube"} }

// New returns an empty cluster.
func (r *StatusREST) New() runtime.Object { return &apps.Cluster{} }

// Destroy is a no-op: the main resource owns the shared storage.
func (r *StatusREST) Destroy() {}

// Get returns the cluster, for reading its status.
func (r *StatusREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.store.Get(ctx, name, options)
}

// Update writes the status of a cluster; the status strategy keeps the rest.
func (r *StatusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	// Status never creates a cluster, whatever the caller asks.
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}

// GetResetFields tells server-side apply which fields a status writer never owns.
func (r *StatusREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}

// ConvertToTable prints the status like the main resource.
func (r *StatusREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.store.ConvertToTable(ctx, object, tableOptions)
}
