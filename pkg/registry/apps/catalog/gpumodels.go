package catalog

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/pkg/catalog"
)

// GPUStatusSource reports, per GPU model (catalog object name), capacity,
// reservation and free GPUs per datacenter.
type GPUStatusSource interface {
	GPUStatus(ctx context.Context) (map[string][]apps.GPUDatacenterStatus, error)
}

// NewGPUModels returns the gpumodels resource; with a nil source the status
// stays empty (FREE shows <unknown>).
func NewGPUModels(status GPUStatusSource) rest.Storage {
	return &readOnly{
		resource:    apps.Resource("gpumodels"),
		singular:    "gpumodel",
		shortNames:  []string{"gpu"},
		newFunc:     func() runtime.Object { return &apps.GPUModel{} },
		newListFunc: func() runtime.Object { return &apps.GPUModelList{} },
		items: func(ctx context.Context) ([]runtime.Object, error) {
			var byModel map[string][]apps.GPUDatacenterStatus
			if status != nil {
				var err error
				// The catalog stays readable when capacity cannot be read;
				// FREE then shows <unknown>.
				if byModel, err = status.GPUStatus(ctx); err != nil {
					klog.FromContext(ctx).Error(err, "Reading GPU capacity for the gpumodels catalog")
				}
			}
			var objs []runtime.Object
			for _, m := range catalog.GPUModels() {
				o := gpuModelObject(m)
				o.Status.Datacenters = byModel[m.Name]
				objs = append(objs, o)
			}
			return objs, nil
		},
		TableConvertor: tableFunc{
			columns: []metav1.TableColumnDefinition{
				{Name: "Name", Type: "string", Format: "name"},
				{Name: "Model", Type: "string", Description: "Name node groups use in spec.nodeGroups[*].gpus"},
				{Name: "Memory", Type: "string"},
				{Name: "Device Resource", Type: "string", Description: "Extended resource the nodes advertise"},
				{Name: "Free", Type: "string", Description: "Free GPUs per datacenter"},
			},
			cells: func(obj runtime.Object) ([]interface{}, error) {
				m, ok := obj.(*apps.GPUModel)
				if !ok {
					return nil, fmt.Errorf("cannot print %T as a GPU model", obj)
				}
				return []interface{}{m.Name, m.Spec.ShortName, m.Spec.Memory.String(), m.Spec.DeviceResource, freeCell(m.Status)}, nil
			},
		},
	}
}

func gpuModelObject(m catalog.GPUModel) *apps.GPUModel {
	return &apps.GPUModel{
		ObjectMeta: metav1.ObjectMeta{Name: m.Name},
		Spec: apps.GPUModelSpec{
			Vendor:         m.Vendor,
			Model:          m.Model,
			ShortName:      m.ShortName,
			DeviceResource: m.DeviceResource,
			Memory:         *resource.NewQuantity(int64(m.MemoryGB)*1000*1000*1000, resource.DecimalSI),
		},
	}
}

func freeCell(s apps.GPUModelStatus) string {
	if len(s.Datacenters) == 0 {
		return "<unknown>"
	}
	out := ""
	for i, dc := range s.Datacenters {
		if i > 0 {
			out += ","
		}
		out += fmt.Sprintf("%s=%d/%d", dc.Name, dc.Free, dc.Capacity)
	}
	return out
}
