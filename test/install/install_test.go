// Package install tests hikube installed the way an operator installs it:
// the Helm release of artifacts/charts/hikube in the local host cluster
// (`HIKUBE_INSTALL=chart make run`), whose hikube-apiserver and
// hikube-controller replicas and etcd members run as pods on the process
// node (a simulation, docs/process-node.md), reached by the host's
// aggregation layer through the chart's Service and reaching the host with
// their in-cluster configuration.
package install

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/hikube/hikube/pkg/addons/helm"
	"github.com/hikube/hikube/pkg/installchart"
	"github.com/hikube/hikube/pkg/localplatform"
	"github.com/hikube/hikube/pkg/platform"
	"github.com/hikube/hikube/test/harness"
)

var env harness.Env

func TestMain(m *testing.M) {
	// The install and its pods' start come on top of the kubevirt mode's.
	env.StartTimeout = 6 * time.Minute
	os.Exit(harness.Main(m, &env, localplatform.Options{NodeProvider: localplatform.NodeProviderKubeVirt, Install: localplatform.InstallChart}))
}

const (
	tenantA           = "tenant-a"
	processNodePrefix = "process-"
	apiServiceName    = "v1alpha1.apps.hikube.io"
	labelName         = "app.kubernetes.io/name"
)

var apiServiceGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

func host(t *testing.T) kubernetes.Interface {
	t.Helper()
	return kubernetes.NewForConfigOrDie(env.RESTConfig(t, "admin"))
}

