package quota

import (
	"context"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/pkg/catalog"
)

// GPUUsageName is the ConfigMap in InventoryNamespace that holds the GPUs
// reserved over all tenants, one key per model (the gpumodels object name),
// the value a count: the record GPU-capacity admission charges with
// compare-and-swap, as quota admission charges a ResourceQuota's
// status.used. hikube-apiserver creates it at the first GPU request;
// hikube-controller's quota status controller corrects it from the store.
const GPUUsageName = "gpu-usage"

// gpuTurn is the in-process turn key of GPU charges (namespace names cannot
// contain a slash).
const gpuTurn = "/gpus"

// gpuUsage is the record as read: cm is nil while it does not exist.
type gpuUsage struct {
	cm       *corev1.ConfigMap
	reserved map[string]int64
}

// readGPUUsage reads the record live; models without a figure (or no record
// at all) are seeded from the store.
func (t *Tracker) readGPUUsage(ctx context.Context) (gpuUsage, error) {
	rec := gpuUsage{reserved: map[string]int64{}}
	cm, err := t.host.CoreV1().ConfigMaps(InventoryNamespace).Get(ctx, GPUUsageName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return rec, fmt.Errorf("reading the GPU usage %s/%s: %w", InventoryNamespace, GPUUsageName, err)
	default:
		rec.cm = cm
	}
	var seed map[string]int64
	for _, m := range catalog.GPUModels() {
		if rec.cm != nil {
			if n, err := strconv.ParseInt(rec.cm.Data[m.Name], 10, 64); err == nil {
				rec.reserved[m.Name] = n
				continue
			}
		}
		if seed == nil {
			all, err := t.storeUsage(ctx, "")
			if err != nil {
				return rec, err
			}
			seed = Reservations(all)
		}
		rec.reserved[m.Name] = seed[m.Name]
	}
	return rec, nil
}

// write stores the record: create when it did not exist, else an update
// conditioned on the resourceVersion read. A conflict (or a concurrent
// create) is returned as is, for the caller to read again.
func (t *Tracker) writeGPUUsage(ctx context.Context, rec gpuUsage) error {
	data := FormatGPUUsage(rec.reserved)
	cms := t.host.CoreV1().ConfigMaps(InventoryNamespace)
	if rec.cm == nil {
		_, err := cms.Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: GPUUsageName, Namespace: InventoryNamespace,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "hikube"}},
			Data: data,
		}, metav1.CreateOptions{})
		return err
	}
	cm := rec.cm.DeepCopy()
	cm.Data = data
	_, err := cms.Update(ctx, cm, metav1.UpdateOptions{})
	return err
}

// chargeGPUs checks the GPU models the request raises against the free
// capacity (capacity minus what the other clusters reserve) and, unless
// dry-run, adds the increase to the GPU usage record.
func (t *Tracker) chargeGPUs(ctx context.Context, u usageChange) ([]Charge, []string, error) {
	var models []catalog.GPUModel
	delta := corev1.ResourceList{}
	for _, key := range u.increased {
		if m, ok := GPUModelOf(key); ok {
			models = append(models, m)
			delta[key] = u.delta[key]
		}
	}
	if len(models) == 0 {
		return nil, nil, nil
	}
	t.turns.LockKey(gpuTurn)
	defer func() { _ = t.turns.UnlockKey(gpuTurn) }()
	for attempt := 0; ; attempt++ {
		if attempt == maxAttempts {
			return nil, nil, fmt.Errorf("charging the GPU usage: still conflicting after %d attempts", maxAttempts)
		}
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return nil, nil, fmt.Errorf("charging the GPU usage: %w", err)
			}
		}
		capacity, err := t.capacity(ctx)
		if err != nil {
			return nil, nil, err
		}
		rec, err := t.readGPUUsage(ctx)
		if err != nil {
			return nil, nil, err
		}
		var msgs []string
		for _, m := range models {
			key := GPUResource(m)
			req, old := u.newUsage[key], u.oldUsage[key]
			others := max(rec.reserved[m.Name]-old.Value(), 0)
			if others+req.Value() > capacity.Total(m.Name) {
				msgs = append(msgs, CapacityMessage(m, req.Value(), Allocate(capacity[m.Name], others)))
			}
		}
		if len(msgs) > 0 || u.dryRun {
			return nil, msgs, nil
		}
		for _, m := range models {
			d := delta[GPUResource(m)]
			rec.reserved[m.Name] += d.Value()
		}
		err = t.writeGPUUsage(ctx, rec)
		if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("charging the GPU usage %s/%s: %w", InventoryNamespace, GPUUsageName, err)
		}
		return []Charge{{Delta: delta}}, nil, nil
	}
}

// releaseGPUs subtracts the GPU keys of usage from the record; without a
// record there is nothing to give back (it is seeded from the store).
func (t *Tracker) releaseGPUs(ctx context.Context, usage corev1.ResourceList) error {
	give := map[string]int64{}
	for k, v := range usage {
		if m, ok := GPUModelOf(k); ok && v.Value() > 0 {
			give[m.Name] = v.Value()
		}
	}
	if len(give) == 0 {
		return nil
	}
	for attempt := 0; ; attempt++ {
		if attempt == maxAttempts {
			return fmt.Errorf("releasing GPU usage: still conflicting after %d attempts", maxAttempts)
		}
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return fmt.Errorf("releasing GPU usage: %w", err)
			}
		}
		rec, err := t.readGPUUsage(ctx)
		if err != nil {
			return err
		}
		if rec.cm == nil {
			return nil
		}
		for m, n := range give {
			rec.reserved[m] = max(rec.reserved[m]-n, 0)
		}
		err = t.writeGPUUsage(ctx, rec)
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("releasing GPU usage in %s/%s: %w", InventoryNamespace, GPUUsageName, err)
		}
		return nil
	}
}

// GPUUsageFigures parses the record's data (for the quota status
// controller): model name to reserved GPUs, models without a valid figure
// left out.
func GPUUsageFigures(data map[string]string) map[string]int64 {
	out := map[string]int64{}
	for _, m := range catalog.GPUModels() {
		if n, err := strconv.ParseInt(data[m.Name], 10, 64); err == nil {
			out[m.Name] = n
		}
	}
	return out
}

// FormatGPUUsage is the record's data for reserved GPUs per model.
func FormatGPUUsage(reserved map[string]int64) map[string]string {
	data := map[string]string{}
	for _, m := range catalog.GPUModels() {
		data[m.Name] = strconv.FormatInt(max(reserved[m.Name], 0), 10)
	}
	return data
}
