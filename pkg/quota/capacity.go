package quota

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// Capacity sources, the values of hikube-apiserver's --gpu-capacity-source.
const (
	// CapacitySourceInventory reads the ConfigMap hikube-system/gpu-inventory
	// (the local platform seeds it).
	CapacitySourceInventory = "inventory"
	// CapacitySourceNodes sums the host nodes' allocatable GPUs per zone.
	CapacitySourceNodes = "nodes"
)

// CapacityFunc returns the platform's GPU capacity now.
type CapacityFunc func(ctx context.Context) (Capacity, error)

// InventoryCapacity reads the inventory ConfigMap live, so that an edit counts
// at the next request. Without the ConfigMap the platform has no GPUs.
func InventoryCapacity(host kubernetes.Interface) CapacityFunc {
	return func(ctx context.Context) (Capacity, error) {
		cm, err := host.CoreV1().ConfigMaps(InventoryNamespace).Get(ctx, InventoryName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return Capacity{}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the GPU inventory %s/%s: %w", InventoryNamespace, InventoryName, err)
		}
		return ParseInventory(cm.Data)
	}
}

// NodeCapacity sums the allocatable GPUs of the host's nodes (CapacitySourceNodes).
func NodeCapacity(nodes corelisters.NodeLister) CapacityFunc {
	return func(context.Context) (Capacity, error) {
		list, err := nodes.List(labels.Everything())
		if err != nil {
			return nil, fmt.Errorf("listing host nodes: %w", err)
		}
		return CapacityFromNodes(list), nil
	}
}
