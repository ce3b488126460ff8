package kubevirt

import (
	"context"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hikube/hikube/test/harness"
)

// The tenant control planes of the kubevirt mode are host workloads: an etcd
// StatefulSet and a control-plane Deployment in the cluster's host
// namespace, run by the process node (a simulation, docs/process-node.md) on
// its nodes process-<datacenter>, behind a LoadBalancer Service.
const (
	labelComponent    = "apps.hikube.io/component"
	processNodePrefix = "process-"
	// The endpoint serves 443 (tenants, join) and 6443 (what the
	// apiservers advertise as the tenant's kubernetes Service).
	endpointPort, advertisedPort = 443, 6443
)

// controlPlanePods are the running control-plane and etcd pods of a cluster.
func controlPlanePods(t *testing.T, c clients, cluster, component string) []corev1.Pod {
	t.Helper()
	pods, err := c.Core.CoreV1().Pods(hostNamespace(cluster)).List(context.Background(), metav1.ListOptions{LabelSelector: labelComponent + "=" + component})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

func podReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// checkOnProcessNodes checks that the cluster's etcd members and
// control-plane replicas are Running and Ready on process nodes, and that
// the tenant API answers on both ports of the endpoint's address.
func checkOnProcessNodes(t *testing.T, c clients, cluster string) {
	t.Helper()
	for _, component := range []string{"etcd", "control-plane"} {
		pods := controlPlanePods(t, c, cluster, component)
		if len(pods) == 0 {
			t.Errorf("%s has no %s pod in %s", cluster, component, hostNamespace(cluster))
		}
		for _, p := range pods {
			if !podReady(&p) || !strings.HasPrefix(p.Spec.NodeName, processNodePrefix) {
				t.Errorf("%s pod %s is %s (ready %v) on node %q, want Running and Ready on a process node", component, p.Name, p.Status.Phase, podReady(&p), p.Spec.NodeName)
			}
		}
	}
	cfg := tenantConfig(t, cluster)
	host, port, err := net.SplitHostPort(strings.TrimPrefix(cfg.Host, "https://"))
	if err != nil {
		t.Fatalf("tenant server %q: %v", cfg.Host, err)
	}
	if port != strconv.Itoa(endpointPort) {
		t.Errorf("the tenant kubeconfig names port %s, want the endpoint's %d", port, endpointPort)
	}
	svc, err := c.Core.CoreV1().Services(hostNamespace(cluster)).Get(context.Background(), cluster+"-apiserver", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ing := svc.Status.LoadBalancer.Ingress; len(ing) == 0 || ing[0].IP != host {
		t.Errorf("the tenant kubeconfig names %s, the endpoint Service's ingress is %v", host, ing)
	}
	for _, p := range []int{endpointPort, advertisedPort} {
		pc := rest.CopyConfig(cfg)
		pc.Host = "https://" + net.JoinHostPort(host, strconv.Itoa(p))
		if _, err := kubernetes.NewForConfigOrDie(pc).Discovery().ServerVersion(); err != nil {
			t.Errorf("the tenant API does not answer on %s: %v", pc.Host, err)
		}
	}
}

func tenantConfig(t *testing.T, name string) *rest.Config {
	t.Helper()
	raw := env.MustKubectl(t, "alice", "get", "--raw", "/apis/apps.hikube.io/v1alpha1/namespaces/"+tenantA+"/clusters/"+name+"/kubeconfig")
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// apiserverPID is the pid of a pod's kube-apiserver, from the process
// node's record of the pod (pods/<uid>/state.json).
func apiserverPID(t *testing.T, uid types.UID) int {
	t.Helper()
	var pid int
	harness.Eventually(t, time.Minute, "the process node's record of kube-apiserver", func() bool {
		pid = harness.PodPIDs(env.Platform, uid)["kube-apiserver"]
		return pid > 0 && syscall.Kill(pid, 0) == nil
	})
	return pid
}

func restarts(p *corev1.Pod, container string) int32 {
	for _, s := range p.Status.ContainerStatuses {
		if s.Name == container {
			return s.RestartCount
		}
	}
	return -1
}

func proofExists(t *testing.T, cluster string) bool {
	t.Helper()
	cm, err := tenant(t, cluster).CoreV1().ConfigMaps("default").Get(context.Background(), "proof", metav1.GetOptions{})
	return err == nil && cm.Data["written"] == "before"
}

// TestControlPlaneLifecycleOnProcessNode: one small cluster, created at
// v1.36, whose control plane survives a killed kube-apiserver and a deleted
// pod, upgrades to v1.37 with its data, and leaves nothing when deleted.
func TestControlPlaneLifecycleOnProcessNode(t *testing.T) {
	c := hostClients(t)
	const name = "lifecycle"
	ns := hostNamespace(name)
	createOneWorkerCluster(t, name, "v1.36")
	waitReady(t, name)
	checkOnProcessNodes(t, c, name)

	tc := tenant(t, name)
	if _, err := tc.CoreV1().ConfigMaps("default").Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "proof"}, Data: map[string]string{"written": "before"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("kill -9 of kube-apiserver restarts it in its pod", func(t *testing.T) {
		pod := controlPlanePods(t, c, name, "control-plane")[0]
		before := restarts(&pod, "kube-apiserver")
		pid := apiserverPID(t, pod.UID)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill -9 %d: %v", pid, err)
		}
		harness.Eventually(t, 2*time.Minute, "kube-apiserver restarted and the pod Ready again", func() bool {
			p, err := c.Core.CoreV1().Pods(ns).Get(context.Background(), pod.Name, metav1.GetOptions{})
			return err == nil && restarts(p, "kube-apiserver") > before && podReady(p)
		})
		harness.Eventually(t, time.Minute, "the ConfigMap written before", func() bool { return proofExists(t, name) })
	})

	t.Run("a deleted control-plane pod is replaced by its Deployment", func(t *testing.T) {
		before := controlPlanePods(t, c, name, "control-plane")
		existed := map[types.UID]bool{}
		for _, p := range before {
			existed[p.UID] = true
		}
		old := before[0]
		env.MustKubectl(t, "admin", "delete", "pod", old.Name, "-n", ns, "--wait=false")
		harness.Eventually(t, 2*time.Minute, "a new Ready control-plane pod in place of "+old.Name, func() bool {
			pods := controlPlanePods(t, c, name, "control-plane")
			var fresh bool
			for _, p := range pods {
				if p.UID == old.UID {
					return false
				}
				fresh = fresh || !existed[p.UID] && podReady(&p) && strings.HasPrefix(p.Spec.NodeName, processNodePrefix)
			}
			return fresh && len(pods) == len(before)
		})
		harness.Eventually(t, time.Minute, "the ConfigMap written before", func() bool { return proofExists(t, name) })
	})

	t.Run("upgrade to v1.37 rolls the Deployment and keeps the data", func(t *testing.T) {
		old := controlPlanePods(t, c, name, "control-plane")
		env.MustKubectl(t, "alice", "patch", "cluster", name, "-n", tenantA, "--type=merge", "-p", `{"spec":{"version":"v1.37"}}`)
		harness.Eventually(t, 4*time.Minute, "the cluster Ready at v1.37", func() bool {
			v, err := tenant(t, name).Discovery().ServerVersion()
			st := env.Kubectl(t, "admin", "get", "cluster", name, "-n", tenantA, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
			return err == nil && strings.HasPrefix(v.GitVersion, "v1.37.") && st.Stdout == "True"
		})
		d, err := c.Core.AppsV1().Deployments(ns).Get(context.Background(), name+"-control-plane", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ctr := range d.Spec.Template.Spec.Containers {
			if !strings.HasSuffix(ctr.Image, ":v1.37.2") {
				t.Errorf("container %s runs %s after the upgrade, want v1.37.2", ctr.Name, ctr.Image)
			}
		}
		for _, p := range controlPlanePods(t, c, name, "control-plane") {
			for _, o := range old {
				if p.UID == o.UID {
					t.Errorf("pod %s of v1.36 still runs after the upgrade", p.Name)
				}
			}
		}
		checkOnProcessNodes(t, c, name)
		if !proofExists(t, name) {
			t.Error("the ConfigMap written at v1.36 is lost")
		}
	})

	t.Run("delete leaves nothing in the host namespace and removes it", func(t *testing.T) {
		env.MustKubectl(t, "alice", "delete", "cluster", name, "-n", tenantA, "--wait=true", "--timeout=3m")
		harness.Eventually(t, 2*time.Minute, "host namespace "+ns+" gone", func() bool {
			_, err := c.Core.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		})
		pods, err := c.Core.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil || len(pods.Items) > 0 {
			t.Errorf("pods left in %s: %v %v", ns, err, pods)
		}
		pvs, err := c.Core.CoreV1().PersistentVolumes().List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		harness.Eventually(t, time.Minute, "the etcd volumes of "+name+" released and deleted", func() bool {
			pvs, err = c.Core.CoreV1().PersistentVolumes().List(context.Background(), metav1.ListOptions{})
			if err != nil {
				return false
			}
			for _, pv := range pvs.Items {
				if pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.Namespace == ns {
					return false
				}
			}
			return true
		})
	})
}

// createOneWorkerCluster applies a cluster of one u1.medium worker as alice
// in tenant-a and deletes it when the test ends.
func createOneWorkerCluster(t *testing.T, name, version string) {
	t.Helper()
	r := env.KubectlIn(t, "alice", []byte(`apiVersion: apps.hikube.io/v1alpha1
kind: Cluster
metadata:
  name: `+name+`
spec:
  version: "`+version+`"
  nodeGroups:
    workers:
      minReplicas: 1
      maxReplicas: 1
      instanceType: u1.medium
`), "apply", "-n", tenantA, "-f", "-")
	if r.Err != nil {
		t.Fatalf("creating %s: %v %s", name, r.Err, r.Stderr)
	}
	t.Cleanup(func() {
		env.Kubectl(t, "admin", "delete", "cluster", name, "-n", tenantA, "--wait=true", "--timeout=3m")
	})
}
