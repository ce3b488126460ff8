package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// backend is one way of serving clusters from the same kube-apiserver.
type backend struct {
	name       string // sub-benchmark name
	apiVersion string
	gvr        schema.GroupVersionResource
	direct     bool // straight to hikube-apiserver, not through kube-apiserver
}

// client is the dynamic client of the backend.
func (be backend) client() dynamic.Interface {
	if be.direct {
		return env.direct
	}
	return env.dyn
}

// direct is the aggregated resource read from hikube-apiserver itself: the
// difference to "aggregated" is the aggregation hop. It is informational (no
// design target) and only in the cheap benchmarks.
var direct = backend{name: "direct", apiVersion: "apps.hikube.io/v1alpha1",
	gvr: schema.GroupVersionResource{Group: "apps.hikube.io", Version: "v1alpha1", Resource: "clusters"}, direct: true}

// withDirect is backends plus direct when hikube-apiserver answers directly.
func withDirect(ctx context.Context) []backend {
	if env.direct == nil {
		return backends
	}
	if _, err := env.direct.Resource(direct.gvr).Namespace(nsWatch).Get(ctx, watchName, metav1.GetOptions{}); err != nil {
		fmt.Printf("bench: no direct variant, hikube-apiserver refused a direct get: %v\n", err)
		return backends
	}
	return append(backends[:len(backends):len(backends)], direct)
}

var backends = []backend{
	{name: "aggregated", apiVersion: "apps.hikube.io/v1alpha1",
		gvr: schema.GroupVersionResource{Group: "apps.hikube.io", Version: "v1alpha1", Resource: "clusters"}},
	{name: "crd", apiVersion: crdGroup + "/v1alpha1",
		gvr: schema.GroupVersionResource{Group: crdGroup, Version: "v1alpha1", Resource: "clusters"}},
}

// Tenant namespaces (labelled hikube.io/tenant=bench; our admission refuses
// clusters elsewhere). Each backend has its own resource, so both use the
// same namespaces.
const (
	nsSmall   = "bench-1k"    // smallN clusters; Get reads the first
	nsLarge   = "bench-10k"   // largeN clusters
	nsWatch   = "bench-watch" // exactly one cluster, the one the watch benchmark updates
	smallN    = 1000
	largeN    = 10000
	workers   = 16
	watchName = "watched"
	getName   = "prod-00000"
)

// productionSpec is the spec of artifacts/examples/prod.yaml without
// its GPUs: hikube-apiserver's admission refuses GPUs beyond the platform's
// capacity (24 nvidia.com/L40S), so 11,000 clusters cannot each ask for up
// to 5. The ml node group stays, with the same instance type.
func productionSpec() map[string]any {
	return map[string]any{
		"version":      "v1.36",
		"controlPlane": map[string]any{"replicas": int64(3), "resourcesPreset": "small"},
		"storageClass": "replicated",
		"nodeGroups": map[string]any{
			"web": map[string]any{
				"minReplicas": int64(2), "maxReplicas": int64(10), "instanceType": "s1.large",
				"ephemeralStorage": "20Gi", "roles": []any{"ingress-nginx"}, "storageClass": "replicated",
			},
			"ml": map[string]any{
				"minReplicas": int64(1), "maxReplicas": int64(5), "instanceType": "u1.xlarge",
			},
		},
		"addons": map[string]any{
			"certManager":      map[string]any{"enabled": true},
			"ingressNginx":     map[string]any{"enabled": true, "hosts": []any{"app.example.ch"}},
			"fluxcd":           map[string]any{"enabled": false},
			"monitoringAgents": map[string]any{"enabled": true},
		},
	}
}

func newCluster(be backend, ns, name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": be.apiVersion,
		"kind":       "Cluster",
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec":       runtime.DeepCopyJSONValue(spec),
	}}
}

// setup state, each part done once per package run whatever -benchtime is.
var (
	baseOnce, smallOnce, largeOnce sync.Once
	baseErr, smallErr, largeErr    error
	// spec is the production spec as hikube-apiserver stores it (defaults
	// applied), so both backends hold the same content.
	spec map[string]any
	// schemaDefs are the OpenAPI definitions inlined into the CRD schema.
	schemaDefs []string
	// createRate is objects/s of the largeN creation, per backend name.
	createRate = map[string]float64{}
	// listBytes is the size of the JSON list of the smallN clusters.
	listBytes = map[string]int{}
)

