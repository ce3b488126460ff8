package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/cbor"
	"k8s.io/client-go/dynamic"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/generated/clientset/versioned/scheme"
	"github.com/hikube/hikube/test/harness"
)

// BenchmarkListFormats compares the wire formats hikube-apiserver can serve
// a list of 1,000 production clusters in — JSON, protobuf, and CBOR (alpha,
// behind --feature-gates=CBORServingAndStorage=true) — on one extra
// hikube-apiserver started with the gate on the host's etcd, read directly
// (the platform's own server runs without the alpha gate, so this is not
// through the aggregator; the aggregation hop is format-blind anyway). Each
// iteration fetches the list (ms/fetch) and decodes it into a
// v1alpha1.ClusterList as a typed client would (ms/decode).
func BenchmarkListFormats(b *testing.B) {
	ctx := ctxFor(b)
	if err := setupBase(ctx); err != nil {
		b.Fatal(err)
	}
	const ns = nsSmall
	name := fmt.Sprintf("bench-formats-%d", time.Now().UnixNano())
	r, err := harness.StartReplica(env.platform, filepath.Join(env.root, "_output", "bin"), "/hikube-bench-formats/"+name, name,
		"--feature-gates=CBORServingAndStorage=true")
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = r.Stop(15 * time.Second) }()
	if err := r.WaitServing(ctx, 90*time.Second); err != nil {
		b.Fatal(err)
	}
	if err := fillReplica(ctx, r, ns, smallN); err != nil {
		b.Fatal(err)
	}
	rc := r.Hikube.AppsV1alpha1().RESTClient()
	path := fmt.Sprintf("/apis/apps.hikube.io/v1alpha1/namespaces/%s/clusters", ns)
	formats := []struct {
		mediaType string
		decoder   runtime.Decoder
	}{
		{runtime.ContentTypeJSON, scheme.Codecs.UniversalDeserializer()},
		{runtime.ContentTypeProtobuf, scheme.Codecs.UniversalDeserializer()},
		{runtime.ContentTypeCBOR, cbor.NewSerializer(scheme.Scheme, scheme.Scheme)},
	}
	for _, f := range formats {
		b.Run(f.mediaType, func(b *testing.B) {
			var fetch, decode time.Duration
			var size int
			for i := 0; i < b.N; i++ {
				began := time.Now()
				var contentType string
				raw, err := rc.Get().AbsPath(path).SetHeader("Accept", f.mediaType).Do(ctx).ContentType(&contentType).Raw()
				if err != nil {
					b.Fatalf("list as %s: %v", f.mediaType, err)
				}
				if contentType != f.mediaType {
					b.Fatalf("list as %s answered %s", f.mediaType, contentType)
				}
				fetched := time.Now()
				obj, _, err := f.decoder.Decode(raw, nil, nil)
				if err != nil {
					b.Fatalf("decoding the %s list: %v", f.mediaType, err)
				}
				decode += time.Since(fetched)
				fetch += fetched.Sub(began)
				if l, ok := obj.(*v1alpha1.ClusterList); !ok || len(l.Items) != smallN {
					b.Fatalf("%s list decoded to %T", f.mediaType, obj)
				}
				size = len(raw)
			}
			b.ReportMetric(float64(fetch.Microseconds())/1000/float64(b.N), "ms/fetch")
			b.ReportMetric(float64(decode.Microseconds())/1000/float64(b.N), "ms/decode")
			b.ReportMetric(float64(size), "bytes/list")
		})
	}
}

// fillReplica creates n production clusters in ns through r (the same spec
// as the other benchmarks), with `workers` concurrent clients.
func fillReplica(ctx context.Context, r *harness.Replica, ns string, n int) error {
	dyn, err := dynamic.NewForConfig(r.Config)
	if err != nil {
		return err
	}
	be := backends[0]
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				obj := newCluster(be, ns, fmt.Sprintf("prod-%05d", i), spec)
				if _, err := dyn.Resource(be.gvr).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("creating %s on the formats server: %w", obj.GetName(), err)
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}
