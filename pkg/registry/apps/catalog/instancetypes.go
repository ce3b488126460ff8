package catalog

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/pkg/catalog"
)

// NewInstanceTypes returns the instancetypes resource.
func NewInstanceTypes() rest.Storage {
	return &readOnly{
		resource:    apps.Resource("instancetypes"),
		singular:    "instancetype",
		shortNames:  []string{"it"},
		newFunc:     func() runtime.Object { return &apps.InstanceType{} },
		newListFunc: func() runtime.Object { return &apps.InstanceTypeList{} },
		items: func(context.Context) ([]runtime.Object, error) {
			var objs []runtime.Object
			for _, it := range catalog.InstanceTypes() {
				objs = append(objs, instanceTypeObject(it))
			}
			return objs, nil
		},
		TableConvertor: tableFunc{
			columns: []metav1.TableColumnDefinition{
				{Name: "Name", Type: "string", Format: "name"},
				{Name: "Family", Type: "string"},
				{Name: "vCPU", Type: "string"},
				{Name: "Memory", Type: "string"},
				{Name: "GPUs", Type: "string", Description: "Whether GPUs may be attached"},
				{Name: "Description", Type: "string", Priority: 1},
			},
			cells: func(obj runtime.Object) ([]interface{}, error) {
				it, ok := obj.(*apps.InstanceType)
				if !ok {
					return nil, fmt.Errorf("cannot print %T as an instance type", obj)
				}
				gpus := "no"
				if it.Spec.GPUCapable {
					gpus = "yes"
				}
				return []interface{}{it.Name, it.Spec.Family, it.Spec.CPU.String(), it.Spec.Memory.String(), gpus, it.Spec.Description}, nil
			},
		},
	}
}

func instanceTypeObject(it catalog.InstanceType) *apps.InstanceType {
	return &apps.InstanceType{
		ObjectMeta: metav1.ObjectMeta{Name: it.Name, Labels: map[string]string{"apps.hikube.io/family": it.Family.Name}},
		Spec: apps.InstanceTypeSpec{
			Family:      it.Family.Name,
			Description: it.Family.Description,
			CPU:         *resource.NewQuantity(int64(it.CPU), resource.DecimalSI),
			Memory:      *resource.NewQuantity(int64(it.MemoryGiB)<<30, resource.BinarySI),
			Shared:      it.Family.Shared,
			GPUCapable:  it.Family.GPUCapable(),
		},
	}
}
