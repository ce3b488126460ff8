// Package processnode tests the process node of the local kubevirt mode (a
// simulation, docs/process-node.md) on the real host: the local platform in
// kubevirt mode (real etcd, kube-apiserver, kube-controller-manager with the
// workload controllers, kube-scheduler, the process node) runs a control
// plane written as the kubevirt provider writes it — a one-member etcd
// StatefulSet and a kube-apiserver Deployment with the real flags, reached
// through a LoadBalancer Service — and the test proves that it really
// serves, survives a killed process and a deleted pod, and leaves nothing
// behind. It needs root (network namespaces).
package processnode

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/pkg/controlplaneflags"
	"github.com/hikube/hikube/pkg/localplatform"
	"github.com/hikube/hikube/pkg/pki"
	"github.com/hikube/hikube/test/harness"
)

const (
	ns           = "cp-test"
	etcdImage    = "registry.k8s.io/etcd:3.7.0-0"
	apiImage     = "registry.k8s.io/kube-apiserver:v1.37.2"
	pkiMount     = "/etc/kubernetes/pki"
	controlPlane = "node-role.hikube.io/control-plane"
	timeout      = 2 * time.Minute
)

func TestControlPlaneOnProcessNode(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the process node needs root (network namespaces); run this test as root")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(root, "_output", "bin")
	home, err := os.MkdirTemp("", "hikube-processnode-")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, err := localplatform.Start(ctx, localplatform.Options{
		Home: home, BinDir: bin, Log: os.Stderr, NodeProvider: localplatform.NodeProviderKubeVirt, SkipHikubeAPIServer: true,
	})
	if err != nil {
		t.Fatalf("starting the platform: %v (logs in %s)", err, filepath.Join(home, "logs"))
	}
	prefix := networkPrefix(t, p.ProcessNodeHome())
	stopped := false
	defer func() {
		if !stopped {
			_ = p.Stop()
		}
		if t.Failed() {
			t.Logf("state and logs kept in %s", home)
		} else {
			_ = os.RemoveAll(home)
		}
	}()
	cfg, err := p.RESTConfig("admin")
	if err != nil {
		t.Fatal(err)
	}
	host := kubernetes.NewForConfigOrDie(cfg)

	mustOK(t, errOf(host.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})))
	// The endpoint first: its ingress address goes into the serving certificate.
	mustOK(t, errOf(host.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-apiserver"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "kube-apiserver"},
			Ports: []corev1.ServicePort{{Name: "https", Port: 443, TargetPort: intstr.FromInt32(6443)}}},
	}, metav1.CreateOptions{})))
	var ingress string
	harness.Eventually(t, timeout, "the LoadBalancer ingress address", func() bool {
		s, err := host.CoreV1().Services(ns).Get(ctx, "kube-apiserver", metav1.GetOptions{})
		if err == nil && len(s.Status.LoadBalancer.Ingress) == 1 {
			ingress = s.Status.LoadBalancer.Ingress[0].IP
		}
		return ingress != ""
	})
	if ip := net.ParseIP(ingress); ip == nil || ip.IsLoopback() {
		t.Fatalf("ingress %q is not an address of its own", ingress)
	}
	if !strings.Contains(run(t, "ip", "-o", "addr", "show", "dev", prefix+"br"), ingress+"/32") {
		t.Fatalf("ingress %s is not on the process node's bridge", ingress)
	}

	creds := createPKI(t, ctx, host, home, ingress)
	createEtcd(t, ctx, host)
	createAPIServer(t, ctx, host)

	etcdPod := waitReady(t, ctx, host, "app=etcd", "")
	apiPod := waitReady(t, ctx, host, "app=kube-apiserver", "")
	if etcdPod.Status.PodIP == apiPod.Status.PodIP {
		t.Fatalf("pods share the address %s", apiPod.Status.PodIP)
	}
	for _, pod := range []*corev1.Pod{etcdPod, apiPod} {
		ip := net.ParseIP(pod.Status.PodIP)
		if ip == nil || ip.IsLoopback() || pod.Status.HostIP == "" || !strings.HasPrefix(pod.Spec.NodeName, "process-") {
			t.Fatalf("pod %s: podIP %q hostIP %q node %q", pod.Name, pod.Status.PodIP, pod.Status.HostIP, pod.Spec.NodeName)
		}
		if len(pod.Status.PodIPs) != 1 || pod.Status.PodIPs[0].IP != pod.Status.PodIP {
			t.Fatalf("pod %s: podIPs %v", pod.Name, pod.Status.PodIPs)
		}
	}
	waitEndpoint(t, ctx, host, "kube-apiserver", apiPod.Status.PodIP)
	waitEndpoint(t, ctx, host, "etcd", etcdPod.Status.PodIP)

	// The pods' hosts files name the etcd member and the endpoint Service.
	harness.Eventually(t, timeout, "the kube-apiserver pod's hosts file naming etcd-0 and the endpoint", func() bool {
		hosts, err := os.ReadFile(filepath.Join(p.ProcessNodeHome(), "pods", string(apiPod.UID), "hosts"))
		return err == nil && strings.Contains(string(hosts), etcdPod.Status.PodIP+"\tetcd-0.etcd."+ns+".svc ") &&
			strings.Contains(string(hosts), ingress+"\tkube-apiserver."+ns+".svc ")
	})

	tenant := tenantClient(t, creds, ingress)
	readyz(t, ctx, tenant)
	mustOK(t, errOf(tenant.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "proof"}, Data: map[string]string{"written": "before the kill"},
	}, metav1.CreateOptions{})))

	// kill -9 of the kube-apiserver process: the process node restarts it.
	pid := containerPID(t, p.ProcessNodeHome(), apiPod, "kube-apiserver")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d: %v", pid, err)
	}
	harness.Eventually(t, timeout, "kube-apiserver restarted once and Ready", func() bool {
		pod, err := host.CoreV1().Pods(ns).Get(ctx, apiPod.Name, metav1.GetOptions{})
		if err != nil || len(pod.Status.ContainerStatuses) != 1 {
			return false
		}
		cs := pod.Status.ContainerStatuses[0]
		return cs.RestartCount == 1 && cs.Ready && cs.LastTerminationState.Terminated != nil &&
			cs.LastTerminationState.Terminated.ExitCode == 137 && podReady(pod)
	})
	readyz(t, ctx, tenant)
	checkProof(t, ctx, tenant)

	// kubectl delete pod: the Deployment brings a new pod.
	oldNetns := podNetns(t, p.ProcessNodeHome(), apiPod)
	pid = containerPID(t, p.ProcessNodeHome(), apiPod, "kube-apiserver")
	out, err := exec.Command(filepath.Join(bin, "kubectl"), "--kubeconfig", p.KubeconfigPath("admin"), "-n", ns, "delete", "pod", apiPod.Name).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl delete pod: %v: %s", err, out)
	}
	newPod := waitReady(t, ctx, host, "app=kube-apiserver", apiPod.UID)
	harness.Eventually(t, timeout, "the deleted pod gone", func() bool {
		_, err := host.CoreV1().Pods(ns).Get(ctx, apiPod.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if processAlive(pid) {
		t.Fatalf("the deleted pod's process %d still runs", pid)
	}
	if _, err := os.Stat(filepath.Join("/run/netns", oldNetns)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the deleted pod's namespace %s is still there", oldNetns)
	}
	waitEndpoint(t, ctx, host, "kube-apiserver", newPod.Status.PodIP)
	harness.Eventually(t, timeout, "the tenant API through the LoadBalancer again", func() bool {
		_, err := tenant.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil
	})
	checkProof(t, ctx, tenant)

	// The agent dies (kill -9): its pod processes die with it (they have a
	// parent-death signal); a new agent removes the namespaces and links the
	// old one left and runs the pods again, at the same addresses, counting
	// one restart.
	agent := restartAgent(t, p, bin, home, []*corev1.Pod{newPod, etcdPod})
	defer func() { agent.kill() }()
	runningAgain := func(pods []*corev1.Pod, restarts int32) []*corev1.Pod {
		t.Helper()
		var out []*corev1.Pod
		for _, pod := range pods {
			harness.Eventually(t, timeout, pod.Name+" running again under the new agent", func() bool {
				cur, err := host.CoreV1().Pods(ns).Get(ctx, pod.Name, metav1.GetOptions{})
				if err != nil || len(cur.Status.ContainerStatuses) != 1 {
					return false
				}
				cs := cur.Status.ContainerStatuses[0]
				if cs.RestartCount == pod.Status.ContainerStatuses[0].RestartCount+restarts && cs.Ready &&
					cs.ContainerID != pod.Status.ContainerStatuses[0].ContainerID && cur.Status.PodIP == pod.Status.PodIP && podReady(cur) {
					out = append(out, cur)
					return true
				}
				return false
			})
		}
		return out
	}
	pods := runningAgain([]*corev1.Pod{newPod, etcdPod}, 1)
	// A clean stop (SIGTERM) ends the pods' processes and removes every
	// namespace and link; the next agent runs the pods again, one restart more.
	agent.stop(t)
	if n, l := netnsWith(t, prefix), linksWith(t, prefix); len(n) != 0 || len(l) != 0 {
		t.Fatalf("left behind after the agent stopped: namespaces %v, links %v", n, l)
	}
	agent = startAgent(t, p, bin, home, "hikube-process-node-3.log")
	runningAgain(pods, 1)
	harness.Eventually(t, timeout, "the tenant API through the same LoadBalancer address", func() bool {
		_, err := tenant.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil
	})
	checkProof(t, ctx, tenant)

	// Three etcd members over the three process nodes find each other by
	// their names in the headless Service (the hosts files) and form one
	// cluster.
	createEtcdCluster(t, ctx, host)
	harness.Eventually(t, 3*time.Minute, "three etcd members Ready on three nodes, in one cluster", func() bool {
		l, err := host.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=etcd3"})
		if err != nil || len(l.Items) != 3 {
			return false
		}
		nodes := map[string]bool{}
		for i := range l.Items {
			if !podReady(&l.Items[i]) {
				return false
			}
			nodes[l.Items[i].Spec.NodeName] = true
		}
		return len(nodes) == 3 && etcdMembers(l.Items[0].Status.PodIP) == 3
	})

	// An image off the allow-list is simulated (running, ready, no process);
	// a failing liveness probe restarts its container.
	other := placement
	other.Containers = []corev1.Container{{Name: "csi", Image: "quay.io/kubevirt/kubevirt-csi-driver:v0.1.0", Args: []string{"--v=2"}}}
	mustOK(t, errOf(host.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "not-run", Labels: map[string]string{"app": "other"}}, Spec: other}, metav1.CreateOptions{})))
	sim := waitReady(t, ctx, host, "app=other", "")
	if id := sim.Status.ContainerStatuses[0].ContainerID; !strings.HasPrefix(id, "simulated://") {
		t.Fatalf("a container of another image has %q", id)
	}
	unhealthy := placement
	unhealthy.Containers = []corev1.Container{{Name: "etcd", Image: etcdImage, Command: []string{"etcd"},
		Args:          []string{"--data-dir=/data/etcd", "--listen-client-urls=http://0.0.0.0:2379", "--advertise-client-urls=http://$(POD_IP):2379", "--listen-peer-urls=http://127.0.0.1:2380"},
		Env:           []corev1.EnvVar{{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}}},
		VolumeMounts:  []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
		LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(9999)}}, PeriodSeconds: 1, FailureThreshold: 2},
	}}
	unhealthy.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	unhealthy.TerminationGracePeriodSeconds = ptr.To[int64](2)
	mustOK(t, errOf(host.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "unhealthy"}, Spec: unhealthy}, metav1.CreateOptions{})))
	harness.Eventually(t, timeout, "the unhealthy container restarted by its liveness probe", func() bool {
		pod, err := host.CoreV1().Pods(ns).Get(ctx, "unhealthy", metav1.GetOptions{})
		if err != nil || len(pod.Status.ContainerStatuses) != 1 {
			return false
		}
		cs := pod.Status.ContainerStatuses[0]
		return cs.RestartCount >= 1 && cs.LastTerminationState.Terminated != nil && cs.Ready // no readiness probe: ready while running
	})

	// Deleting everything leaves no process, namespace, link or volume.
	pids := []int{containerPID(t, p.ProcessNodeHome(), newPod, "kube-apiserver"), containerPID(t, p.ProcessNodeHome(), etcdPod, "etcd")}
	pvs, err := host.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil || len(pvs.Items) != 1 || pvs.Items[0].Spec.HostPath == nil {
		t.Fatalf("want the etcd member's one hostPath volume, got %v (%v)", pvs, err)
	}
	volumeDir := pvs.Items[0].Spec.HostPath.Path
	if err := host.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	harness.Eventually(t, timeout, "the namespace gone", func() bool {
		_, err := host.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	harness.Eventually(t, timeout, "the volume deleted with its data", func() bool {
		l, err := host.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
		_, statErr := os.Stat(volumeDir)
		return err == nil && len(l.Items) == 0 && errors.Is(statErr, os.ErrNotExist)
	})
	harness.Eventually(t, timeout, "no pod namespace, link or LoadBalancer address left", func() bool {
		return len(netnsWith(t, prefix)) == 0 && strings.Join(linksWith(t, prefix), ",") == prefix+"br" &&
			!strings.Contains(run(t, "ip", "-o", "addr", "show", "dev", prefix+"br"), ingress+"/")
	})
	for _, pid := range pids {
		if processAlive(pid) {
			t.Fatalf("process %d still runs after its pod was deleted", pid)
		}
	}

	// Stopping the agent removes the bridge too.
	agent.stop(t)
	if n, l := netnsWith(t, prefix), linksWith(t, prefix); len(n) != 0 || len(l) != 0 {
		t.Fatalf("left behind after the agent stopped: namespaces %v, links %v", n, l)
	}
	stopped = true
	if err := p.Stop(); err != nil {
		t.Fatalf("stopping the platform: %v", err)
	}
	if n, l := netnsWith(t, prefix), linksWith(t, prefix); len(n) != 0 || len(l) != 0 {
		t.Fatalf("left behind after stop: namespaces %v, links %v", n, l)
	}
}

func errOf[T any](_ T, err error) error { return err }

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type credentials struct{ ca, cert, key []byte }

// createPKI issues what the control plane needs, as the provider would:
// a CA, the serving certificate for the ingress address, the service-account
// key, and an admin client certificate for the test.
func createPKI(t *testing.T, ctx context.Context, host kubernetes.Interface, home, ingress string) credentials {
	t.Helper()
	ca, err := pki.NewCA(pki.CertConfig{CommonName: "cp-test-ca"})
	if err != nil {
		t.Fatal(err)
	}
	serving, err := ca.SignServing(pki.KubeAPIServerServing([]string{"kube-apiserver." + ns + ".svc"}, []net.IP{net.ParseIP(ingress)}, controlplaneflags.DefaultKubernetesServiceIP))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := ca.SignClient(pki.CertConfig{CommonName: "admin", Organization: []string{"system:masters"}})
	if err != nil {
		t.Fatal(err)
	}
	saKey, err := pki.LoadOrCreateKey(filepath.Join(home, "cp-test-sa.key"))
	if err != nil {
		t.Fatal(err)
	}
	servingKey, err := serving.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	adminKey, err := admin.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, errOf(host.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-apiserver-pki"},
		Data:       map[string][]byte{"ca.crt": ca.CertPEM(), "apiserver.crt": serving.CertPEM(), "apiserver.key": servingKey, "sa.key": saKey},
	}, metav1.CreateOptions{})))
	return credentials{ca: ca.CertPEM(), cert: admin.CertPEM(), key: adminKey}
}

