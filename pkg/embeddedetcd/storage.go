package embeddedetcd

import (
	"context"
	"fmt"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/kubernetes"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericfeatures "k8s.io/apiserver/pkg/features"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"
	cacherstorage "k8s.io/apiserver/pkg/storage/cacher"
	"k8s.io/apiserver/pkg/storage/etcd3"
	etcdfeature "k8s.io/apiserver/pkg/storage/feature"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/storagebackend/factory"
	"k8s.io/apiserver/pkg/storage/value/encrypt/identity"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
)

// The API server and the etcd it embeds share a process. k8s.io/apiserver's
// storage would reach that etcd like a remote one: gRPC over a loopback
// socket, i.e. protobuf both ways, HTTP/2 framing, and for every read or
// write four goroutine hand-offs (the client's and the server's gRPC writers
// and readers) besides etcd's own. The storage built here talks to the etcd
// server through etcd's in-process client (v3client: the gRPC service
// interfaces called as functions), and is otherwise what k8s.io/apiserver
// builds: the same etcd3 store, transformer, decoder, latency metrics,
// compactor and watch cache. Reads stay linearizable: a GET with
// resourceVersion "" is still a quorum Range of the etcd server.

// inProcess is the state the storage of every resource shares.
type inProcess struct {
	once      sync.Once
	client    *kubernetes.Client
	compactor interface {
		etcd3.Compactor
		Stop()
	}
}

// start builds the client and the compactor the first time a resource asks;
// the compactor runs at the first resource's --etcd-compaction-interval (the
// flag is the same for all).
func (s *Server) start(c *storagebackend.ConfigForResource) {
	s.inProcess.once.Do(func() {
		kc := &kubernetes.Client{Client: v3client.New(s.etcd.Server)}
		kc.Kubernetes = kc
		// The etcd_request_duration_seconds metrics, as for a remote etcd.
		kc.KV = etcd3.NewETCDLatencyTracker(kc.KV)
		s.inProcess.client = kc
		// k8s.io/apiserver learns from each endpoint's version whether etcd
		// takes progress requests, which consistent lists from the watch
		// cache and watch-list streams need; the in-process client has no
		// endpoint to ask, so it is asked under the server's client URL.
		etcdfeature.DefaultFeatureSupportChecker.CheckClient(kc.Ctx(),
			featureClient{Client: kc.Client, endpoint: s.ClientURL}, storage.RequestWatchProgress)
		s.inProcess.compactor = etcd3.NewCompactor(kc.Client, c.CompactionInterval, clock.RealClock{}, nil)
	})
}

// featureClient is the in-process client as the feature support checker
// sees it: with the one endpoint it serves.
type featureClient struct {
	*clientv3.Client
	endpoint string
}

func (c featureClient) Endpoints() []string { return []string{c.endpoint} }

// Status asks the in-process server whatever the endpoint.
func (c featureClient) Status(ctx context.Context, endpoint string) (*clientv3.StatusResponse, error) {
	return c.Client.Status(ctx, endpoint)
}

// stopClients stops the compactor and closes the in-process client, if the
// storage was ever built.
func (s *Server) stopClients() {
	if s.inProcess.client == nil {
		return
	}
	s.inProcess.compactor.Stop()
	_ = s.inProcess.client.Close()
}

// RESTOptionsGetter returns getter with the storage of every resource built on
// the in-process client. watchCache and watchCacheSizes are the
// --watch-cache and --watch-cache-sizes flags, which choose, as in
// k8s.io/apiserver, whether a resource is served through the watch cache.
func (s *Server) RESTOptionsGetter(getter generic.RESTOptionsGetter, watchCache bool, watchCacheSizes map[schema.GroupResource]int) generic.RESTOptionsGetter {
	return &restOptionsGetter{delegate: getter, server: s, watchCache: watchCache, sizes: watchCacheSizes}
}

