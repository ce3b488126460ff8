// Package catalog serves the platform's catalogs (instance types, GPU models)
// as read-only, cluster-scoped resources built from pkg/catalog. They live in
// code, not in etcd: the table in pkg/catalog is the single source of truth.
package catalog

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/rest"
)

// readOnly serves a fixed set of objects with get and list.
type readOnly struct {
	resource    schema.GroupResource
	singular    string
	shortNames  []string
	newFunc     func() runtime.Object
	newListFunc func() runtime.Object
	// items returns the objects, freshly built (callers may mutate them).
	items func(ctx context.Context) ([]runtime.Object, error)
	rest.TableConvertor
}

var (
	_ rest.Getter               = &readOnly{}
	_ rest.Lister               = &readOnly{}
	_ rest.Scoper               = &readOnly{}
	_ rest.SingularNameProvider = &readOnly{}
	_ rest.ShortNamesProvider   = &readOnly{}
	_ rest.CategoriesProvider   = &readOnly{}
)

func (r *readOnly) New() runtime.Object     { return r.newFunc() }
func (r *readOnly) NewList() runtime.Object { return r.newListFunc() }
func (r *readOnly) Destroy()                {}
func (r *readOnly) NamespaceScoped() bool   { return false }
func (r *readOnly) GetSingularName() string { return r.singular }
func (r *readOnly) ShortNames() []string    { return r.shortNames }
func (r *readOnly) Categories() []string    { return []string{"hikube"} }

// Get returns one object by name.
func (r *readOnly) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	objs, err := r.items(ctx)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		m, err := meta.Accessor(o)
		if err != nil {
			return nil, err
		}
		if m.GetName() == name {
			return o, nil
		}
	}
	return nil, apierrors.NewNotFound(r.resource, name)
}

// List returns the objects matching the label and field (metadata.name) selectors.
func (r *readOnly) List(ctx context.Context, options *metainternalversion.ListOptions) (runtime.Object, error) {
	objs, err := r.items(ctx)
	if err != nil {
		return nil, err
	}
	labelSel, fieldSel := labels.Everything(), fields.Everything()
	if options != nil && options.LabelSelector != nil {
		labelSel = options.LabelSelector
	}
	if options != nil && options.FieldSelector != nil {
		fieldSel = options.FieldSelector
	}
	var kept []runtime.Object
	for _, o := range objs {
		m, err := meta.Accessor(o)
		if err != nil {
			return nil, err
		}
		if labelSel.Matches(labels.Set(m.GetLabels())) && fieldSel.Matches(fields.Set{"metadata.name": m.GetName()}) {
			kept = append(kept, o)
		}
	}
	list := r.newListFunc()
	if err := meta.SetList(list, kept); err != nil {
		return nil, fmt.Errorf("building the %s list: %w", r.resource, err)
	}
	return list, nil
}