var placement = corev1.PodSpec{
	NodeSelector: map[string]string{controlPlane: ""},
	Tolerations:  []corev1.Toleration{{Key: controlPlane, Operator: corev1.TolerationOpExists}},
}

// createEtcd is a one-member etcd StatefulSet with its data on a PVC of the
// replicated class.
func createEtcd(t *testing.T, ctx context.Context, host kubernetes.Interface) {
	t.Helper()
	createEtcdService(t, ctx, host, "etcd")
	spec := placement
	spec.Containers = []corev1.Container{etcdContainer("etcd", "etcd-0=http://etcd-0.etcd.$(POD_NAMESPACE).svc:2380")}
	labels := map[string]string{"app": "etcd"}
	mustOK(t, errOf(host.AppsV1().StatefulSets(ns).Create(ctx, &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "etcd"},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](1), ServiceName: "etcd", Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, StorageClassName: ptr.To("replicated"),
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}},
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType, WhenScaled: appsv1.RetainPersistentVolumeClaimRetentionPolicyType},
		},
	}, metav1.CreateOptions{})))
}

// createEtcdCluster is a three-member etcd StatefulSet spread over the
// zones, its members addressed by name.
func createEtcdCluster(t *testing.T, ctx context.Context, host kubernetes.Interface) {
	t.Helper()
	createEtcdService(t, ctx, host, "etcd3")
	var initial []string
	for i := range 3 {
		name := "etcd3-" + strconv.Itoa(i)
		initial = append(initial, name+"=http://"+name+".etcd3.$(POD_NAMESPACE).svc:2380")
	}
	labels := map[string]string{"app": "etcd3"}
	spec := placement
	spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone",
		WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: &metav1.LabelSelector{MatchLabels: labels}}}
	spec.Containers = []corev1.Container{etcdContainer("etcd3", strings.Join(initial, ","))}
	spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	mustOK(t, errOf(host.AppsV1().StatefulSets(ns).Create(ctx, &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "etcd3"},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](3), ServiceName: "etcd3", PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
		},
	}, metav1.CreateOptions{})))
}

