package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	"github.com/hikube/hikube/pkg/clusterpki"
	"github.com/hikube/hikube/pkg/provider"
	"github.com/hikube/hikube/pkg/provider/providertest"
)

// enqueued is one request of the tenant cache to reconcile a cluster.
type enqueued struct {
	key   string
	delay time.Duration
}

// recorder collects the handlers' requests.
type recorder struct{ got []string }

func (r *recorder) events() tenantEvents {
	return tenantEvents{now: func() { r.got = append(r.got, "now") }, later: func() { r.got = append(r.got, "later") }}
}

func (r *recorder) take() []string {
	out := r.got
	r.got = nil
	return out
}

func groupNode(name string, ready bool) *corev1.Node {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{provider.LabelNodeGroup: "workers"}},
		Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st}}},
	}
}

func workloadPod(name, node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "x",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
}

func markUnschedulable(p *corev1.Pod) *corev1.Pod {
	p = p.DeepCopy()
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable}}
	return p
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPodHandlerRequeuesAtOnceForUnschedulablePodsOnly(t *testing.T) {
	r := &recorder{}
	h := podHandler(r.events())
	pending := workloadPod("p", "")
	unsched := markUnschedulable(pending)
	retried := unsched.DeepCopy()
	retried.Status.Conditions[0].Message = "0/3 nodes are available"
	bound := workloadPod("p", "web-workers-aaaaa")
	running := bound.DeepCopy()
	running.Status.Phase = corev1.PodRunning
	for _, tc := range []struct {
		name string
		do   func()
		want []string
	}{
		{"a new pending pod is not news yet", func() { h.OnAdd(pending, false) }, nil},
		{"the scheduler marks it Unschedulable", func() { h.OnUpdate(pending, unsched) }, []string{"now"}},
		{"an Unschedulable pod seen at start", func() { h.OnAdd(unsched, true) }, []string{"now"}},
		{"the scheduler retries it, still Unschedulable", func() { h.OnUpdate(unsched, retried) }, nil},
		{"it is bound to a node", func() { h.OnUpdate(retried, bound) }, []string{"later"}},
		{"its containers start", func() { h.OnUpdate(bound, running) }, nil},
		{"it finishes or is deleted", func() { h.OnDelete(running) }, []string{"later"}},
		{"a pending pod is deleted", func() { h.OnDelete(pending) }, nil},
	} {
		tc.do()
		if got := r.take(); !equal(got, tc.want) {
			t.Errorf("%s: requeues %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNodeHandlerRequeuesOnWhatTheAutoscalerSees(t *testing.T) {
	r := &recorder{}
	h := nodeHandler(r.events())
	booting := groupNode("n", false)
	ready := groupNode("n", true)
	heartbeat := ready.DeepCopy()
	heartbeat.Status.Conditions[0].LastHeartbeatTime = metav1.Now()
	labelled := ready.DeepCopy()
	labelled.Labels[LabelZone] = "geneva"
	draining := labelled.DeepCopy()
	draining.Annotations = map[string]string{provider.AnnotationDrainStarted: "now"}
	for _, tc := range []struct {
		name string
		do   func()
		want []string
	}{
		{"a node joins", func() { h.OnAdd(booting, false) }, []string{"now"}},
		{"it turns Ready", func() { h.OnUpdate(booting, ready) }, []string{"now"}},
		{"a heartbeat", func() { h.OnUpdate(ready, heartbeat) }, nil},
		{"the provider labels it", func() { h.OnUpdate(heartbeat, labelled) }, []string{"now"}},
		{"the provider drains it", func() { h.OnUpdate(labelled, draining) }, []string{"now"}},
		{"it is removed", func() { h.OnDelete(draining) }, []string{"now"}},
	} {
		tc.do()
		if got := r.take(); !equal(got, tc.want) {
			t.Errorf("%s: requeues %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTrimmedPodKeepsWhatTheAutoscalerReads(t *testing.T) {
	p := markUnschedulable(workloadPod("p", ""))
	p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	p.Annotations = map[string]string{"big": "x", corev1.MirrorPodAnnotationKey: "m"}
	p.Spec.Tolerations = []corev1.Toleration{{Key: TaintGPU, Operator: corev1.TolerationOpExists}}
	p.Spec.NodeSelector = map[string]string{LabelZone: "gland"}
	p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "b"}}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c"}}
	out, err := trimPod(p)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*corev1.Pod)
	if len(got.ManagedFields) != 0 || got.Annotations["big"] != "" || len(got.Spec.Containers[0].Env) != 0 || len(got.Status.ContainerStatuses) != 0 {
		t.Errorf("trimmed pod keeps what nobody reads: %+v", got)
	}
	if !unschedulable(got) || got.Spec.Tolerations[0].Key != TaintGPU || got.Spec.NodeSelector[LabelZone] != "gland" ||
		!isDaemonOrMirror(got) || got.Spec.Containers[0].Resources.Requests.Cpu().String() != "2" {
		t.Errorf("trimmed pod lost what the autoscaler reads: %+v", got)
	}
}

// watchedTenants is a tenant cache that watches, with its requests to
// reconcile on a channel, and a fake tenant API.
func watchedTenants(t *testing.T, probe func(context.Context, kubernetes.Interface) error, objs ...runtime.Object) (*tenantClients, *kubefake.Clientset, chan enqueued) {
	t.Helper()
	kube := kubefake.NewClientset(objs...)
	ch := make(chan enqueued, 100)
	p := &providertest.Provider{}
	tenants := newTenantClients(p.AdminConfig, func(*rest.Config) (kubernetes.Interface, error) { return kube, nil })
	tenants.watch = &tenantWatch{enqueue: func(key string, d time.Duration) { ch <- enqueued{key, d} }, probe: probe}
	if probe != nil {
		tenants.watch.healthInterval = 10 * time.Millisecond
	}
	t.Cleanup(tenants.stopAll)
	return tenants, kube, ch
}

// next waits for the next request to reconcile, failing after a minute.
func next(t *testing.T, ch chan enqueued, want enqueued) {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		select {
		case got := <-ch:
			if got == want {
				return
			}
		case <-deadline:
			t.Fatalf("no request %+v", want)
		}
	}
}

func waitSynced(t *testing.T, c *tenantClient) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !c.informers.synced() {
		if time.Now().After(deadline) {
			t.Fatal("tenant informers not synced")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTenantCacheRequeuesTheClusterOnTenantEvents(t *testing.T) {
	tenants, kube, ch := watchedTenants(t, nil)
	ref := clusterpki.ClusterRef{Namespace: "tenant-a", Name: "web", UID: "u1"}
	c, err := tenants.get(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	waitSynced(t, c)
	ctx := context.Background()
	pod, err := kube.CoreV1().Pods("default").Create(ctx, workloadPod("train", ""), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kube.CoreV1().Pods("default").UpdateStatus(ctx, markUnschedulable(pod), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	next(t, ch, enqueued{"tenant-a/web", 0})
	if _, err := kube.CoreV1().Nodes().Create(ctx, groupNode("web-workers-aaaaa", true), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	next(t, ch, enqueued{"tenant-a/web", 0})
	// The caches serve the step once synced: no list reaches the tenant API.
	deadline := time.Now().Add(time.Minute)
	for {
		nodes, pods, err := c.nodesAndPods(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(nodes) == 1 && len(pods) == 1 && unschedulable(&pods[0]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("caches hold %d nodes, %d pods", len(nodes), len(pods))
		}
		time.Sleep(10 * time.Millisecond)
	}
	lists := func() int {
		n := 0
		for _, a := range kube.Actions() {
			if a.GetVerb() == "list" {
				n++
			}
		}
		return n
	}
	before := lists()
	if _, _, err := c.nodesAndPods(ctx); err != nil {
		t.Fatal(err)
	}
	if lists() != before {
		t.Error("the step listed the tenant API although its caches have synced")
	}

	// Forgetting the cluster stops its informers.
	tenants.forget("tenant-a", "web")
	if !c.informers.nodes.IsStopped() && !waitStopped(c) {
		t.Error("the forgotten cluster's informers still run")
	}
}

func waitStopped(c *tenantClient) bool {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if c.informers.nodes.IsStopped() && c.informers.pods.IsStopped() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func TestTenantCacheReadsLiveUntilSynced(t *testing.T) {
	kube := kubefake.NewClientset(groupNode("web-workers-aaaaa", true), workloadPod("p", "web-workers-aaaaa"))
	c := &tenantClient{ref: clusterpki.ClusterRef{Namespace: "tenant-a", Name: "web"}, kube: kube}
	nodes, pods, err := c.nodesAndPods(context.Background())
	if err != nil || len(nodes) != 1 || len(pods) != 1 {
		t.Fatalf("live read: %d nodes, %d pods, %v", len(nodes), len(pods), err)
	}
}

func TestTenantHealthCheckRequeuesAClusterWhoseAPIFails(t *testing.T) {
	var failing = make(chan bool, 1)
	failing <- false
	probe := func(context.Context, kubernetes.Interface) error {
		f := <-failing
		failing <- f
		if f {
			return errors.New("connection refused")
		}
		return nil
	}
	tenants, _, ch := watchedTenants(t, probe)
	if _, err := tenants.get(context.Background(), clusterpki.ClusterRef{Namespace: "tenant-a", Name: "web", UID: "u1"}); err != nil {
		t.Fatal(err)
	}
	<-failing
	failing <- true
	next(t, ch, enqueued{"tenant-a/web", 0})
}

func TestNodeGroupsRequeueWhenTheClockChangesADecision(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	settling := groupNode("web-workers-aaaaa", true)
	settling.Status.Conditions[0].LastTransitionTime = metav1.NewTime(now.Add(-2 * time.Second))
	s := newState(newCluster("u1"))
	s.tenant = &tenantClient{ref: s.ref, kube: kubefake.NewClientset(settling)}
	r := &nodeGroupsReconciler{provider: &providertest.Provider{}, configMaps: kubefake.NewClientset().CoreV1(), recorder: record.NewFakeRecorder(10),
		now: func() time.Time { return now }, scaleDownGrace: time.Hour, resyncProgressing: time.Second, empty: newEmptyNodes()}
	if _, err := r.reconcile(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if s.requeue != 3*time.Second {
		t.Errorf("a node Ready for 2s: requeue after %s, want when it has settled (3s)", s.requeue)
	}
}

func TestTenantBootstrapIsNotReappliedAtEveryResync(t *testing.T) {
	h := newHarness(t)
	s := newState(newCluster("u1"))
	now := time.Now()
	r := &tenantBootstrapReconciler{tenants: h.tenants, now: func() time.Time { return now }}
	applies := func() int {
		n := 0
		for _, a := range h.lastTenant().Actions() {
			if a.GetVerb() == "patch" || a.GetVerb() == "create" || a.GetVerb() == "update" {
				n++
			}
		}
		return n
	}
	for range 2 {
		if _, err := r.reconcile(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	first := applies()
	if first == 0 {
		t.Fatal("nothing applied")
	}
	s.cluster.Spec.StorageClass = "local"
	if _, err := r.reconcile(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if applies() != 2*first {
		t.Errorf("a changed default class: %d writes, want %d", applies(), 2*first)
	}
	now = now.Add(bootstrapRefresh)
	if _, err := r.reconcile(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if applies() != 3*first {
		t.Errorf("after %s: %d writes, want %d", bootstrapRefresh, applies(), 3*first)
	}
}

func TestPKIIsReadOnceInAWhile(t *testing.T) {
	host := kubefake.NewClientset()
	now := time.Now()
	r := &pkiReconciler{secrets: host.CoreV1(), generate: clusterpki.Generate, now: func() time.Time { return now }}
	reads := func() int {
		n := 0
		for _, a := range host.Actions() {
			if a.GetVerb() == "get" {
				n++
			}
		}
		return n
	}
	pass := func() clusterpki.PKI {
		s := newState(newCluster("u1"))
		if _, err := r.reconcile(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		return s.pki
	}
	first := pass()
	if second := pass(); string(second.CACert) != string(first.CACert) || reads() != 1 {
		t.Errorf("second pass: %d reads of the Secret, want 1; same CA: %t", reads(), string(second.CACert) == string(first.CACert))
	}
	now = now.Add(pkiReread)
	if third := pass(); string(third.CACert) != string(first.CACert) || reads() != 2 {
		t.Errorf("after %s: %d reads, want 2; same CA: %t", pkiReread, reads(), string(third.CACert) == string(first.CACert))
	}
	r.forget("tenant-a", "web")
	if len(r.loaded) != 0 {
		t.Error("a forgotten cluster's PKI is still held")
	}
}
