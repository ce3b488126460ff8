// Package controller benchmarks hikube-controller at scale and the
// admission cost of GPU clusters as their number grows, against the real
// kube-apiserver and hikube-apiserver (test/harness starts them, without the
// controller process).
//
// BenchmarkControllerScale runs the controller in this process with the
// in-memory provider of pkg/provider/providertest: no control plane or node
// is started, so what is measured is the controller itself (queue, steps,
// API writes, tenant informers) over 1,000 clusters. The tenants' APIs are
// one in-memory fake clientset that every cluster's client talks to (a
// simulation: a real tenant API per cluster cannot run 1,000 times on this
// machine); each cluster still has its own informers and health check.
//
// Run each benchmark in its own process, so that each has a fresh platform
// (the GPU one's low point is "100 clusters exist"):
//
//	go test -count=1 -run '^$' -bench ControllerScale -benchtime 1x -timeout 30m ./test/bench/controller/
//	go test -count=1 -run '^$' -bench GPUAdmission -benchtime 1x -timeout 30m ./test/bench/controller/
package controller

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	corev1 "k8s.io/api/core/v1"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
	"github.com/hikube/hikube/pkg/localplatform"
	"github.com/hikube/hikube/test/harness"
)

var env harness.Env

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, &env, localplatform.Options{SkipController: true}))
}

// adminConfig is the admin's configuration without client-side throttling
// (for the benchmark's own setup; the controller gets its own limits).
func adminConfig(b *testing.B) *rest.Config {
	b.Helper()
	cfg, err := env.Platform.RESTConfig("admin")
	if err != nil {
		b.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 100000, 100000
	cfg.WarningHandler = rest.NoWarnings{}
	return cfg
}

// tenantNamespace creates a tenant namespace (our admission refuses clusters
// elsewhere).
func tenantNamespace(ctx context.Context, b *testing.B, cfg *rest.Config, ns string) {
	b.Helper()
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	_, err = kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: ns, Labels: map[string]string{"hikube.io/tenant": "bench"},
	}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatalf("namespace %s: %v", ns, err)
	}
}

// smallCluster has one control-plane replica and one node; gpus gives its
// node one L40S.
func smallCluster(ns, name string, gpus bool) *v1alpha1.Cluster {
	g := v1alpha1.NodeGroup{InstanceType: "u1.large", MinReplicas: ptr.To[int32](1), MaxReplicas: ptr.To[int32](1)}
	if gpus {
		g.InstanceType = "u1.4xlarge"
		g.GPUs = []v1alpha1.GPU{{Name: "nvidia.com/L40S"}}
	}
	return &v1alpha1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.ClusterSpec{
			Version:      "v1.37",
			ControlPlane: v1alpha1.ControlPlaneSpec{Replicas: ptr.To[int32](1)},
			NodeGroups:   map[string]v1alpha1.NodeGroup{"workers": g},
		},
	}
}

// createMany creates clusters from name(i), i in [from, to), with 8
// concurrent clients, retrying what the servers shed under load.
func createMany(ctx context.Context, hikube clientset.Interface, from, to int, cluster func(i int) *v1alpha1.Cluster) error {
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	var first error
	var mu sync.Mutex
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= to {
					return
				}
				if err := createRetry(ctx, hikube, cluster(i)); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					next.Store(int64(to))
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

func createRetry(ctx context.Context, hikube clientset.Interface, c *v1alpha1.Cluster) error {
	var err error
	for attempt := range 10 {
		_, err = hikube.AppsV1alpha1().Clusters(c.Namespace).Create(ctx, c, metav1.CreateOptions{})
		switch {
		case err == nil, apierrors.IsAlreadyExists(err):
			return nil
		case apierrors.IsTooManyRequests(err), apierrors.IsServerTimeout(err), apierrors.IsTimeout(err),
			apierrors.IsServiceUnavailable(err), apierrors.IsInternalError(err) && attempt < 3:
			time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
		default:
			return fmt.Errorf("creating %s/%s: %w", c.Namespace, c.Name, err)
		}
	}
	return fmt.Errorf("creating %s/%s: %w", c.Namespace, c.Name, err)
}
