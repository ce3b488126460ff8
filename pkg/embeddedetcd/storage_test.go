package embeddedetcd

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"
	etcdfeature "k8s.io/apiserver/pkg/storage/feature"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/client-go/kubernetes/scheme"
)

// TestInProcessStorage stores ConfigMaps through the storage that
// RESTOptionsGetter builds (in-process client, watch cache) and checks what
// the API relies on: a GET with resourceVersion "" sees a write made a moment
// before by another client of the same etcd (it is a quorum read, not the
// cache's), and a watch (with the cache's shared serializations) and a
// consistent list from the cache see it too; and that k8s.io/apiserver knows
// the etcd takes progress requests, without which consistent lists would
// bypass the cache and watch-list streams be refused.
func TestInProcessStorage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := Start(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()

	gr := schema.GroupResource{Resource: "configmaps"}
	// v1 in, v1 out: client-go's scheme has no internal types.
	info, _ := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeJSON)
	codec := scheme.Codecs.CodecForVersions(info.Serializer, info.Serializer, corev1.SchemeGroupVersion, corev1.SchemeGroupVersion)
	cfg := storagebackend.NewDefaultConfig("/registry", codec)
	cfg.Transport.ServerList = []string{srv.ClientURL}
	getter := srv.RESTOptionsGetter(generic.RESTOptions{StorageConfig: cfg.ForResource(gr)}, true, nil)
	opts, err := getter.GetRESTOptions(gr, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, destroy, err := opts.Decorator(opts.StorageConfig, "/configmaps",
		func(obj runtime.Object) (string, error) { return storage.NamespaceKeyFunc("/configmaps/", obj) },
		func() runtime.Object { return &corev1.ConfigMap{} },
		func() runtime.Object { return &corev1.ConfigMapList{} },
		storage.DefaultNamespaceScopedAttr, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer destroy()

	// Consistent lists from the cache and watch-list streams need etcd's
	// progress requests, which must be known to work.
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		return etcdfeature.DefaultFeatureSupportChecker.Supports(storage.RequestWatchProgress), nil
	}); err != nil {
		t.Fatalf("RequestWatchProgress not known to be supported: %v", err)
	}

	// Written through the storage.
	created := &corev1.ConfigMap{}
	in := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"}, Data: map[string]string{"k": "1"}}
	if err := s.Create(ctx, "/configmaps/ns/a", in, created, 0); err != nil {
		t.Fatalf("create: %v", err)
	}
	// The watch cache answers once it has listed and watches.
	var w watch.Interface
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		// ctx, not the poll's: the watch outlives the poll.
		w, err = s.Watch(ctx, "/configmaps/ns", storage.ListOptions{
			ResourceVersion: created.ResourceVersion, Predicate: storage.Everything, Recursive: true})
		return err == nil, nil
	}); err != nil {
		t.Fatalf("watch from %s: %v", created.ResourceVersion, err)
	}
	defer w.Stop()

	// Written behind the storage's back, by a gRPC client of the same etcd:
	// a GET with resourceVersion "" must see it at once.
	remote, err := clientv3.New(clientv3.Config{Endpoints: []string{srv.ClientURL}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer remote.Close()
	changed := created.DeepCopy()
	changed.Data["k"] = "2"
	changed.ResourceVersion = ""
	raw, err := runtime.Encode(codec, changed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Put(ctx, "/registry/configmaps/ns/a", string(raw)); err != nil {
		t.Fatalf("put through gRPC: %v", err)
	}
	got := &corev1.ConfigMap{}
	if err := s.Get(ctx, "/configmaps/ns/a", storage.GetOptions{}, got); err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.Data["k"] != "2" {
		t.Errorf("get with resourceVersion \"\" read k=%q, want the 2 written just before", got.Data["k"])
	}

	// The watch cache sees the change: the watch and a consistent list.
	select {
	case ev := <-w.ResultChan():
		// The cache hands every watcher the same object, which keeps its
		// serializations: one encoding per event, whatever the watchers.
		co, ok := ev.Object.(runtime.CacheableObject)
		if !ok {
			t.Fatalf("watch event object %T, want a runtime.CacheableObject", ev.Object)
		}
		cm, ok := co.GetObject().(*corev1.ConfigMap)
		if ev.Type != watch.Modified || !ok || cm.Data["k"] != "2" {
			t.Errorf("watch event %s %#v, want MODIFIED with k=2", ev.Type, co.GetObject())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no watch event for the change")
	}
	list := &corev1.ConfigMapList{}
	if err := s.GetList(ctx, "/configmaps/ns", storage.ListOptions{Predicate: storage.Everything, Recursive: true}, list); err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(list.Items) != 1 || list.Items[0].Data["k"] != "2" {
		t.Errorf("consistent list %v, want the one ConfigMap with k=2", list.Items)
	}
}
