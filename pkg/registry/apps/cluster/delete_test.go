package cluster

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/storagebackend/factory"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/install"
	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/embeddedetcd"
	"github.com/hikube/hikube/pkg/quota"
)

// TestRacingFinalizerRemovalsGiveTheUsageBackOnce: two updates remove the
// last finalizer of a deleted cluster at the same time. Both pass the update,
// both ask the storage to delete; the second one's delete removes the
// cluster, the first one's then finds it gone (Kubernetes' registry still
// runs its after-delete hook for it). The cluster's usage is given back once.
func TestRacingFinalizerRemovalsGiveTheUsageBackOnce(t *testing.T) {
	gate := &firstDeleteGate{entered: make(chan struct{}), resume: make(chan struct{})}
	st, usage := storeOnEtcd(t, gate)
	ctx := genericapirequest.WithNamespace(context.Background(), "tenant-a")
	if _, err := st.Cluster.Create(ctx, testCluster("web", "hikube.io/cleanup"), rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, gone, err := st.Cluster.Delete(ctx, "web", rest.ValidateAllObjectFunc, &metav1.DeleteOptions{}); err != nil || gone {
		t.Fatalf("delete of a cluster with a finalizer: gone %v, %v; want it kept, terminating", gone, err)
	}
	if n := usage.releases(); n != 0 {
		t.Fatalf("%d releases while the cluster is terminating, want 0", n)
	}

	update := func() error {
		_, _, err := st.Cluster.Update(ctx, "web", removeFinalizers{}, rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
		return err
	}
	var wg sync.WaitGroup
	var first error
	wg.Add(1)
	go func() { defer wg.Done(); first = update() }()
	// The first removal has stored the cluster without finalizers and waits
	// at its delete; the second one removes the cluster meanwhile.
	select {
	case <-gate.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the first finalizer removal never reached the storage delete")
	}
	if err := update(); err != nil {
		t.Fatalf("second finalizer removal: %v", err)
	}
	close(gate.resume)
	wg.Wait()
	if first != nil {
		t.Fatalf("first finalizer removal: %v", first)
	}
	if n := usage.releases(); n != 1 {
		t.Errorf("the usage of one deleted cluster was given back %d times, want 1", n)
	}
}

// TestADeleteGivesTheUsageBackUnlessDryRun: a delete without finalizers gives
// the usage back once; a dry-run delete gives nothing back.
func TestADeleteGivesTheUsageBackUnlessDryRun(t *testing.T) {
	st, usage := storeOnEtcd(t, nil)
	ctx := genericapirequest.WithNamespace(context.Background(), "tenant-a")
	if _, err := st.Cluster.Create(ctx, testCluster("web"), rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Cluster.Delete(ctx, "web", rest.ValidateAllObjectFunc, &metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatal(err)
	}
	if n := usage.releases(); n != 0 {
		t.Fatalf("a dry-run delete gave the usage back %d times", n)
	}
	if _, gone, err := st.Cluster.Delete(ctx, "web", rest.ValidateAllObjectFunc, &metav1.DeleteOptions{}); err != nil || !gone {
		t.Fatalf("delete: gone %v, %v", gone, err)
	}
	if n := usage.releases(); n != 1 {
		t.Errorf("a delete gave the usage back %d times, want 1", n)
	}
}

// storeOnEtcd is the clusters store over an embedded etcd (the one
// hikube-apiserver runs), without the watch cache; gate, when not nil, holds
// the first storage delete.
func storeOnEtcd(t *testing.T, gate *firstDeleteGate) (*Storage, *countingUsage) {
	t.Helper()
	etcd, err := embeddedetcd.Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(etcd.Stop)
	scheme := runtime.NewScheme()
	install.Install(scheme)
	cfg := storagebackend.NewDefaultConfig("/hikube-test", serializer.NewCodecFactory(scheme).LegacyCodec(v1alpha1.SchemeGroupVersion))
	cfg.Transport.ServerList = []string{etcd.ClientURL}
	opts := generic.RESTOptions{
		StorageConfig:           cfg.ForResource(apps.Resource("clusters")),
		ResourcePrefix:          "/clusters",
		DeleteCollectionWorkers: 1,
		Decorator: func(c *storagebackend.ConfigForResource, prefix string, keyFunc func(runtime.Object) (string, error), newFunc, newListFunc func() runtime.Object,
			attrs storage.AttrFunc, trigger storage.IndexerFuncs, indexers *cache.Indexers) (storage.Interface, factory.DestroyFunc, error) {
			s, destroy, err := generic.UndecoratedStorage(c, prefix, keyFunc, newFunc, newListFunc, attrs, trigger, indexers)
			if gate == nil || err != nil {
				return s, destroy, err
			}
			return &gatedStorage{Interface: s, gate: gate}, destroy, nil
		},
	}
	usage := &countingUsage{}
	st, err := NewStorage(scheme, restOptions(opts), usage)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Cluster.Store.DestroyFunc)
	return st, usage
}

func testCluster(name string, finalizers ...string) *apps.Cluster {
	return &apps.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "tenant-a", Finalizers: finalizers},
		Spec: apps.ClusterSpec{Version: "v1.37", ControlPlane: apps.ControlPlaneSpec{Replicas: ptr.To[int32](1), ResourcesPreset: "small"},
			NodeGroups: map[string]apps.NodeGroup{"web": {MinReplicas: ptr.To[int32](0), MaxReplicas: ptr.To[int32](3), InstanceType: "u1.large",
				EphemeralStorage: ptr.To(resource.MustParse("20Gi"))}}},
	}
}

// restOptions is a RESTOptionsGetter with fixed options.
type restOptions generic.RESTOptions

func (o restOptions) GetRESTOptions(schema.GroupResource, runtime.Object) (generic.RESTOptions, error) {
	return generic.RESTOptions(o), nil
}

// firstDeleteGate holds the first storage delete until resume is closed.
type firstDeleteGate struct {
	once    sync.Once
	entered chan struct{}
	resume  chan struct{}
}

type gatedStorage struct {
	storage.Interface
	gate *firstDeleteGate
}

func (s *gatedStorage) Delete(ctx context.Context, key string, out runtime.Object, pre *storage.Preconditions, validate storage.ValidateObjectFunc, cached runtime.Object, opts storage.DeleteOptions) error {
	first := false
	s.gate.once.Do(func() { first = true })
	if first {
		close(s.gate.entered)
		<-s.gate.resume
	}
	return s.Interface.Delete(ctx, key, out, pre, validate, cached, opts)
}

// removeFinalizers is an update that removes every finalizer.
type removeFinalizers struct{}

func (removeFinalizers) Preconditions() *metav1.Preconditions { return nil }

func (removeFinalizers) UpdatedObject(_ context.Context, old runtime.Object) (runtime.Object, error) {
	c := old.(*apps.Cluster).DeepCopy()
	c.Finalizers = nil
	return c, nil
}

// countingUsage counts the releases of a whole cluster's usage.
type countingUsage struct {
	mu sync.Mutex
	n  int
}

func (u *countingUsage) Release(_ context.Context, _ string, usage corev1.ResourceList) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if c := usage[quota.ResourceClusters]; c.Value() == 1 {
		u.n++
	}
	return nil
}

func (u *countingUsage) ReleaseCharges(context.Context, []quota.Charge) error { return nil }

func (u *countingUsage) releases() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.n
}