// pods are the live pods of one of the chart's components.
func pods(t *testing.T, name string) []corev1.Pod {
	t.Helper()
	l, err := host(t).CoreV1().Pods(platform.Namespace).List(context.Background(), metav1.ListOptions{LabelSelector: labelName + "=" + name})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range l.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return p.Status.Phase == corev1.PodRunning && c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func restarts(p *corev1.Pod) int32 {
	if len(p.Status.ContainerStatuses) == 0 {
		return -1
	}
	return p.Status.ContainerStatuses[0].RestartCount
}

// runningOnProcessNodes checks that name has want pods, each Running and
// Ready on a process node.
func runningOnProcessNodes(t *testing.T, name string, want int) []corev1.Pod {
	t.Helper()
	ps := pods(t, name)
	if len(ps) != want {
		t.Fatalf("%d %s pods, want %d", len(ps), name, want)
	}
	for _, p := range ps {
		if !podReady(&p) || !strings.HasPrefix(p.Spec.NodeName, processNodePrefix) {
			t.Errorf("%s is %s (ready %v) on node %q, want Running and Ready on a process node", p.Name, p.Status.Phase, podReady(&p), p.Spec.NodeName)
		}
	}
	return ps
}

func apiServiceAvailable(t *testing.T) bool {
	t.Helper()
	obj, err := dynamic.NewForConfigOrDie(env.RESTConfig(t, "admin")).Resource(apiServiceGVR).Get(context.Background(), apiServiceName, metav1.GetOptions{})
	if err != nil {
		return false
	}
	svc := obj.Object["spec"].(map[string]any)["service"].(map[string]any)
	if svc["name"] != "hikube-apiserver" || svc["namespace"] != platform.Namespace {
		t.Fatalf("APIService %s routes to %v, want the chart's Service", apiServiceName, svc)
	}
	conds, _ := obj.Object["status"].(map[string]any)["conditions"].([]any)
	for _, c := range conds {
		m := c.(map[string]any)
		if m["type"] == "Available" {
			return m["status"] == "True"
		}
	}
	return false
}

// pid is the pid of a pod's container process, from the process node's
// record of the pod (pods/<uid>/state.json).
func pid(t *testing.T, p corev1.Pod, container string) int {
	t.Helper()
	var pid int
	harness.Eventually(t, time.Minute, "the process node's record of "+p.Name, func() bool {
		data, err := os.ReadFile(filepath.Join(env.Platform.ProcessNodeHome(), "pods", string(p.UID), "state.json"))
		if err != nil {
			return false
		}
		var r struct {
			PIDs map[string]struct {
				PID int `json:"pid"`
			} `json:"pids"`
		}
		if json.Unmarshal(data, &r) != nil {
			return false
		}
		pid = r.PIDs[container].PID
		return pid > 0 && syscall.Kill(pid, 0) == nil
	})
	return pid
}

// listClusters lists clusters through the aggregation layer as alice.
func listClusters(t *testing.T) error {
	t.Helper()
	_, err := env.Hikube(t, "alice").AppsV1alpha1().Clusters(tenantA).List(context.Background(), metav1.ListOptions{})
	return err
}

// TestInstalledByChart: the release is deployed, its replicas run on the
// process nodes, the APIService is Available through the chart's Service,
// one controller leads, a cluster created through it becomes Ready, and a
// killed hikube-apiserver replica costs the API nothing.
func TestInstalledByChart(t *testing.T) {
	t.Run("the Helm release is deployed", func(t *testing.T) {
		rel, err := helm.NewClient(env.RESTConfig(t, "admin"), nil).Last(installchart.ReleaseName, platform.Namespace)
		if err != nil || rel == nil {
			t.Fatalf("release %s/%s: %v, %v", platform.Namespace, installchart.ReleaseName, rel, err)
		}
		if rel.Info.Status != "deployed" || rel.Chart.Name() != "hikube" {
			t.Errorf("release %s of chart %s is %s, want deployed", rel.Name, rel.Chart.Name(), rel.Info.Status)
		}
	})
	t.Run("hikube-apiserver, hikube-controller and etcd run on the process nodes", func(t *testing.T) {
		runningOnProcessNodes(t, "hikube-apiserver", 2)
		runningOnProcessNodes(t, "hikube-controller", 2)
		runningOnProcessNodes(t, "hikube-etcd", 3)
	})
	t.Run("the replicas reach the host with their in-cluster configuration", func(t *testing.T) {
		svc, err := host(t).CoreV1().Services(metav1.NamespaceDefault).Get(context.Background(), "kubernetes", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range append(pods(t, "hikube-apiserver"), pods(t, "hikube-controller")...) {
			for _, a := range p.Spec.Containers[0].Args {
				if strings.Contains(a, "kubeconfig") {
					t.Errorf("%s runs with %s, want the in-cluster configuration", p.Name, a)
				}
			}
			environ, err := os.ReadFile("/proc/" + strconv.Itoa(pid(t, p, p.Spec.Containers[0].Name)) + "/environ")
			if err != nil {
				t.Fatal(err)
			}
			if want := "KUBERNETES_SERVICE_HOST=" + svc.Spec.ClusterIP; !strings.Contains("\x00"+string(environ)+"\x00", "\x00"+want+"\x00") {
				t.Errorf("%s's environment lacks %s", p.Name, want)
			}
		}
	})
	t.Run("the APIService is Available through the chart's Service", func(t *testing.T) {
		if !apiServiceAvailable(t) {
			t.Fatal("APIService not Available")
		}
		// The aggregator routes to the Service's endpoints: the two replicas.
		slices, err := host(t).DiscoveryV1().EndpointSlices(platform.Namespace).List(context.Background(), metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=hikube-apiserver"})
		if err != nil {
			t.Fatal(err)
		}
		ready := map[string]bool{}
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && *e.Conditions.Ready {
					ready[e.Addresses[0]] = true
				}
			}
		}
		for _, p := range pods(t, "hikube-apiserver") {
			if !ready[p.Status.PodIP] {
				t.Errorf("replica %s (%s) is not a ready endpoint of the Service: %v", p.Name, p.Status.PodIP, ready)
			}
		}
		// Through the aggregation layer, as a tenant: an empty list.
		env.MustKubectl(t, "alice", "get", "clusters", "-n", tenantA)
		if out := env.MustKubectl(t, "alice", "get", "instancetypes", "-o", "name"); !strings.Contains(out, "u1.medium") {
			t.Errorf("kubectl get instancetypes printed %q", out)
		}
	})
	t.Run("one hikube-controller holds the Lease", func(t *testing.T) {
		ctrl := runningOnProcessNodes(t, "hikube-controller", 2)
		l, err := host(t).CoordinationV1().Leases(platform.Namespace).Get(context.Background(), platform.ControllerName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		holder := ""
		if l.Spec.HolderIdentity != nil {
			holder = *l.Spec.HolderIdentity
		}
		leaders := 0
		for _, p := range ctrl {
			// The identity is <hostname>_<pid>; a pod's hostname is its name.
			if holder == p.Name+"_"+strconv.Itoa(pid(t, p, "hikube-controller")) {
				leaders++
			}
		}
		if leaders != 1 {
			t.Errorf("Lease holder %q is not exactly one of the controller pods %s, %s", holder, ctrl[0].Name, ctrl[1].Name)
		}
	})

	t.Run("a cluster created through the installed API becomes Ready", func(t *testing.T) {
		r := env.KubectlIn(t, "alice", []byte(`apiVersion: apps.hikube.io/v1alpha1
kind: Cluster
metadata:
  name: chart
spec:
  nodeGroups:
    workers:
      minReplicas: 1
      maxReplicas: 1
      instanceType: u1.medium
  addons:
    certManager:
      enabled: true
`), "apply", "-n", tenantA, "-f", "-")
		if r.Err != nil {
			t.Fatalf("creating cluster chart: %v %s", r.Err, r.Stderr)
		}
		w := env.Kubectl(t, "alice", "wait", "--for=condition=Ready", "cluster/chart", "-n", tenantA, "--timeout=4m")
		if w.Err != nil {
			st := env.Kubectl(t, "admin", "get", "cluster", "chart", "-n", tenantA, "-o", "jsonpath={.status}")
			t.Fatalf("cluster chart not Ready: %v %s\nstatus: %s", w.Err, w.Stderr, st.Stdout)
		}
		// The add-on's chart comes from the directory the controller's pods mount.
		w = env.Kubectl(t, "alice", "wait", "--for=condition=AddonsReady", "cluster/chart", "-n", tenantA, "--timeout=3m")
		if w.Err != nil {
			st := env.Kubectl(t, "admin", "get", "cluster", "chart", "-n", tenantA, "-o", "jsonpath={.status.addons}")
			t.Fatalf("cluster chart's add-ons not ready: %v %s\nstatus: %s", w.Err, w.Stderr, st.Stdout)
		}
	})

	t.Run("kill -9 of a hikube-apiserver replica: the API keeps serving", func(t *testing.T) {
		victim := runningOnProcessNodes(t, "hikube-apiserver", 2)[0]
		before := restarts(&victim)
		if err := syscall.Kill(pid(t, victim, "hikube-apiserver"), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// The other replica serves while the victim restarts: the
		// APIService is Available and requests succeed.
		harness.Eventually(t, time.Minute, "the APIService Available and ten lists in a row answered", func() bool {
			if !apiServiceAvailable(t) {
				return false
			}
			for range 10 {
				if listClusters(t) != nil {
					return false
				}
			}
			return true
		})
		harness.Eventually(t, 2*time.Minute, "the killed replica restarted and Ready", func() bool {
			p, err := host(t).CoreV1().Pods(platform.Namespace).Get(context.Background(), victim.Name, metav1.GetOptions{})
			return err == nil && restarts(p) > before && podReady(p)
		})
		for range 10 {
			if err := listClusters(t); err != nil {
				t.Fatalf("listing clusters after the restart: %v", err)
			}
		}
		if !apiServiceAvailable(t) {
			t.Error("APIService not Available after the restart")
		}
	})
}
