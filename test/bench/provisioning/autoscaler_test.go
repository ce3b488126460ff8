package provisioning

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/hikube/hikube/pkg/provider"
	"github.com/hikube/hikube/test/benchsamples"
)

// The autoscaler benchmark's cluster, in tenant-b: a GPU group of 1 to 3
// nodes with one L40S each (test/e2e/autoscaling_test.go's shape).
const (
	tenantB    = "tenant-b"
	gpuName    = "gpu"
	gpuGroup   = "ml"
	gpuCluster = `apiVersion: apps.hikube.io/v1alpha1
kind: Cluster
metadata: {name: gpu}
spec:
  controlPlane: {replicas: 1}
  nodeGroups:
    ml:
      minReplicas: 1
      maxReplicas: 3
      instanceType: u1.2xlarge
      gpus: [{name: nvidia.com/L40S}]
  addons:
    gpuOperator: {enabled: true}
`
)

// gpuPod asks for one nvidia.com/L40S and tolerates the GPU taint.
func gpuPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "bench"}},
		Spec: corev1.PodSpec{
			Tolerations: []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			Containers: []corev1.Container{{
				Name: "train", Image: "registry.example/train:1",
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/L40S": resource.MustParse("1")}},
			}},
			TerminationGracePeriodSeconds: ptr.To[int64](0),
		},
	}
}

// BenchmarkAutoscalerReaction: the only node of a GPU group has its GPU
// taken by a first pod; each iteration creates one more GPU pod, which the
// tenant's scheduler marks Unschedulable, and measures from the moment the
// benchmark sees that mark on a watch to
//
//	ms-to-node:  the new Node object appearing in the tenant cluster (the
//	             autoscaler's decision carried out by the provider),
//	ms-to-event: the ScaledUp event on the Cluster in the host,
//	ms-to-ready: the new node Ready.
//
// ns/op is from the pod's create request to the node Ready. Between
// iterations (untimed) the pod is deleted and the controller removes the
// empty node after the short --scale-down-grace, back to one node.
func BenchmarkAutoscalerReaction(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	kube := gpuClusterReady(ctx, b)

	var toUnsched, toNode, toEvent, toReady, scaleDown []time.Duration
	missingEvents, added := 0, 0
	b.ResetTimer()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		nodes, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: provider.LabelNodeGroup + "=" + gpuGroup})
		if err != nil {
			b.Fatal(err)
		}
		if len(nodes.Items) != 1 {
			b.Fatalf("%d %s nodes before the iteration, want 1", len(nodes.Items), gpuGroup)
		}
		old := nodes.Items[0].Name
		nodeW, err := watchFrom(ctx, nodes.ResourceVersion, func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = provider.LabelNodeGroup + "=" + gpuGroup
			return kube.CoreV1().Nodes().Watch(ctx, o)
		})
		if err != nil {
			b.Fatal(err)
		}
		pods, err := kube.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		podW, err := watchFrom(ctx, pods.ResourceVersion, func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return kube.CoreV1().Pods("default").Watch(ctx, o)
		})
		if err != nil {
			b.Fatal(err)
		}
		eventAt := watchScaledUp(ctx, b)

		podName := fmt.Sprintf("probe-%d", clusterSeq.Add(1))
		b.StartTimer()
		start := time.Now()
		if _, err := kube.CoreV1().Pods("default").Create(ctx, gpuPod(podName), metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		// The pod marked Unschedulable, and the new node's arrival and
		// readiness, in whatever order the two watches deliver them.
		var unschedAt, nodeAt, readyAt time.Time
		newNode := ""
		addedNames := map[string]bool{}
		deadline := start.Add(2 * time.Minute)
		podCh, nodeCh := podW.ResultChan(), nodeW.ResultChan()
		for unschedAt.IsZero() || readyAt.IsZero() {
			select {
			case ev, ok := <-podCh:
				if !ok {
					b.Fatal("pod watch closed")
				}
				now := time.Now()
				p, ok := ev.Object.(*corev1.Pod)
				if !ok || p.Name != podName || !unschedAt.IsZero() {
					continue
				}
				for _, c := range p.Status.Conditions {
					if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
						unschedAt = now
					}
				}
				if unschedAt.IsZero() && p.Spec.NodeName != "" {
					b.Fatalf("pod %s was scheduled on %s without being Unschedulable first: is the first node's GPU free?", podName, p.Spec.NodeName)
				}
			case ev, ok := <-nodeCh:
				if !ok {
					b.Fatal("node watch closed")
				}
				now := time.Now()
				n, ok := ev.Object.(*corev1.Node)
				if !ok || n.Name == old || ev.Type == watch.Deleted {
					continue
				}
				addedNames[n.Name] = true
				if newNode == "" {
					newNode, nodeAt = n.Name, now
				}
				if n.Name == newNode && readyAt.IsZero() && provider.NodeReady(n) {
					readyAt = now
				}
			case <-time.After(time.Until(deadline)):
				b.Fatalf("iteration %d: unschedulable at %v, node %q at %v, ready at %v: not done in 2m", i, unschedAt, newNode, nodeAt, readyAt)
			}
		}
		b.StopTimer()
		// The ScaledUp event is informational: the controller's event
		// recorder may drop it (client-go's spam filter allows a burst of 25
		// events per object, then one per 5 minutes), so a missing one is
		// counted, not a failure.
		var evAt time.Time
		select {
		case evAt = <-eventAt:
		case <-time.After(5 * time.Second):
			missingEvents++
		}
		toUnsched = append(toUnsched, unschedAt.Sub(start))
		toNode = append(toNode, nodeAt.Sub(unschedAt))
		toReady = append(toReady, readyAt.Sub(unschedAt))
		if !evAt.IsZero() {
			toEvent = append(toEvent, evAt.Sub(unschedAt))
		}
		podW.Stop()
		nodeW.Stop()

		// Back to one node: the pod goes, the added node(s) are empty, the
		// autoscaler removes them after the grace period. Untimed; polled.
		downStart := time.Now()
		if err := kube.CoreV1().Pods("default").Delete(ctx, podName, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
			b.Fatal(err)
		}
		added += backToOneNode(ctx, b, kube, old, start, addedNames)
		scaleDown = append(scaleDown, time.Since(downStart))
	}
	report(b, "ms-to-node", toNode)
	// The decision times into the reaction histogram (test/benchsamples),
	// the last run's only.
	const reaction = "autoscaler reaction"
	benchsamples.Reset(benchsamples.Histogram, reaction, "unschedulable to new Node")
	for _, d := range toNode {
		benchsamples.Add(benchsamples.Histogram, reaction, "unschedulable to new Node", d)
	}
	report(b, "ms-to-ready", toReady)
	if len(toEvent) > 0 {
		report(b, "ms-to-event", toEvent)
	}
	mean, _, _ := stats(toUnsched)
	b.ReportMetric(ms(mean), "ms-create-to-unschedulable")
	mean, _, _ = stats(scaleDown)
	b.ReportMetric(ms(mean), "ms-scale-down-untimed")
	// One pod needs one node: more than 1 node added per op is overshoot.
	b.ReportMetric(float64(added)/float64(b.N), "nodes-added/op")
	b.ReportMetric(float64(missingEvents), "missing-ScaledUp-events")
}