// createEtcdService is the headless Service that names the members of the
// StatefulSet svc (pods labelled app=svc), addresses published before they
// are ready so that they can find each other.
func createEtcdService(t *testing.T, ctx context.Context, host kubernetes.Interface, svc string) {
	t.Helper()
	mustOK(t, errOf(host.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: svc},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": svc}, PublishNotReadyAddresses: true,
			Ports: []corev1.ServicePort{{Name: "client", Port: 2379}, {Name: "peer", Port: 2380}}},
	}, metav1.CreateOptions{})))
}

// etcdContainer runs an etcd member of the StatefulSet behind the headless
// Service svc, with the real etcd flags, its name and addresses from
// $(VAR)s, and initial the --initial-cluster list.
func etcdContainer(svc, initial string) corev1.Container {
	member := "$(POD_NAME)." + svc + ".$(POD_NAMESPACE).svc"
	return corev1.Container{
		Name: "etcd", Image: etcdImage, Command: []string{"etcd"},
		Args: []string{
			"--name=$(POD_NAME)",
			"--data-dir=/var/lib/etcd/data",
			"--listen-client-urls=http://0.0.0.0:2379",
			"--advertise-client-urls=http://" + member + ":2379",
			"--listen-peer-urls=http://0.0.0.0:2380",
			"--initial-advertise-peer-urls=http://" + member + ":2380",
			"--initial-cluster=" + initial,
			"--initial-cluster-state=new",
			"--listen-metrics-urls=http://0.0.0.0:2381",
		},
		Env: []corev1.EnvVar{
			{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
		},
		Ports:        []corev1.ContainerPort{{Name: "client", ContainerPort: 2379}, {Name: "peer", ContainerPort: 2380}, {Name: "metrics", ContainerPort: 2381}},
		VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/etcd"}},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstr.FromString("metrics")}},
			PeriodSeconds: 1, FailureThreshold: 3},
	}
}

