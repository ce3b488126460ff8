package bench

import (
	"context"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
	"github.com/hikube/hikube/pkg/generated/clientset/versioned/scheme"
)

// BenchmarkListProtobuf lists the clusters of a namespace (1,000 and 10,000)
// the ways a client can, side by side in one run:
//
//   - typed-protobuf: the generated clientset, which prefers protobuf, over
//     the aggregation layer, decoded into v1alpha1.ClusterList;
//   - typed-json: the same clientset told to speak JSON (ContentType set);
//   - crd-dynamic: the CRD through the dynamic client (JSON into
//     unstructured), the best a CRD client has — the reference;
//   - raw-protobuf, raw-json, raw-crd: the server's own list, the body read
//     as bytes without decoding (DoRaw).
//
// The ratios land in the summary as "list 1k protobuf" (typed-protobuf vs
// crd-dynamic) and "list 1k protobuf raw" (raw-protobuf vs raw-crd), and
// the same for 10k.
func BenchmarkListProtobuf(b *testing.B) {
	ctx := ctxFor(b)
	sizes := []listSize{
		{"1k", nsSmall, smallN, setupSmall},
		{"10k", nsLarge, largeN, setupLarge},
	}
	pb, err := clientset.NewForConfig(env.cfg)
	if err != nil {
		b.Fatal(err)
	}
	jsonCfg := rest.CopyConfig(env.cfg)
	jsonCfg.ContentType = runtime.ContentTypeJSON
	js, err := clientset.NewForConfig(jsonCfg)
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range sizes {
		// Inside its own sub-benchmark, so that -bench ListProtobuf/1k
		// does not create the 20,000 clusters of the 10k variant.
		b.Run(size.name, func(b *testing.B) { listProtobuf(ctx, b, size, pb, js) })
	}
}

// listSize is one namespace of BenchmarkListProtobuf and its setup.
type listSize struct {
	name  string
	ns    string
	n     int
	setup func(context.Context) error
}

// listProtobuf runs the variants of BenchmarkListProtobuf for one size.
func listProtobuf(ctx context.Context, b *testing.B, size listSize, pb, js clientset.Interface) {
	agg, crd := backends[0], backends[1]
	if err := size.setup(ctx); err != nil {
		b.Fatal(err)
	}
	metric := "list " + size.name
	typed := func(cs clientset.Interface) func(b *testing.B) {
		return func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				l, err := cs.AppsV1alpha1().Clusters(size.ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					b.Fatalf("typed list in %s: %v", size.ns, err)
				}
				if len(l.Items) != size.n {
					b.Fatalf("typed list in %s: %d items, want %d", size.ns, len(l.Items), size.n)
				}
			}
		}
	}
	run := func(name, metric, backend string, body func(b *testing.B)) {
		b.Run(name, func(b *testing.B) {
			b.ResetTimer()
			body(b)
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/list")
			if metric != "" {
				record(metric, backend, b.Elapsed(), b.N)
			}
		})
	}
	run("typed-protobuf", metric+" protobuf", "aggregated", typed(pb))
	run("typed-json", metric+" typed json", "aggregated", typed(js))
	run("crd-dynamic", "", "", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			list(ctx, b, crd, size.ns, "", size.n)
		}
		record(metric+" protobuf", "crd", b.Elapsed(), b.N)
		record(metric+" typed json", "crd", b.Elapsed(), b.N)
	})
	// Raw: the server's list as bytes. Counted once, untimed.
	checkRawProtobufList(ctx, b, size.ns, size.n)
	checkRawList(ctx, b, agg, size.ns, size.n)
	checkRawList(ctx, b, crd, size.ns, size.n)
	run("raw-protobuf", metric+" protobuf raw", "aggregated", func(b *testing.B) {
		var n int
		for i := 0; i < b.N; i++ {
			raw, err := rawListAs(ctx, agg, size.ns, runtime.ContentTypeProtobuf)
			if err != nil {
				b.Fatalf("raw protobuf list in %s: %v", size.ns, err)
			}
			n = len(raw)
		}
		b.ReportMetric(float64(n), "bytes/list")
	})
	run("raw-json", metric+" json raw", "aggregated", func(b *testing.B) {
		var n int
		for i := 0; i < b.N; i++ {
			raw, err := rawListAs(ctx, agg, size.ns, runtime.ContentTypeJSON)
			if err != nil {
				b.Fatalf("raw JSON list in %s: %v", size.ns, err)
			}
			n = len(raw)
		}
		b.ReportMetric(float64(n), "bytes/list")
	})
	run("raw-crd", "", "", func(b *testing.B) {
		var n int
		for i := 0; i < b.N; i++ {
			raw, err := rawListAs(ctx, crd, size.ns, runtime.ContentTypeJSON)
			if err != nil {
				b.Fatalf("raw CRD list in %s: %v", size.ns, err)
			}
			n = len(raw)
		}
		b.ReportMetric(float64(n), "bytes/list")
		record(metric+" protobuf raw", "crd", b.Elapsed(), b.N)
		record(metric+" json raw", "crd", b.Elapsed(), b.N)
	})
}

// rawListAs GETs the list of ns's clusters of the backend through
// kube-apiserver in the given media type and returns the body undecoded.
func rawListAs(ctx context.Context, be backend, ns, mediaType string) ([]byte, error) {
	path := fmt.Sprintf("/apis/%s/namespaces/%s/%s", be.apiVersion, ns, be.gvr.Resource)
	return env.kube.CoreV1().RESTClient().Get().AbsPath(path).SetHeader("Accept", mediaType).DoRaw(ctx)
}

// checkRawProtobufList decodes one raw protobuf list and checks that it is a
// ClusterList of want items: the timed loop then measures a real answer.
func checkRawProtobufList(ctx context.Context, b *testing.B, ns string, want int) {
	raw, err := rawListAs(ctx, backends[0], ns, runtime.ContentTypeProtobuf)
	if err != nil {
		b.Fatalf("raw protobuf list in %s: %v", ns, err)
	}
	obj, gvk, err := scheme.Codecs.UniversalDeserializer().Decode(raw, nil, nil)
	if err != nil {
		b.Fatalf("decoding the raw protobuf list in %s (%d bytes): %v", ns, len(raw), err)
	}
	l, ok := obj.(*v1alpha1.ClusterList)
	if !ok || len(l.Items) != want {
		b.Fatalf("raw protobuf list in %s: %v with %T, want a ClusterList of %d", ns, gvk, obj, want)
	}
}