type restOptionsGetter struct {
	delegate   generic.RESTOptionsGetter
	server     *Server
	watchCache bool
	sizes      map[schema.GroupResource]int
}

func (g *restOptionsGetter) GetRESTOptions(resource schema.GroupResource, example runtime.Object) (generic.RESTOptions, error) {
	opts, err := g.delegate.GetRESTOptions(resource, example)
	if err != nil {
		return opts, err
	}
	cached := g.watchCache
	if size, ok := g.sizes[resource]; ok && size <= 0 {
		cached = false
	}
	opts.Decorator = g.server.decorator(cached)
	return opts, nil
}

// decorator is generic.UndecoratedStorage, or with cached
// genericregistry.StorageWithCacher, on the in-process client.
func (s *Server) decorator(cached bool) generic.StorageDecorator {
	return func(c *storagebackend.ConfigForResource, resourcePrefix string, keyFunc func(obj runtime.Object) (string, error),
		newFunc, newListFunc func() runtime.Object, getAttrsFunc storage.AttrFunc, triggerFuncs storage.IndexerFuncs,
		indexers *cache.Indexers) (storage.Interface, factory.DestroyFunc, error) {
		raw, destroyRaw, err := s.rawStorage(c, newFunc, newListFunc, resourcePrefix)
		if err != nil || !cached {
			return raw, destroyRaw, err
		}
		cacher, err := cacherstorage.NewCacherFromConfig(cacherstorage.Config{
			Storage:             raw,
			Versioner:           storage.APIObjectVersioner{},
			GroupResource:       c.GroupResource,
			EventsHistoryWindow: c.EventsHistoryWindow,
			ResourcePrefix:      resourcePrefix,
			KeyFunc:             keyFunc,
			NewFunc:             newFunc,
			NewListFunc:         newListFunc,
			GetAttrsFunc:        getAttrsFunc,
			IndexerFuncs:        triggerFuncs,
			Indexers:            indexers,
			Codec:               c.Codec,
		})
		if err != nil {
			destroyRaw()
			return nil, func() {}, fmt.Errorf("watch cache of %s: %w", c.GroupResource, err)
		}
		delegator := cacherstorage.NewCacheDelegator(cacher, raw)
		var once sync.Once
		return delegator, func() {
			once.Do(func() {
				delegator.Stop()
				cacher.Stop()
				destroyRaw()
			})
		}, nil
	}
}

// rawStorage is factory.Create's etcd3 storage on the in-process client.
func (s *Server) rawStorage(c *storagebackend.ConfigForResource, newFunc, newListFunc func() runtime.Object,
	resourcePrefix string) (storage.Interface, factory.DestroyFunc, error) {
	s.start(c)
	transformer := c.Transformer
	if transformer == nil {
		transformer = identity.NewEncryptCheckTransformer()
	}
	versioner := storage.APIObjectVersioner{}
	decoder := etcd3.NewDefaultDecoder(c.Codec, versioner)
	unsafeDeletion := utilfeature.DefaultFeatureGate.Enabled(genericfeatures.AllowUnsafeMalformedObjectDeletion)
	if unsafeDeletion {
		transformer = etcd3.WithCorruptObjErrorHandlingTransformer(transformer)
		decoder = etcd3.WithCorruptObjErrorHandlingDecoder(decoder)
	}
	store, err := etcd3.New(s.inProcess.client, s.inProcess.compactor, c.Codec, newFunc, newListFunc, c.Prefix,
		resourcePrefix, c.GroupResource, transformer, c.LeaseManagerConfig, decoder, versioner)
	if err != nil {
		return nil, nil, fmt.Errorf("storage of %s: %w", c.GroupResource, err)
	}
	var once sync.Once
	destroy := func() { once.Do(store.Close) }
	var st storage.Interface = store
	if unsafeDeletion {
		st = etcd3.NewStoreWithUnsafeCorruptObjectDeletion(st, c.GroupResource)
	}
	return st, destroy, nil
}