// etcdMembers is the number of members the etcd at ip lists (its v3 JSON
// gateway), 0 when it does not answer.
func etcdMembers(ip string) int {
	resp, err := http.Post("http://"+net.JoinHostPort(ip, "2379")+"/v3/cluster/member/list", "application/json", strings.NewReader("{}"))
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var list struct {
		Members []struct {
			Name string `json:"name"`
		} `json:"members"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&list) != nil {
		return 0
	}
	return len(list.Members)
}

func createAPIServer(t *testing.T, ctx context.Context, host kubernetes.Interface) {
	t.Helper()
	args := controlplaneflags.KubeAPIServer{
		EtcdServers: []string{"http://etcd-0.etcd." + ns + ".svc:2379"},
		Serving: controlplaneflags.Serving{
			SecurePort: 6443, BindAddress: "0.0.0.0", AdvertiseAddress: "$(POD_IP)", CertDir: "/var/run/kubernetes",
			CertFile: pkiMount + "/apiserver.crt", KeyFile: pkiMount + "/apiserver.key",
		},
		ClientCAFile:   pkiMount + "/ca.crt",
		ServiceAccount: controlplaneflags.ServiceAccount{KeyFile: pkiMount + "/sa.key", SigningKeyFile: pkiMount + "/sa.key"},
	}
	if err := args.Validate(); err != nil {
		t.Fatal(err)
	}
	probe := func(path string, failures int32) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(6443), Scheme: corev1.URISchemeHTTPS}},
			PeriodSeconds: 1, FailureThreshold: failures}
	}
	spec := placement
	spec.Containers = []corev1.Container{{
		Name: "kube-apiserver", Image: apiImage, Command: []string{"kube-apiserver"}, Args: args.Flags(),
		Env:   []corev1.EnvVar{{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}}},
		Ports: []corev1.ContainerPort{{Name: "https", ContainerPort: 6443}},
		VolumeMounts: []corev1.VolumeMount{
			{Name: "pki", MountPath: pkiMount, ReadOnly: true},
			{Name: "certdir", MountPath: "/var/run/kubernetes"},
		},
		StartupProbe:   &corev1.Probe{ProbeHandler: probe("/livez", 1).ProbeHandler, PeriodSeconds: 1, FailureThreshold: 60},
		ReadinessProbe: probe("/readyz", 3),
		LivenessProbe:  probe("/livez", 10),
	}}
	spec.Volumes = []corev1.Volume{
		{Name: "pki", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "kube-apiserver-pki", DefaultMode: ptr.To[int32](0o600)}}},
		{Name: "certdir", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	spec.TerminationGracePeriodSeconds = ptr.To[int64](5)
	labels := map[string]string{"app": "kube-apiserver"}
	mustOK(t, errOf(host.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-apiserver"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
		},
	}, metav1.CreateOptions{})))
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// waitReady waits for the one Running and Ready pod of selector that is not
// the pod not.
func waitReady(t *testing.T, ctx context.Context, host kubernetes.Interface, selector string, not types.UID) *corev1.Pod {
	t.Helper()
	var found *corev1.Pod
	harness.Eventually(t, 3*time.Minute, "a Running, Ready pod "+selector, func() bool {
		l, err := host.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false
		}
		for i := range l.Items {
			pod := &l.Items[i]
			if pod.UID != not && pod.DeletionTimestamp == nil && pod.Status.Phase == corev1.PodRunning && podReady(pod) {
				found = pod
				return true
			}
		}
		return false
	})
	return found
}

func waitEndpoint(t *testing.T, ctx context.Context, host kubernetes.Interface, svc, ip string) {
	t.Helper()
	harness.Eventually(t, timeout, "EndpointSlices of "+svc+" listing "+ip, func() bool {
		l, err := host.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
		if err != nil {
			return false
		}
		for _, s := range l.Items {
			for _, e := range s.Endpoints {
				if len(e.Addresses) == 1 && e.Addresses[0] == ip && (e.Conditions.Ready == nil || *e.Conditions.Ready) {
					return true
				}
			}
		}
		return false
	})
}

func tenantClient(t *testing.T, c credentials, ingress string) kubernetes.Interface {
	t.Helper()
	return kubernetes.NewForConfigOrDie(&rest.Config{
		Host:            "https://" + ingress + ":443",
		TLSClientConfig: rest.TLSClientConfig{CAData: c.ca, CertData: c.cert, KeyData: c.key},
		Timeout:         10 * time.Second,
	})
}

func readyz(t *testing.T, ctx context.Context, tenant kubernetes.Interface) {
	t.Helper()
	var body []byte
	harness.Eventually(t, timeout, "/readyz through the LoadBalancer", func() bool {
		var err error
		body, err = tenant.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil
	})
	if string(body) != "ok" {
		t.Fatalf("/readyz answered %q", body)
	}
}

func checkProof(t *testing.T, ctx context.Context, tenant kubernetes.Interface) {
	t.Helper()
	cm, err := tenant.CoreV1().ConfigMaps("default").Get(ctx, "proof", metav1.GetOptions{})
	if err != nil || cm.Data["written"] != "before the kill" {
		t.Fatalf("the ConfigMap written through the tenant API is lost: %v %v", cm, err)
	}
}

type podRecord struct {
	Netns string `json:"netns"`
	PIDs  map[string]struct {
		PID int `json:"pid"`
	} `json:"pids"`
}

func record(t *testing.T, home string, pod *corev1.Pod) podRecord {
	t.Helper()
	var r podRecord
	harness.Eventually(t, timeout, "the process node's record of "+pod.Name, func() bool {
		data, err := os.ReadFile(filepath.Join(home, "pods", string(pod.UID), "state.json"))
		return err == nil && json.Unmarshal(data, &r) == nil && r.Netns != ""
	})
	return r
}

func containerPID(t *testing.T, home string, pod *corev1.Pod, container string) int {
	t.Helper()
	var pid int
	harness.Eventually(t, timeout, "the process of "+pod.Name+"/"+container, func() bool {
		pid = record(t, home, pod).PIDs[container].PID
		return pid > 0 && processAlive(pid)
	})
	return pid
}

func podNetns(t *testing.T, home string, pod *corev1.Pod) string {
	t.Helper()
	return record(t, home, pod).Netns
}

// processAlive reports whether pid runs (a zombie does not count).
func processAlive(pid int) bool {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z'
}

func networkPrefix(t *testing.T, home string) string {
	t.Helper()
	var f struct{ Prefix string }
	data, err := os.ReadFile(filepath.Join(home, "network.json"))
	if err != nil || json.Unmarshal(data, &f) != nil || len(f.Prefix) < 4 {
		t.Fatalf("process node network.json: %v", err)
	}
	return f.Prefix
}

func netnsWith(t *testing.T, prefix string) []string {
	t.Helper()
	var out []string
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix+"-") {
			out = append(out, e.Name())
		}
	}
	return out
}

func linksWith(t *testing.T, prefix string) []string {
	t.Helper()
	var out []string
	entries, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, out)
	}
	return string(out)
}

// agentProcess is a process node the test started itself.
type agentProcess struct{ cmd *exec.Cmd }

func (a *agentProcess) kill() {
	if a.cmd.ProcessState == nil {
		_ = a.cmd.Process.Kill()
		_ = a.cmd.Wait()
	}
}

// stop ends the agent as the platform does (SIGTERM) and waits for it.
func (a *agentProcess) stop(t *testing.T) {
	t.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := a.cmd.Wait(); err != nil {
		t.Fatalf("the process node ended with %v", err)
	}
}

// restartAgent kills the platform's process node with SIGKILL, checks that
// the pods' processes died with it and left their namespaces behind, and
// starts a new process node on the same state.
func restartAgent(t *testing.T, p *localplatform.Platform, bin, home string, pods []*corev1.Pod) *agentProcess {
	t.Helper()
	var pids []int
	var nss []string
	for _, pod := range pods {
		pids = append(pids, containerPID(t, p.ProcessNodeHome(), pod, pod.Spec.Containers[0].Name))
		nss = append(nss, podNetns(t, p.ProcessNodeHome(), pod))
	}
	agentPID := findProcess(t, "--home="+p.ProcessNodeHome())
	if err := syscall.Kill(agentPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	harness.Eventually(t, timeout, "the pod processes gone with the agent", func() bool {
		for _, pid := range append(pids, agentPID) {
			if processAlive(pid) {
				return false
			}
		}
		return true
	})
	// A pod's namespace is named after the pod, so the new agent creates one
	// of the same name when it runs the pod again: an alias given to each old
	// namespace's loopback tells the old from the new.
	for _, n := range nss {
		if out, err := exec.Command("ip", "-n", n, "link", "set", "lo", "alias", "killed-agent").CombinedOutput(); err != nil {
			t.Fatalf("namespace %s of the killed agent: %v: %s", n, err, out)
		}
	}
	a := startAgent(t, p, bin, home, "hikube-process-node-2.log")
	harness.Eventually(t, timeout, "the killed agent's namespaces removed", func() bool {
		for _, n := range nss {
			out, err := exec.Command("ip", "-n", n, "link", "show", "lo").Output()
			if err == nil && strings.Contains(string(out), "alias killed-agent") {
				return false
			}
		}
		return true
	})
	return a
}

// startAgent starts a process node on the platform's state, as the platform
// does.
func startAgent(t *testing.T, p *localplatform.Platform, bin, home, logName string) *agentProcess {
	t.Helper()
	logFile, err := os.Create(filepath.Join(home, "logs", logName))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(filepath.Join(bin, "hikube-process-node"),
		"--kubeconfig="+p.KubeconfigPath("admin"), "--bin="+bin, "--home="+p.ProcessNodeHome())
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &agentProcess{cmd: cmd}
}

// findProcess is the pid of the one process whose command line holds arg.
func findProcess(t *testing.T, arg string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var found []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		argv := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if filepath.Base(argv[0]) == "hikube-process-node" && slices.Contains(argv[1:], arg) {
			found = append(found, pid)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one process node with %s, found %v", arg, found)
	}
	return found[0]
}