func setupBase(ctx context.Context) error {
	baseOnce.Do(func() { baseErr = doSetupBase(ctx) })
	return baseErr
}

func setupSmall(ctx context.Context) error {
	if err := setupBase(ctx); err != nil {
		return err
	}
	smallOnce.Do(func() {
		for _, be := range backends {
			if _, err := createMany(ctx, be, nsSmall, smallN); err != nil {
				smallErr = err
				return
			}
			// The JSON a list of them weighs, as the server sends it.
			path := fmt.Sprintf("/apis/%s/namespaces/%s/%s", be.apiVersion, nsSmall, be.gvr.Resource)
			raw, err := env.kube.CoreV1().RESTClient().Get().AbsPath(path).SetHeader("Accept", "application/json").DoRaw(ctx)
			if err != nil {
				smallErr = fmt.Errorf("GET %s: %w", path, err)
				return
			}
			listBytes[be.name] = len(raw)
		}
	})
	return smallErr
}

func setupLarge(ctx context.Context) error {
	if err := setupBase(ctx); err != nil {
		return err
	}
	largeOnce.Do(func() {
		for _, be := range backends {
			rate, err := createMany(ctx, be, nsLarge, largeN)
			if err != nil {
				largeErr = err
				return
			}
			createRate[be.name] = rate
		}
	})
	return largeErr
}

func doSetupBase(ctx context.Context) error {
	for _, ns := range []string{nsSmall, nsLarge, nsWatch} {
		_, err := env.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: ns, Labels: map[string]string{"hikube.io/tenant": "bench"},
		}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("namespace %s: %w", ns, err)
		}
	}
	used, err := installCRD(ctx)
	if err != nil {
		return err
	}
	schemaDefs = used
	// The watched cluster, first through hikube-apiserver: what it stores
	// (defaults applied) is the spec every cluster of both backends gets.
	agg, err := createRetry(ctx, backends[0], newCluster(backends[0], nsWatch, watchName, productionSpec()))
	if err != nil {
		return err
	}
	stored, ok, _ := unstructured.NestedMap(agg.Object, "spec")
	if !ok {
		return fmt.Errorf("the created cluster has no spec")
	}
	spec = stored
	if _, err := createRetry(ctx, backends[1], newCluster(backends[1], nsWatch, watchName, spec)); err != nil {
		return err
	}
	return nil
}

// createRetry creates obj, retrying what a loaded server may answer
// (throttling, timeouts) and taking AlreadyExists as done.
func createRetry(ctx context.Context, be backend, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		var out *unstructured.Unstructured
		out, err = env.dyn.Resource(be.gvr).Namespace(obj.GetNamespace()).Create(ctx, obj, metav1.CreateOptions{})
		switch {
		case err == nil:
			return out, nil
		case apierrors.IsAlreadyExists(err):
			return env.dyn.Resource(be.gvr).Namespace(obj.GetNamespace()).Get(ctx, obj.GetName(), metav1.GetOptions{})
		case apierrors.IsTooManyRequests(err), apierrors.IsServerTimeout(err), apierrors.IsTimeout(err),
			apierrors.IsServiceUnavailable(err), apierrors.IsInternalError(err) && attempt < 3:
			time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
		default:
			return nil, fmt.Errorf("creating %s %s/%s: %w", be.name, obj.GetNamespace(), obj.GetName(), err)
		}
	}
	return nil, fmt.Errorf("creating %s %s/%s: %w", be.name, obj.GetNamespace(), obj.GetName(), err)
}

// createMany creates n production clusters prod-00000... in ns with
// `workers` concurrent clients and returns the creation rate (objects/s).
func createMany(ctx context.Context, be backend, ns string, n int) (float64, error) {
	began := time.Now()
	var next atomic.Int64
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if _, err := createRetry(ctx, be, newCluster(be, ns, fmt.Sprintf("prod-%05d", i), spec)); err != nil {
					errs <- err
					next.Store(int64(n)) // stop the others
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	took := time.Since(began)
	fmt.Printf("bench: created %d %s clusters in %s in %s (%.0f/s)\n", n, be.name, ns, took.Round(time.Millisecond), float64(n)/took.Seconds())
	return float64(n) / took.Seconds(), nil
}
