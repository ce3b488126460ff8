package quota

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/keymutex"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/catalog"
	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
	informers "github.com/hikube/hikube/pkg/generated/informers/externalversions"
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

// Tracker counts what clusters take, for quota admission and the gpumodels
// catalog: the usage of our own store, read live, plus the reservations of
// writes admitted but not yet stored, against the tenants' ResourceQuotas and
// the platform's GPU capacity.
type Tracker struct {
	clusters clientset.Interface
	host     kubernetes.Interface
	capacity CapacityFunc

	// nsLocks serialize the quota checks of one namespace, gpuLock the GPU
	// capacity checks of the whole platform (taken after a namespace lock).
	nsLocks keymutex.KeyMutex
	gpuLock sync.Mutex
	ledger  *ledger
}

// NewTracker counts from clusters (our store), reads quotas from host and
// the GPU capacity from capacity.
func NewTracker(clusters clientset.Interface, host kubernetes.Interface, capacity CapacityFunc) *Tracker {
	return &Tracker{
		clusters: clusters,
		host:     host,
		capacity: capacity,
		nsLocks:  keymutex.NewHashed(0),
		ledger:   newLedger(),
	}
}

// Reserve checks the keys c raises (over old, the stored cluster on update)
// against the ResourceQuotas of namespace, then the GPU models it raises
// against the free capacity, and returns the refusals of the first check
// that fails. Each check holds its lock while it counts from a live list of
// our store plus the reservations in flight, and an admitted write reserves
// its usage until the store shows it (or the reservation expires), so that
// concurrent requests cannot both take the last unit.
func (t *Tracker) Reserve(ctx context.Context, namespace string, c, old *apps.Cluster) ([]string, error) {
	newUsage, oldUsage := ClusterUsage(c), corev1.ResourceList{}
	if old != nil {
		oldUsage = ClusterUsage(old)
	}
	increased := Increased(oldUsage, newUsage)
	if len(increased) == 0 {
		return nil, nil
	}
	self := namespace + "/" + c.Name
	reserve := false

	quotas, err := t.quotasFor(ctx, namespace, increased)
	if err != nil {
		return nil, err
	}
	if len(quotas) > 0 {
		t.nsLocks.LockKey(namespace)
		defer func() { _ = t.nsLocks.UnlockKey(namespace) }()
		others, err := t.usageExcept(ctx, namespace, self)
		if err != nil {
			return nil, err
		}
		if msgs := Check(c, quotas, others, increased); len(msgs) > 0 {
			return msgs, nil
		}
		reserve = true
	}

	var models []catalog.GPUModel
	for _, key := range increased {
		if m, ok := GPUModelOf(key); ok {
			models = append(models, m)
		}
	}
	if len(models) > 0 {
		t.gpuLock.Lock()
		defer t.gpuLock.Unlock()
		if msgs, err := t.checkCapacity(ctx, self, newUsage, models); err != nil || len(msgs) > 0 {
			return msgs, err
		}
		reserve = true
	}

	if reserve {
		r := reservation{namespace: namespace, name: c.Name, usage: newUsage, expires: time.Now().Add(reservationTTL)}
		if old != nil {
			r.fromRV = old.ResourceVersion
		}
		t.ledger.add(r)
	}
	return nil, nil
}

// quotasFor returns the namespace's ResourceQuotas that limit one of keys,
// read live: a quota counts from the moment its create returns. (A cached
// read lets the first writes after a new quota through unchecked, and
// unreserved, so a burst of creates could overshoot it.)
func (t *Tracker) quotasFor(ctx context.Context, ns string, keys []corev1.ResourceName) ([]corev1.ResourceQuota, error) {
	list, err := t.host.CoreV1().ResourceQuotas(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading the quotas of %s: %w", ns, err)
	}
	var out []corev1.ResourceQuota
	for _, q := range list.Items {
		if !Applies(&q) {
			continue
		}
		for _, k := range keys {
			if _, ok := q.Spec.Hard[k]; ok {
				out = append(out, q)
				break
			}
		}
	}
	return out, nil
}

