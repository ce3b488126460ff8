package localplatform

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/quota"
)

// seedGPUs is the local platform's GPU inventory per model and datacenter.
var seedGPUs = map[string]int64{"l40s": 8, "a100": 4, "h100": 4}

// seedGPUInventory creates the ConfigMap hikube-system/gpu-inventory that
// hikube-apiserver reads its GPU capacity from (--gpu-capacity-source=inventory).
// It is created only when missing: an administrator's edit survives a restart.
func (p *Platform) seedGPUInventory(ctx context.Context) error {
	cs, err := p.clientset(p.admin)
	if err != nil {
		return err
	}
	capacity := quota.Capacity{}
	for model, n := range seedGPUs {
		capacity[model] = map[string]int64{}
		for _, dc := range catalog.Datacenters {
			capacity[model][dc] = n
		}
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: quota.InventoryName, Namespace: quota.InventoryNamespace},
		Data:       quota.FormatInventory(capacity),
	}
	_, err = cs.CoreV1().ConfigMaps(cm.Namespace).Create(ctx, cm, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("seeding the GPU inventory %s/%s: %w", cm.Namespace, cm.Name, err)
	}
	return nil
}
