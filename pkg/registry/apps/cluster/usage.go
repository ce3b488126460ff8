package cluster

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/pkg/quota"
)

// Usage gives back quota and GPU usage that quota admission charged
// (pkg/quota.Tracker). Admission charges before the write; only the
// registry knows how the write ended, so it gives back what did not land:
// the charges of a failed write, the decrease of an update, the usage of a
// deleted cluster.
type Usage interface {
	Release(ctx context.Context, namespace string, usage corev1.ResourceList) error
	ReleaseCharges(ctx context.Context, charges []quota.Charge) error
}

// releaseTimeout bounds the release after a delete, which outlives the
// request.
const releaseTimeout = 30 * time.Second

// Create stores a cluster and gives back admission's charges if the write
// failed (a name already taken, a storage error after admission).
func (r *REST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	if r.usage == nil {
		return r.Store.Create(ctx, obj, createValidation, options)
	}
	ctx, charges := quota.WithCharges(ctx)
	out, err := r.Store.Create(ctx, obj, createValidation, options)
	if err != nil {
		r.releaseCharges(ctx, charges.All())
		return nil, err
	}
	r.releaseCharges(ctx, charges.Superseded())
	return out, nil
}

// Update stores a cluster; afterwards it gives back what admission charged
// for attempts the storage layer retried (or all of it when the write
// failed), and the decrease when the update lowered usage.
func (r *REST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	if r.usage == nil {
		return r.Store.Update(ctx, name, objInfo, createValidation, updateValidation, forceAllowCreate, options)
	}
	ctx, charges := quota.WithCharges(ctx)
	info := &capturingOld{UpdatedObjectInfo: objInfo}
	out, created, err := r.Store.Update(ctx, name, info, createValidation, updateValidation, forceAllowCreate, options)
	if err != nil {
		r.releaseCharges(ctx, charges.All())
		return nil, false, err
	}
	c, ok := out.(*apps.Cluster)
	if !ok || created || isDryRun(options.DryRun) {
		r.releaseCharges(ctx, charges.Superseded())
		return out, created, nil
	}
	if c.DeletionTimestamp != nil && len(c.Finalizers) == 0 {
		// The update removed the last finalizer: the cluster is gone, and
		// the request that removed it from etcd gave back what it had
		// stored; this update's own increase never counts.
		r.releaseCharges(ctx, charges.All())
		return out, created, nil
	}
	r.releaseCharges(ctx, charges.Superseded())
	if old, ok := info.last().(*apps.Cluster); ok {
		r.release(ctx, c.Namespace, decrease(quota.ClusterUsage(old), quota.ClusterUsage(c)))
	}
	return out, created, nil
}

// releasingStorage gives back the usage of a cluster when, and only when, a
// Delete of its storage removed it from etcd. Kubernetes' registry also runs
// its AfterDelete hook in a request that lost a race to remove the object (an
// update removing the last finalizer, or a delete, that finds it already gone
// runs the hook on the copy it read), so a give-back there could happen
// twice for one cluster and leave the record too low. etcd removes a key
// once. Dry-run deletes never reach this storage (the registry's
// DryRunnableStorage stops them above it).
type releasingStorage struct {
	storage.Interface
	release func(ctx context.Context, c *apps.Cluster)
}

func (s releasingStorage) Delete(ctx context.Context, key string, out runtime.Object, preconditions *storage.Preconditions, validateDeletion storage.ValidateObjectFunc, cachedExistingObject runtime.Object, opts storage.DeleteOptions) error {
	if err := s.Interface.Delete(ctx, key, out, preconditions, validateDeletion, cachedExistingObject, opts); err != nil {
		return err
	}
	if c, ok := out.(*apps.Cluster); ok {
		s.release(ctx, c)
	}
	return nil
}

// releaseDeleted gives back the usage of a cluster removed from the store.
func (r *REST) releaseDeleted(ctx context.Context, c *apps.Cluster) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	r.release(ctx, c.Namespace, quota.ClusterUsage(c))
}

// release and releaseCharges outlive the client: a client that hangs up
// after its write must not leave the usage charged. A failure leaves the
// records too high (safe: never an overshoot) until hikube-controller's
// quota status controller recomputes them.
func (r *REST) release(ctx context.Context, namespace string, usage corev1.ResourceList) {
	if err := r.usage.Release(context.WithoutCancel(ctx), namespace, usage); err != nil {
		klog.FromContext(ctx).Error(err, "Releasing quota usage", "namespace", namespace)
	}
}

func (r *REST) releaseCharges(ctx context.Context, charges []quota.Charge) {
	if len(charges) == 0 {
		return
	}
	if err := r.usage.ReleaseCharges(context.WithoutCancel(ctx), charges); err != nil {
		klog.FromContext(ctx).Error(err, "Giving back quota charges of a write that did not land")
	}
}

// decrease is, per key, how much lower new is than old.
func decrease(old, new corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for k, o := range old {
		n := new[k]
		if o.Cmp(n) > 0 {
			d := o.DeepCopy()
			d.Sub(n)
			out[k] = d
		}
	}
	return out
}

func isDryRun(dryRun []string) bool { return len(dryRun) > 0 }

// capturingOld remembers the stored object the storage layer computed the
// update from (the last one, when it retried).
type capturingOld struct {
	rest.UpdatedObjectInfo
	old runtime.Object
}

func (c *capturingOld) UpdatedObject(ctx context.Context, oldObj runtime.Object) (runtime.Object, error) {
	c.old = oldObj
	return c.UpdatedObjectInfo.UpdatedObject(ctx, oldObj)
}

func (c *capturingOld) last() runtime.Object { return c.old }
