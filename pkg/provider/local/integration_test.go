package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"

	"github.com/hikube/hikube/pkg/clusterpki"
	"github.com/hikube/hikube/pkg/process"
	"github.com/hikube/hikube/pkg/provider"
)

const gpuResource corev1.ResourceName = "nvidia.com/AD102GL_L40S"

// testBinDir is _output/bin of the repository, or $HIKUBE_TEST_BIN_DIR.
func testBinDir(t *testing.T) string {
	if d := os.Getenv("HIKUBE_TEST_BIN_DIR"); d != "" {
		return d
	}
	d, err := filepath.Abs(filepath.Join("..", "..", "..", "_output", "bin"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// env is one provider on a temporary state directory.
type env struct {
	t        *testing.T
	log      klog.Logger // of the top-level test: providers outlive subtests
	p        *Provider
	state    string
	bin      string
	ctx      context.Context
	pollStep time.Duration
}

func newEnv(t *testing.T) *env {
	bin := testBinDir(t)
	p0 := &Provider{o: Options{BinDir: bin}}
	for _, minor := range []string{"v1.36", "v1.37"} {
		if msg := p0.missingBinaries(minor); msg != "" {
			t.Fatalf("the local provider test needs the built binaries: %s (or run `make tools`)", msg)
		}
	}
	state := t.TempDir()
	// Registered after TempDir, so it runs before the directory is removed:
	// no tenant process outlives the test, whatever failed.
	t.Cleanup(func() {
		if err := StopAll(state); err != nil {
			t.Errorf("StopAll: %v", err)
		}
	})
	e := &env{t: t, log: ktesting.NewLogger(t, ktesting.NewConfig()), state: state, bin: bin, ctx: t.Context(), pollStep: 250 * time.Millisecond}
	e.p = e.newProvider()
	return e
}

func (e *env) newProvider() *Provider {
	p, err := New(Options{StateDir: e.state, BinDir: e.bin, Log: e.log, GOGC: testGOGC})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// testGOGC is the GOGC the test providers give tenant processes.
const testGOGC = 60

// ensure calls EnsureControlPlane once, checking that it does not block.
func (e *env) ensure(c provider.ClusterRef, spec provider.ControlPlaneSpec) provider.ControlPlaneStatus {
	e.t.Helper()
	began := time.Now()
	s, err := e.p.EnsureControlPlane(e.ctx, c, spec)
	if err != nil {
		e.t.Fatalf("EnsureControlPlane: %v", err)
	}
	if d := time.Since(began); d > 1500*time.Millisecond {
		e.t.Errorf("EnsureControlPlane took %s (status %+v)", d, s)
	}
	return s
}

// ensureUntil calls EnsureControlPlane every 250 ms, as the core's requeue
// does, until done accepts the status.
func (e *env) ensureUntil(c provider.ClusterRef, spec provider.ControlPlaneSpec, timeout time.Duration, what string, done func(provider.ControlPlaneStatus) bool) provider.ControlPlaneStatus {
	e.t.Helper()
	var last provider.ControlPlaneStatus
	err := wait.PollUntilContextTimeout(e.ctx, e.pollStep, timeout, true, func(context.Context) (bool, error) {
		last = e.ensure(c, spec)
		return done(last), nil
	})
	if err != nil {
		e.t.Fatalf("waiting for %s: %v; last status %+v", what, err, last)
	}
	return last
}

// with is e for a subtest: failures stop the subtest, not its parent.
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	c.ctx = t.Context()
	return &c
}

func ready(s provider.ControlPlaneStatus) bool { return s.Ready }

func (e *env) pids(c provider.ClusterRef) map[string]int {
	recs, err := readRecords(filepath.Join(e.state, c.Namespace, c.Name))
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int{}
	for n, r := range recs {
		out[n] = r.PID
	}
	return out
}

func (e *env) client(c provider.ClusterRef) kubernetes.Interface {
	cfg, err := e.p.AdminConfig(e.ctx, c)
	if err != nil {
		e.t.Fatal(err)
	}
	if cfg.Insecure || len(cfg.CAData) == 0 {
		e.t.Fatal("admin config does not verify the server")
	}
	return kubernetes.NewForConfigOrDie(cfg)
}

// processGone waits a little for pid to leave /proc: a stopped child of
// the test is reaped by the provider's goroutine a moment after it ends.
func processGone(pid int) bool {
	return process.WaitExited(time.Second, pidGone(pid))
}

// pidGone is a process.Handle that has ended once pid has no /proc entry.
type pidGone int

func (p pidGone) Exited() bool                { _, ok := readProc(int(p)); return !ok }
func (p pidGone) Signal(syscall.Signal) error { return nil }
func (p pidGone) String() string              { return "pid " + strconv.Itoa(int(p)) }

// TestLocalProviderLifecycle runs a tenant control plane on the real
// binaries through its whole life: start at v1.36, simulated nodes with a
// GPU, a pod scheduled on the GPU node, a killed apiserver brought back with
// the condition saying so, a controller restart that adopts the processes,
// StopAll and a restart that keeps the data, a second replica, an upgrade to
// v1.37 that keeps the data, and delete.
func TestLocalProviderLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real control planes")
	}
	e := newEnv(t)
	c := provider.ClusterRef{Namespace: "tenant-a", Name: "dev", UID: "uid-1"}
	pkiData, err := clusterpki.Generate(c)
	if err != nil {
		t.Fatal(err)
	}
	spec := provider.ControlPlaneSpec{Minor: "v1.36", Replicas: 1, PKI: pkiData}

	began := time.Now()
	first := e.ensure(c, spec)
	if first.Ready || first.Reason != ReasonStarting {
		t.Fatalf("first call: %+v, want not ready and Starting", first)
	}
	s := e.ensureUntil(c, spec, 2*time.Minute, "the control plane at v1.36", ready)
	t.Logf("v1.36 control plane Ready in %s: %+v", time.Since(began).Round(time.Millisecond), s)
	if s.Version != "v1.36.3" || s.ReadyReplicas != 1 || !strings.HasPrefix(s.Endpoint, "https://127.0.0.1:") {
		t.Fatalf("status %+v", s)
	}
	cs := e.client(c)
	if _, err := cs.CoreV1().ConfigMaps("default").Create(e.ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "survivor"}, Data: map[string]string{"k": "v"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("tenant processes get the provider's GOGC", func(t *testing.T) {
		for name, pid := range e.pids(c) {
			environ, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
			if err != nil {
				t.Fatal(err)
			}
			vars := strings.Split(string(environ), "\x00")
			if !slices.Contains(vars, "GOGC="+strconv.Itoa(testGOGC)) {
				t.Errorf("%s (pid %d) runs without GOGC=%d", name, pid, testGOGC)
			}
		}
	})
	t.Run("nodes and a GPU pod", func(t *testing.T) { testNodesAndGPUPod(t, e.with(t), c, cs) })
	t.Run("a killed apiserver is restarted and reported", func(t *testing.T) { testKilledAPIServer(t, e.with(t), c, spec) })
	t.Run("a new controller adopts the processes", func(t *testing.T) { e.p = testAdoption(t, e.with(t), c, spec) })

	t.Run("stopped processes come back with their data", func(t *testing.T) {
		e := e.with(t)
		pids := e.pids(c)
		if err := StopAll(e.state); err != nil {
			t.Fatal(err)
		}
		for name, pid := range pids {
			if !processGone(pid) {
				t.Errorf("%s (pid %d) still runs after StopAll", name, pid)
			}
		}
		if s := e.ensure(c, spec); s.Ready || s.Reason != ReasonStarting {
			t.Errorf("first call after StopAll: %+v", s)
		}
		e.ensureUntil(c, spec, 2*time.Minute, "the control plane after StopAll", ready)
		if _, err := e.client(c).CoreV1().ConfigMaps("default").Get(e.ctx, "survivor", metav1.GetOptions{}); err != nil {
			t.Fatalf("the ConfigMap did not survive StopAll: %v", err)
		}
	})

	spec.Replicas = 2
	s = e.ensureUntil(c, spec, 2*time.Minute, "a second replica", ready)
	if s.ReadyReplicas != 2 {
		t.Fatalf("status %+v", s)
	}

	t.Run("upgrade to v1.37 keeps the data", func(t *testing.T) {
		e := e.with(t)
		spec.Minor = "v1.37"
		began := time.Now()
		s := e.ensureUntil(c, spec, 4*time.Minute, "the upgrade to v1.37", func(s provider.ControlPlaneStatus) bool {
			if !s.Ready && s.Reason != ReasonUpgrading {
				t.Logf("during the upgrade: %+v", s)
			}
			return s.Ready
		})
		t.Logf("upgraded in %s", time.Since(began).Round(time.Millisecond))
		if s.Version != "v1.37.2" || s.ReadyReplicas != 2 {
			t.Fatalf("status %+v", s)
		}
		recs, err := readRecords(filepath.Join(e.state, c.Namespace, c.Name))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{apiserverProc(0), apiserverProc(1), procKCM, procScheduler} {
			if recs[name].Minor != "v1.37" || !strings.Contains(recs[name].Binary, "/v1.37/") {
				t.Errorf("%s runs %s (%s)", name, recs[name].Minor, recs[name].Binary)
			}
		}
		cm, err := e.client(c).CoreV1().ConfigMaps("default").Get(e.ctx, "survivor", metav1.GetOptions{})
		if err != nil || cm.Data["k"] != "v" {
			t.Fatalf("the ConfigMap did not survive the upgrade: %v %v", cm, err)
		}
	})

	spec.Replicas = 1
	e.ensureUntil(c, spec, time.Minute, "scaling back to one replica", func(s provider.ControlPlaneStatus) bool {
		return s.Ready && s.Replicas == 1
	})
	if _, ok := e.pids(c)[apiserverProc(1)]; ok {
		t.Fatal("replica 1 still recorded after scaling down")
	}

	t.Run("a minor without binaries", func(t *testing.T) {
		e := e.with(t)
		other := provider.ClusterRef{Namespace: "tenant-a", Name: "old", UID: "uid-2"}
		s := e.ensure(other, provider.ControlPlaneSpec{Minor: "v1.19", Replicas: 1, PKI: pkiData})
		if s.Ready || !s.Terminal || s.Reason != ReasonBinariesMissing || !strings.Contains(s.Message, "hack/build-tools.sh v1.19") {
			t.Fatalf("status %+v", s)
		}
	})

	t.Run("delete leaves nothing", func(t *testing.T) {
		e := e.with(t)
		pids := e.pids(c)
		err := wait.PollUntilContextTimeout(e.ctx, e.pollStep, time.Minute, true, func(ctx context.Context) (bool, error) {
			return e.p.Delete(ctx, c)
		})
		if err != nil {
			t.Fatalf("Delete: %v", err)
		}
		for name, pid := range pids {
			if !processGone(pid) {
				t.Errorf("%s (pid %d) still runs after Delete", name, pid)
			}
		}
		if _, err := os.Stat(filepath.Join(e.state, c.Namespace, c.Name)); !os.IsNotExist(err) {
			t.Errorf("the cluster directory is still there: %v", err)
		}
		if done, err := e.p.Delete(e.ctx, c); !done || err != nil {
			t.Errorf("second Delete: %v %v", done, err)
		}
	})
}

func testNodesAndGPUPod(t *testing.T, e *env, c provider.ClusterRef, cs kubernetes.Interface) {
	gpuTaint := corev1.Taint{Key: "nvidia.com/gpu", Value: "present", Effect: corev1.TaintEffectNoSchedule}
	nodes := []provider.NodeSpec{
		{
			Name: "general-0", Group: "general", Zone: "geneva",
			Labels: map[string]string{"node.kubernetes.io/instance-type": "s1.large", "topology.kubernetes.io/zone": "geneva"},
			Capacity: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("16Gi"),
				corev1.ResourcePods: resource.MustParse("110"),
			},
		},
		{
			Name: "ml-0", Group: "ml", Zone: "lucerne",
			Labels: map[string]string{"node.kubernetes.io/instance-type": "g1.xlarge", "topology.kubernetes.io/zone": "lucerne"},
			Taints: []corev1.Taint{gpuTaint},
			Capacity: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("64Gi"),
				corev1.ResourcePods: resource.MustParse("110"), gpuResource: resource.MustParse("1"),
			},
		},
	}
	var statuses []provider.NodeStatus
	err := wait.PollUntilContextTimeout(e.ctx, e.pollStep, time.Minute, true, func(ctx context.Context) (bool, error) {
		var err error
		statuses, err = e.p.EnsureNodes(ctx, c, nodes)
		if err != nil {
			return false, err
		}
		for _, s := range statuses {
			if !s.Ready {
				return false, nil
			}
		}
		return len(statuses) == 2, nil
	})
	if err != nil {
		t.Fatalf("nodes Ready: %v (last %+v)", err, statuses)
	}
	ml, err := cs.CoreV1().Nodes().Get(e.ctx, "ml-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if q := ml.Status.Allocatable[gpuResource]; q.Value() != 1 {
		t.Errorf("ml-0 allocatable %v", ml.Status.Allocatable)
	}
	if q := ml.Status.Capacity[corev1.ResourceCPU]; q.Cmp(resource.MustParse("8")) != 0 {
		t.Errorf("ml-0 capacity %v", ml.Status.Capacity)
	}
	if ml.Labels[provider.LabelNodeGroup] != "ml" || ml.Labels["topology.kubernetes.io/zone"] != "lucerne" || len(ml.Spec.Taints) == 0 {
		t.Errorf("ml-0 labels %v taints %v", ml.Labels, ml.Spec.Taints)
	}

	replicas := int32(1)
	labels := map[string]string{"app": "trainer"}
	_, err = cs.AppsV1().Deployments("default").Create(e.ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "trainer"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Tolerations: []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
					Containers: []corev1.Container{{
						Name: "train", Image: "example.invalid/train:1",
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{gpuResource: resource.MustParse("1")},
							Limits:   corev1.ResourceList{gpuResource: resource.MustParse("1")},
						},
					}},
				},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.Pod
	err = wait.PollUntilContextTimeout(e.ctx, e.pollStep, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=trainer"})
		if err != nil {
			return false, nil
		}
		for _, p := range pods.Items {
			pod = p
			if p.Status.Phase == corev1.PodRunning {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("GPU pod Running: %v (last pod: node %q phase %q conditions %+v)", err, pod.Spec.NodeName, pod.Status.Phase, pod.Status.Conditions)
	}
	if pod.Spec.NodeName != "ml-0" {
		t.Errorf("the GPU pod runs on %q, want ml-0", pod.Spec.NodeName)
	}

	// A node no longer listed is removed with its pods.
	statuses, err = e.p.EnsureNodes(e.ctx, c, nodes[:1])
	if err != nil || len(statuses) != 1 {
		t.Fatalf("EnsureNodes without ml-0: %v %+v", err, statuses)
	}
	if _, err := cs.CoreV1().Nodes().Get(e.ctx, "ml-0", metav1.GetOptions{}); err == nil {
		t.Error("ml-0 still exists")
	}
}

func testKilledAPIServer(t *testing.T, e *env, c provider.ClusterRef, spec provider.ControlPlaneSpec) {
	pid := e.pids(c)[apiserverProc(0)]
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(e.ctx, 20*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return processGone(pid), nil
	}); err != nil {
		t.Fatalf("pid %d did not go: %v", pid, err)
	}
	s := e.ensure(c, spec)
	if s.Ready || s.Reason != ReasonRestarting ||
		!strings.Contains(s.Message, "kube-apiserver replica 0 exited at") || !strings.Contains(s.Message, "signal: killed") {
		t.Fatalf("after kill -9: %+v", s)
	}
	msg := s.Message
	s = e.ensureUntil(c, spec, time.Minute, "the restarted apiserver", func(s provider.ControlPlaneStatus) bool {
		if !s.Ready && s.Message != msg {
			t.Errorf("message changed before Ready: %q", s.Message)
		}
		return s.Ready
	})
	if s.Reason != "" || s.Message != "" {
		t.Errorf("Ready status still carries %q: %q", s.Reason, s.Message)
	}
	if e.pids(c)[apiserverProc(0)] == pid {
		t.Error("the pid file still names the killed process")
	}
}

// testAdoption builds a new Provider on the same state directory, as a
// restarted controller does, and returns it.
func testAdoption(t *testing.T, e *env, c provider.ClusterRef, spec provider.ControlPlaneSpec) *Provider {
	before := e.pids(c)
	e.p = e.newProvider()
	s := e.ensure(c, spec)
	if !s.Ready {
		t.Fatalf("after a controller restart: %+v", s)
	}
	after := e.pids(c)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("processes were not adopted: before %v, after %v", before, after)
	}
	return e.p
}