// checkCapacity refuses GPU models whose free capacity (over all tenants)
// cannot hold the cluster's new reservation.
func (t *Tracker) checkCapacity(ctx context.Context, self string, newUsage corev1.ResourceList, models []catalog.GPUModel) ([]string, error) {
	capacity, err := t.capacity(ctx)
	if err != nil {
		return nil, err
	}
	others, err := t.usageExcept(ctx, "", self)
	if err != nil {
		return nil, err
	}
	reserved := Reservations(others)
	var msgs []string
	for _, m := range models {
		q := newUsage[GPUResource(m)]
		requested := q.Value()
		if reserved[m.Name]+requested > capacity.Total(m.Name) {
			msgs = append(msgs, CapacityMessage(m, requested, Allocate(capacity[m.Name], reserved[m.Name])))
		}
	}
	return msgs, nil
}

// GPUStatus is, per GPU model, the capacity, reservation and free GPUs per
// datacenter: the status of the gpumodels catalog. A nil Tracker knows no
// capacity.
func (t *Tracker) GPUStatus(ctx context.Context) (map[string][]apps.GPUDatacenterStatus, error) {
	if t == nil {
		return nil, nil
	}
	capacity, err := t.capacity(ctx)
	if err != nil {
		return nil, err
	}
	all, err := t.usageExcept(ctx, "", "/")
	if err != nil {
		return nil, err
	}
	reserved := Reservations(all)
	out := map[string][]apps.GPUDatacenterStatus{}
	for _, m := range catalog.GPUModels() {
		out[m.Name] = Allocate(capacity[m.Name], reserved[m.Name])
	}
	return out, nil
}

// usageExcept sums the usage of the clusters of namespace ("" for all) except
// the one named self ("namespace/name"): a live list of our store, so every
// committed write counts, plus the reservations of writes admitted whose
// result is not in the store yet, so that no write between our check and its
// commit is missed. A cluster both listed and reserved counts with the larger.
func (t *Tracker) usageExcept(ctx context.Context, namespace, self string) (corev1.ResourceList, error) {
	// The reservations are read BEFORE the list: a write the watch reports
	// (dropping its reservation) after this point may be missing from the
	// list, but it is in this snapshot; one dropped before it is in the list.
	reserved := t.ledger.snapshot(namespace, time.Now())
	list, err := t.clusters.AppsV1alpha1().Clusters(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing clusters: %w", err)
	}
	per := map[string]corev1.ResourceList{}
	stored := map[string]string{}
	for i := range list.Items {
		c := &list.Items[i]
		key := c.Namespace + "/" + c.Name
		per[key] = VersionedClusterUsage(c)
		stored[key] = c.ResourceVersion
	}
	for key, u := range reserved {
		per[key] = Max(per[key], u)
	}
	t.ledger.prune(stored)
	delete(per, self)
	total := corev1.ResourceList{}
	for _, u := range per {
		total = Sum(total, u)
	}
	return total, nil
}

// VersionedClusterUsage is ClusterUsage of a cluster read through the
// versioned client.
func VersionedClusterUsage(c *v1alpha1.Cluster) corev1.ResourceList {
	var internal apps.Cluster
	// The generated conversion needs no scope for clusters.
	if err := v1alpha1.Convert_v1alpha1_Cluster_To_apps_Cluster(c, &internal, nil); err != nil {
		return corev1.ResourceList{}
	}
	return ClusterUsage(&internal)
}

// StartWatch tells the ledger which admitted writes have landed, from a
// watch of our store, until ctx ends. Without it reservations still end at
// the next list that shows the write, or when they expire.
func (t *Tracker) StartWatch(ctx context.Context) error {
	factory := informers.NewSharedInformerFactory(t.clusters, 10*time.Minute)
	if _, err := factory.Apps().V1alpha1().Clusters().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { t.observe(obj, false) },
		UpdateFunc: func(_, obj any) { t.observe(obj, false) },
		DeleteFunc: func(obj any) { t.observe(obj, true) },
	}); err != nil {
		return fmt.Errorf("watching clusters for the quota ledger: %w", err)
	}
	factory.Start(ctx.Done())
	return nil
}

func (t *Tracker) observe(obj any, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj, deleted = d.Obj, true
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	rv := m.GetResourceVersion()
	if deleted {
		rv = ""
	}
	t.ledger.observed(m.GetNamespace(), m.GetName(), rv)
}