// backToOneNode waits (polling every 100ms, untimed) until the group has
// only the node old again, and the host's status agrees, for a second in a
// row; it returns how many other nodes were created since since (seen holds
// those the timed part already saw).
func backToOneNode(ctx context.Context, b *testing.B, kube kubernetes.Interface, old string, since time.Time, seen map[string]bool) int {
	b.Helper()
	_, dyn := hostClients(b)
	var stableSince time.Time
	deadline := time.Now().Add(3 * time.Minute)
	for {
		nodes, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: provider.LabelNodeGroup + "=" + gpuGroup})
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range nodes.Items {
			if n.Name != old && n.CreationTimestamp.Add(time.Second).After(since) {
				seen[n.Name] = true
			}
		}
		u, err := dyn.Resource(clustersGVR).Namespace(tenantB).Get(ctx, gpuName, metav1.GetOptions{})
		if err != nil {
			b.Fatal(err)
		}
		desired, _, _ := unstructured.NestedInt64(u.Object, "status", "nodeGroups", gpuGroup, "desiredReplicas")
		if len(nodes.Items) == 1 && nodes.Items[0].Name == old && desired == 1 {
			if stableSince.IsZero() {
				stableSince = time.Now()
			}
			if time.Since(stableSince) >= time.Second {
				return len(seen)
			}
		} else {
			stableSince = time.Time{}
		}
		if time.Now().After(deadline) {
			b.Fatalf("the %s group is not back to its one node %s after 3m: %d nodes, desired %d", gpuGroup, old, len(nodes.Items), desired)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// watchScaledUp watches the events of the GPU cluster in the host and sends
// the time the first ScaledUp event (new, or a repeat that raised the count)
// arrives after the call.
func watchScaledUp(ctx context.Context, b *testing.B) <-chan time.Time {
	b.Helper()
	cfg, _ := hostClients(b)
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	sel := "involvedObject.kind=Cluster,involvedObject.name=" + gpuName
	evs := kube.CoreV1().Events(tenantB)
	l, err := evs.List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		b.Fatal(err)
	}
	w, err := watchFrom(ctx, l.ResourceVersion, func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		o.FieldSelector = sel
		return evs.Watch(ctx, o)
	})
	if err != nil {
		b.Fatal(err)
	}
	out := make(chan time.Time, 1)
	go func() {
		defer w.Stop()
		timeout := time.After(3 * time.Minute)
		for {
			select {
			case ev, ok := <-w.ResultChan():
				if !ok {
					return
				}
				if e, ok := ev.Object.(*corev1.Event); ok && e.Reason == "ScaledUp" && (ev.Type == watch.Added || ev.Type == watch.Modified) {
					out <- time.Now()
					return
				}
			case <-timeout:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// gpuClusterReady creates the GPU cluster (once per run) and waits for it to
// be Ready, fetches bob's kubeconfig of it, and fills the only node's GPU
// with a first pod. It returns bob's clientset of the tenant cluster.
func gpuClusterReady(ctx context.Context, b *testing.B) kubernetes.Interface {
	b.Helper()
	if gpuKube != nil {
		return gpuKube
	}
	_, dyn := hostClients(b)
	var obj unstructured.Unstructured
	if err := yaml.Unmarshal([]byte(gpuCluster), &obj.Object); err != nil {
		b.Fatal(err)
	}
	w, err := watchClusters(ctx, dyn, tenantB)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	start := time.Now()
	if _, err := dyn.Resource(clustersGVR).Namespace(tenantB).Create(ctx, &obj, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	for {
		ev, _, err := next(ctx, w, gpuName, start.Add(5*time.Minute))
		if err != nil {
			b.Fatalf("cluster %s not Ready: %v", gpuName, err)
		}
		if u, ok := ev.Object.(*unstructured.Unstructured); ok && conditionTrue(u, "Ready") {
			break
		}
	}
	b.Logf("GPU cluster Ready in %s", time.Since(start).Round(time.Millisecond))

	bob, err := env.Platform.RESTConfig("bob")
	if err != nil {
		b.Fatal(err)
	}
	bobKube, err := kubernetes.NewForConfig(bob)
	if err != nil {
		b.Fatal(err)
	}
	path := "/apis/apps.hikube.io/v1alpha1/namespaces/" + tenantB + "/clusters/" + gpuName + "/kubeconfig"
	raw, err := bobKube.CoreV1().RESTClient().Get().AbsPath(path).DoRaw(ctx)
	if err != nil {
		b.Fatalf("GET %s: %v", path, err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(raw)
	if err != nil {
		b.Fatalf("tenant kubeconfig: %v", err)
	}
	cfg.QPS, cfg.Burst = 1000, 1000
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}

	// The first pod takes the only node's GPU. The tenant's service-account
	// controller may not have made "default" yet when the cluster turns
	// Ready: admission refuses pods until it has.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, err := kube.CoreV1().Pods("default").Create(ctx, gpuPod("holder"), metav1.CreateOptions{})
		if err == nil {
			break
		}
		if !apierrors.IsForbidden(err) || time.Now().After(deadline) {
			b.Fatalf("creating the holder pod: %v", err)
		}
		time.Sleep(100 * time.Millisecond) // setup only, not timed
	}
	for {
		p, err := kube.CoreV1().Pods("default").Get(ctx, "holder", metav1.GetOptions{})
		if err == nil && p.Spec.NodeName != "" {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the holder pod was not scheduled in 2m: %v", err)
		}
		time.Sleep(100 * time.Millisecond) // setup only, not timed
	}
	gpuKube = kube
	return kube
}

// gpuKube is the tenant clientset of the GPU cluster once it is set up.
var gpuKube kubernetes.Interface
