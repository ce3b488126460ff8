package quota

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/keymutex"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/catalog"
	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
	usage "github.com/hikube/hikube/pkg/quota"
)

// Capacity sources of --gpu-capacity-source.
const (
	// CapacityFromInventory reads the ConfigMap hikube-system/gpu-inventory
	// (the local platform seeds it).
	CapacityFromInventory = "inventory"
	// CapacityFromNodes sums the host nodes' allocatable GPUs per zone.
	CapacityFromNodes = "nodes"
)

// Service is what the quota plugin, the gpumodels catalog and the quota
// status loop share: our own store through the loopback client, the host
// cluster, the GPU capacity, and the reservations of requests in flight.
type Service struct {
	clusters clientset.Interface
	host     kubernetes.Interface
	capacity func(ctx context.Context) (usage.Capacity, error)

	quotaInformer cache.SharedIndexInformer
	quotas        corelisters.ResourceQuotaLister

	// nsLocks serialize the quota checks of one namespace, gpuLock the GPU
	// capacity checks of the whole platform (taken after a namespace lock).
	nsLocks keymutex.KeyMutex
	gpuLock sync.Mutex
	ledger  ledger
}

// NewService wires the service from the generic server configuration: the
// loopback client reaches our store, ClientConfig and SharedInformerFactory
// the host. Call it from ExtraAdmissionInitializers, so that the informers it
// asks for start with the server's.
func NewService(c *genericapiserver.RecommendedConfig, capacitySource string) (*Service, error) {
	if c.LoopbackClientConfig == nil || c.ClientConfig == nil || c.SharedInformerFactory == nil {
		return nil, fmt.Errorf("quota admission needs the loopback client and the host cluster (--kubeconfig)")
	}
	clusters, err := clientset.NewForConfig(c.LoopbackClientConfig)
	if err != nil {
		return nil, fmt.Errorf("loopback client: %w", err)
	}
	// Admission reads the GPU inventory on the write path: the default client
	// rate limit (5/s) would throttle creates.
	hostCfg := rest.CopyConfig(c.ClientConfig)
	hostCfg.QPS, hostCfg.Burst = 200, 400
	host, err := kubernetes.NewForConfig(hostCfg)
	if err != nil {
		return nil, fmt.Errorf("host client: %w", err)
	}
	quotas := c.SharedInformerFactory.Core().V1().ResourceQuotas()
	s := &Service{
		clusters:      clusters,
		host:          host,
		quotaInformer: quotas.Informer(),
		quotas:        quotas.Lister(),
		nsLocks:       keymutex.NewHashed(0),
		ledger:        ledger{entries: map[int64]reservation{}},
	}
	switch capacitySource {
	case CapacityFromInventory, "":
		s.capacity = s.inventoryCapacity
	case CapacityFromNodes:
		nodes := c.SharedInformerFactory.Core().V1().Nodes()
		nodes.Informer()
		lister := nodes.Lister()
		s.capacity = func(context.Context) (usage.Capacity, error) {
			list, err := lister.List(labels.Everything())
			if err != nil {
				return nil, fmt.Errorf("listing host nodes: %w", err)
			}
			return usage.CapacityFromNodes(list), nil
		}
	default:
		return nil, fmt.Errorf("--gpu-capacity-source=%q: want %s or %s", capacitySource, CapacityFromInventory, CapacityFromNodes)
	}
	return s, nil
}

