package provisioning

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/yaml"

	"github.com/hikube/hikube/test/benchsamples"
)

const tenantA = "tenant-a"

// smallCluster: one control-plane replica, one worker group (min 1, max 2,
// u1.large), no add-ons.
const smallCluster = `apiVersion: apps.hikube.io/v1alpha1
kind: Cluster
metadata: {name: small}
spec:
  controlPlane: {replicas: 1}
  nodeGroups:
    workers: {minReplicas: 1, maxReplicas: 2, instanceType: u1.large}
`

// clusterSeq makes every created cluster's name new, across the probe
// iteration Go runs first and the timed ones.
var clusterSeq atomic.Int64

// subConditions are the conditions whose first True the benchmark records
// on the way to Ready, to show where the time goes.
var subConditions = []string{"ControlPlaneReady", "NodeGroupsReady", "AddonsReady"}

// BenchmarkCreateToReady creates a cluster and waits, on a watch, for its
// Ready condition to be True; ns/op and ms/ready are from the start of the
// create request to the watch event that carries Ready=True. Deleting the
// cluster and waiting until it is gone happen between iterations, untimed.
func BenchmarkCreateToReady(b *testing.B) {
	b.Run("small", func(b *testing.B) { benchCreateToReady(b, "small", []byte(smallCluster)) })
	b.Run("production", func(b *testing.B) {
		// The fuller production example (prod.yaml): 3 control-plane
		// replicas over the three datacenters, web (2 nodes) and ml (1 L40S
		// node) groups, three add-ons.
		raw, err := os.ReadFile(filepath.Join(env.Root, "artifacts", "examples", "prod.yaml"))
		if err != nil {
			b.Fatal(err)
		}
		benchCreateToReady(b, "production", raw)
	})
}

// milestones are the conditions whose first True the phases figure shows,
// in the order the controller reaches them.
var milestones = append(append([]string(nil), subConditions...), "Ready")

func benchCreateToReady(b *testing.B, subject string, manifest []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	_, dyn := hostClients(b)
	var tmpl unstructured.Unstructured
	if err := yaml.Unmarshal(manifest, &tmpl.Object); err != nil {
		b.Fatal(err)
	}
	var total []time.Duration
	phases := map[string][]time.Duration{}
	// Only the samples of the last run (the -benchtime one, after Go's
	// one-iteration probe) go into the figure.
	for _, m := range milestones {
		benchsamples.Reset(benchsamples.Phases, subject, m)
	}
	var deletes []time.Duration

	b.ResetTimer()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		obj := tmpl.DeepCopy()
		name := fmt.Sprintf("%s-%d", tmpl.GetName(), clusterSeq.Add(1))
		obj.SetName(name)
		w, err := watchClusters(ctx, dyn, tenantA)
		if err != nil {
			b.Fatalf("watch: %v", err)
		}
		b.StartTimer()
		start := time.Now()
		if _, err := dyn.Resource(clustersGVR).Namespace(tenantA).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			b.Fatalf("create %s: %v", name, err)
		}
		seen := map[string]time.Duration{}
		var last *unstructured.Unstructured
		deadline := start.Add(5 * time.Minute)
		for {
			ev, at, err := next(ctx, w, name, deadline)
			if err != nil {
				b.Fatalf("cluster %s not Ready: %v; last status: %v", name, err, statusOf(last))
			}
			u, ok := ev.Object.(*unstructured.Unstructured)
			if !ok || ev.Type == watch.Deleted {
				continue
			}
			last = u
			for _, c := range subConditions {
				if _, done := seen[c]; !done && conditionTrue(u, c) {
					seen[c] = at.Sub(start)
				}
			}
			if conditionTrue(u, "Ready") {
				b.StopTimer()
				total = append(total, at.Sub(start))
				break
			}
		}
		for c, d := range seen {
			phases[c] = append(phases[c], d)
		}
		seen["Ready"] = total[len(total)-1]
		for i, m := range milestones {
			if d, ok := seen[m]; ok {
				benchsamples.AddOrdered(benchsamples.Phases, subject, m, i, d)
			}
		}

		delStart := time.Now()
		if err := dyn.Resource(clustersGVR).Namespace(tenantA).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			b.Fatalf("delete %s: %v", name, err)
		}
		for {
			ev, _, err := next(ctx, w, name, delStart.Add(3*time.Minute))
			if err != nil {
				b.Fatalf("cluster %s not gone: %v", name, err)
			}
			if ev.Type == watch.Deleted {
				break
			}
		}
		deletes = append(deletes, time.Since(delStart))
		w.Stop()
	}
	report(b, "ms/ready", total)
	for _, c := range subConditions {
		if len(phases[c]) == len(total) {
			mean, _, _ := stats(phases[c])
			b.ReportMetric(ms(mean), "ms-to-"+c)
		}
	}
	mean, _, _ := stats(deletes)
	b.ReportMetric(ms(mean), "ms-delete-untimed")
}

func statusOf(u *unstructured.Unstructured) any {
	if u == nil {
		return nil
	}
	s, _, _ := unstructured.NestedMap(u.Object, "status")
	return s
}