// inventoryCapacity reads the inventory live, so that an edit counts at the
// next request. Without the ConfigMap the platform has no GPUs.
func (s *Service) inventoryCapacity(ctx context.Context) (usage.Capacity, error) {
	cm, err := s.host.CoreV1().ConfigMaps(usage.InventoryNamespace).Get(ctx, usage.InventoryName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return usage.Capacity{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the GPU inventory %s/%s: %w", usage.InventoryNamespace, usage.InventoryName, err)
	}
	return usage.ParseInventory(cm.Data)
}

// GPUStatus is, per GPU model, the capacity, reservation and free GPUs per
// datacenter: the status of the gpumodels catalog.
// A nil Service knows no capacity.
func (s *Service) GPUStatus(ctx context.Context) (map[string][]apps.GPUDatacenterStatus, error) {
	if s == nil {
		return nil, nil
	}
	capacity, err := s.capacity(ctx)
	if err != nil {
		return nil, err
	}
	all, err := s.usageExcept(ctx, "", "/")
	if err != nil {
		return nil, err
	}
	reserved := usage.Reservations(all)
	out := map[string][]apps.GPUDatacenterStatus{}
	for _, m := range catalog.GPUModels() {
		out[m.Name] = usage.Allocate(capacity[m.Name], reserved[m.Name])
	}
	return out, nil
}

// usageExcept sums the usage of the clusters of namespace ("" for all) except
// the one named self ("namespace/name"): a live list of our store, so every
// committed write counts, plus the reservations of writes admitted whose
// result is not in the store yet, so that no write between our check and its
// commit is missed. A cluster both listed and reserved counts with the larger.
func (s *Service) usageExcept(ctx context.Context, namespace, self string) (corev1.ResourceList, error) {
	// The reservations are read BEFORE the list: a write the watch reports
	// (dropping its reservation) after this point may be missing from the
	// list, but it is in this snapshot; one dropped before it is in the list.
	reserved := s.ledger.snapshot(namespace, time.Now())
	list, err := s.clusters.AppsV1alpha1().Clusters(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing clusters: %w", err)
	}
	per := map[string]corev1.ResourceList{}
	stored := map[string]string{}
	for i := range list.Items {
		c := &list.Items[i]
		key := c.Namespace + "/" + c.Name
		per[key] = usageOf(c)
		stored[key] = c.ResourceVersion
	}
	for key, u := range reserved {
		per[key] = usage.Max(per[key], u)
	}
	s.ledger.prune(stored)
	delete(per, self)
	total := corev1.ResourceList{}
	for _, u := range per {
		total = usage.Sum(total, u)
	}
	return total, nil
}

// usageOf computes the usage of a cluster read through the versioned client.
func usageOf(c *v1alpha1.Cluster) corev1.ResourceList {
	var internal apps.Cluster
	// The generated conversion needs no scope for clusters.
	if err := v1alpha1.Convert_v1alpha1_Cluster_To_apps_Cluster(c, &internal, nil); err != nil {
		return corev1.ResourceList{}
	}
	return usage.ClusterUsage(&internal)
}

// reservationTTL bounds how long an admitted write that never lands (it
// failed after admission) holds its reservation.
const reservationTTL = 30 * time.Second

// ledger holds the usage of writes admitted whose result is not yet in the
// store. The request context cannot tell when the write is committed (the
// admission context ends with the admission call), so a reservation lasts
// until the store shows the write (the cluster exists with a resourceVersion
// other than the one the write started from) or it expires.
type ledger struct {
	mu      sync.Mutex
	next    int64
	entries map[int64]reservation
}

type reservation struct {
	namespace, name string
	usage           corev1.ResourceList
	// fromRV is the resourceVersion the write replaces ("" for a create).
	fromRV  string
	expires time.Time
}

func (l *ledger) add(r reservation) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next++
	l.entries[l.next] = r
	return l.next
}

// observed drops the reservations of a cluster whose write the store has
// shown: an informer saw it at resourceVersion rv, or deleted (rv ""). A
// create that lands and is deleted before any list would otherwise keep its
// reservation until it expires.
func (l *ledger) observed(namespace, name, rv string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, r := range l.entries {
		if r.namespace == namespace && r.name == name && (rv == "" || rv != r.fromRV) {
			delete(l.entries, id)
		}
	}
}

// snapshot returns the unexpired reservations of namespace ("" for all) by
// "namespace/name", the larger when a cluster has several.
func (l *ledger) snapshot(namespace string, now time.Time) map[string]corev1.ResourceList {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]corev1.ResourceList{}
	for id, r := range l.entries {
		if now.After(r.expires) {
			delete(l.entries, id)
			continue
		}
		if namespace == "" || r.namespace == namespace {
			key := r.namespace + "/" + r.name
			out[key] = usage.Max(out[key], r.usage)
		}
	}
	return out
}

// prune drops the reservations whose write a list showed (stored maps
// "namespace/name" to resourceVersion): the cluster is there at another
// resourceVersion than the write started from, or an updated cluster is gone.
func (l *ledger) prune(stored map[string]string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, r := range l.entries {
		rv, ok := stored[r.namespace+"/"+r.name]
		if (ok && rv != r.fromRV) || (!ok && r.fromRV != "") {
			delete(l.entries, id)
		}
	}
}
