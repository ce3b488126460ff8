package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hikube/hikube/pkg/clusterpki"
	"github.com/hikube/hikube/pkg/naming"
	kv "github.com/hikube/hikube/pkg/provider/kubevirt"
	"github.com/hikube/hikube/test/harness"
)

// localMode is the local provider: each tenant control plane is processes
// hikube-controller runs under <clusters>/<namespace>/<name>, workers are
// kwok nodes in the tenant.
type localMode struct{}

func (localMode) components() []string    { return nil }
func (localMode) sample() int             { return 3 }
func (localMode) converge() time.Duration { return 4 * time.Minute }

func (localMode) tenantPID(t *testing.T, cluster, proc string) int {
	if proc == "kube-apiserver" {
		proc = "kube-apiserver-0"
	}
	return harness.TenantPIDs(clusterDir(cluster))[proc]
}

func (localMode) snapshot(t *testing.T, cluster string) any {
	return harness.TenantPIDs(clusterDir(cluster))
}

// nothingLeft: no process of the cluster runs (the state directory and the
// PKI Secret are checked for every mode).
func (localMode) nothingLeft(t *testing.T, cluster string, before any) {
	t.Helper()
	eventuallyDo(t, time.Minute, "the processes of "+cluster+" to end", func() (bool, string) {
		for proc, pid := range before.(map[string]int) {
			if harness.Alive(pid) {
				return false, fmt.Sprintf("%s (pid %d) still runs", proc, pid)
			}
		}
		return true, ""
	})
}

func (localMode) logs(_ *testing.T, cluster string) map[string]string {
	files, _ := filepath.Glob(filepath.Join(clusterDir(cluster), "logs", "*.log"))
	out := map[string]string{}
	for _, f := range files {
		out[f] = filepath.Base(f)
	}
	return out
}

// machinesMatch: kwok nodes are the machines.
func (localMode) machinesMatch(*testing.T, string, string, []string) (bool, string) { return true, "" }

// orphans are state directories of clusters that do not exist.
func (localMode) orphans(t *testing.T) []string {
	r := env.Kubectl(t, "admin", "get", "clusters", "-A", "-o", `jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}`)
	if r.Err != nil {
		return []string{"listing clusters: " + r.Stderr}
	}
	clusters := strings.Fields(r.Stdout)
	dirs, _ := filepath.Glob(filepath.Join(env.Platform.ClustersDir(), "*", "*"))
	var left []string
	for _, d := range dirs {
		rel, _ := filepath.Rel(env.Platform.ClustersDir(), d)
		if fi, err := os.Stat(d); err == nil && fi.IsDir() && !slices.Contains(clusters, rel) {
			left = append(left, "the directory of cluster "+rel)
		}
	}
	return left
}

// kubevirtMode is the platform as `HIKUBE_PROVIDER=kubevirt make run` starts
// it: each tenant control plane is an etcd StatefulSet and a control-plane
// Deployment in the cluster's host namespace, whose pods the process node
// runs as processes (and restarts, as a kubelet restarts containers);
// workers are KubeVirt VMs, played by the host kwok (virt-controller, CDI)
// and the guest simulator (each VM's OS joining its cluster, and its
// kubelet). Those three are rows of the matrix too.
type kubevirtMode struct{}

func (kubevirtMode) components() []string {
	return []string{"process node", "kubevirt sim", "guest sim"}
}
func (kubevirtMode) sample() int             { return 1 }
func (kubevirtMode) converge() time.Duration { return 5 * time.Minute }

// containerOf is the pod label and container of a tenant process.
var containerOf = map[string]string{"kube-apiserver": "control-plane", "etcd": "etcd"}

func hostNamespace(cluster string) string { return naming.HostNamespace(tenant, cluster, "") }

func host(t *testing.T) harness.HostClients { return env.Host(t) }

func (kubevirtMode) tenantPID(t *testing.T, cluster, proc string) int {
	pods, err := host(t).Core.CoreV1().Pods(hostNamespace(cluster)).List(context.Background(), metav1.ListOptions{
		LabelSelector: "apps.hikube.io/component=" + containerOf[proc]})
	if err != nil {
		return 0
	}
	for _, p := range pods.Items {
		if pid := harness.PodPIDs(env.Platform, p.UID)[proc]; p.DeletionTimestamp == nil && pid != 0 && harness.Alive(pid) {
			return pid
		}
	}
	return 0
}

// kubevirtSnapshot is what a cluster had on the host before its delete.
type kubevirtSnapshot struct {
	pods map[types.UID]map[string]int // processes by pod
	pvs  []string                     // volumes of its claims
}

func (kubevirtMode) snapshot(t *testing.T, cluster string) any {
	t.Helper()
	c := host(t)
	ns := hostNamespace(cluster)
	s := kubevirtSnapshot{pods: map[types.UID]map[string]int{}}
	pods, err := c.Core.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing the pods of %s: %v", ns, err)
	}
	for _, p := range pods.Items {
		s.pods[p.UID] = harness.PodPIDs(env.Platform, p.UID)
	}
	pvs, err := c.Core.CoreV1().PersistentVolumes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing volumes: %v", err)
	}
	for _, pv := range pvs.Items {
		if pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.Namespace == ns {
			s.pvs = append(s.pvs, pv.Name)
		}
	}
	if len(s.pods) == 0 || len(s.pvs) == 0 {
		t.Fatalf("%s has %d pods and %d volumes before its delete; the check of what it leaves would prove nothing", cluster, len(s.pods), len(s.pvs))
	}
	return s
}

// logs are the container logs the process node keeps for the cluster's
// pods, by pod.
func (kubevirtMode) logs(_ *testing.T, cluster string) map[string]string {
	out := map[string]string{}
	records, _ := filepath.Glob(filepath.Join(env.Platform.ProcessNodeHome(), "pods", "*", "state.json"))
	for _, r := range records {
		data, err := os.ReadFile(r)
		var rec struct{ Namespace, Name string }
		if err != nil || json.Unmarshal(data, &rec) != nil || rec.Namespace != hostNamespace(cluster) {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(filepath.Dir(r), "logs", "*.log"))
		for _, f := range files {
			out[f] = filepath.Join(rec.Name, filepath.Base(f))
		}
	}
	return out
}

// nothingLeft: the host namespace is gone with its VMs, VMIs, DataVolumes,
// Secrets and pods; the pods' processes and directories on the process
// node are gone, and so are the etcd volumes and their directories.
func (m kubevirtMode) nothingLeft(t *testing.T, cluster string, before any) {
	t.Helper()
	s := before.(kubevirtSnapshot)
	c := host(t)
	ns := hostNamespace(cluster)
	eventuallyDo(t, m.converge(), "host namespace "+ns+" gone", func() (bool, string) {
		n, err := c.Core.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, ""
		}
		return false, fmt.Sprintf("%v %v", err, n.Status)
	})
	for _, gvr := range []schema.GroupVersionResource{kv.GVRVirtualMachine, kv.GVRVirtualMachineInstance, kv.GVRDataVolume} {
		l, err := c.Dynamic.Resource(gvr).Namespace(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil || len(l.Items) > 0 {
			t.Errorf("%s left in %s: %v %v", gvr.Resource, ns, err, len(l.Items))
		}
	}
	eventuallyDo(t, time.Minute, "the pods of "+cluster+" to end on the process node", func() (bool, string) {
		for uid, procs := range s.pods {
			for proc, pid := range procs {
				if harness.Alive(pid) {
					return false, fmt.Sprintf("%s of pod %s (pid %d) still runs", proc, uid, pid)
				}
			}
			if _, err := os.Stat(harness.PodDir(env.Platform, uid)); !os.IsNotExist(err) {
				return false, fmt.Sprintf("the directory of pod %s is left (%v)", uid, err)
			}
		}
		for _, pv := range s.pvs {
			if _, err := c.Core.CoreV1().PersistentVolumes().Get(context.Background(), pv, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				return false, fmt.Sprintf("volume %s is left (%v)", pv, err)
			}
			if _, err := os.Stat(filepath.Join(env.Platform.ProcessNodeHome(), "volumes", pv)); !os.IsNotExist(err) {
				return false, fmt.Sprintf("the directory of volume %s is left (%v)", pv, err)
			}
		}
		return true, ""
	})
}

// machinesMatch: every node of the group is a VM of the cluster and every
// VM a node (no tenant Node of a deleted VM, no VM made twice), each VM with
// its VMI, root DataVolume and user data, and no bootstrap token of a VM
// that is gone.
func (kubevirtMode) machinesMatch(t *testing.T, cluster, kubeconfig string, nodes []string) (bool, string) {
	c := host(t)
	ns := hostNamespace(cluster)
	names := func(gvr schema.GroupVersionResource) ([]string, error) {
		l, err := c.Dynamic.Resource(gvr).Namespace(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		var out []string
		for _, i := range l.Items {
			out = append(out, i.GetName())
		}
		slices.Sort(out)
		return out, nil
	}
	vms, err := names(kv.GVRVirtualMachine)
	if err != nil {
		return false, err.Error()
	}
	slices.Sort(nodes)
	if !slices.Equal(vms, nodes) {
		return false, fmt.Sprintf("VMs %v, nodes %v", vms, nodes)
	}
	vmis, err := names(kv.GVRVirtualMachineInstance)
	if err != nil || !slices.Equal(vmis, vms) {
		return false, fmt.Sprintf("VMIs %v (%v), VMs %v", vmis, err, vms)
	}
	var wantDVs []string
	for _, vm := range vms {
		wantDVs = append(wantDVs, kv.RootDataVolumeName(vm))
	}
	slices.Sort(wantDVs)
	dvs, err := names(kv.GVRDataVolume)
	if err != nil || !slices.Equal(dvs, wantDVs) {
		return false, fmt.Sprintf("DataVolumes %v (%v), want %v", dvs, err, wantDVs)
	}
	secrets, err := c.Core.CoreV1().Secrets(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		return false, err.Error()
	}
	for _, s := range secrets.Items {
		if vm, ok := strings.CutSuffix(s.Name, "-userdata"); ok && !slices.Contains(vms, vm) {
			return false, "user data " + s.Name + " of a VM that is gone"
		}
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 20 * time.Second
	tokens, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Secrets("kube-system").List(context.Background(), metav1.ListOptions{LabelSelector: kv.LabelBootstrapNode})
	if err != nil {
		return false, "listing bootstrap tokens: " + err.Error()
	}
	for _, s := range tokens.Items {
		if vm := s.Labels[kv.LabelBootstrapNode]; !slices.Contains(vms, vm) {
			return false, fmt.Sprintf("bootstrap token %s of VM %s, which is gone", s.Name, vm)
		}
	}
	return true, ""
}

// orphans: host namespaces of clusters that do not exist, and on the
// process node directories of pods or volumes that do not exist.
func (kubevirtMode) orphans(t *testing.T) []string {
	c := host(t)
	ctx := context.Background()
	clusters := env.Kubectl(t, "admin", "get", "clusters", "-A", "-o", `jsonpath={.items[*].metadata.uid}`)
	namespaces, err1 := c.Core.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: clusterpki.LabelClusterUID})
	pods, err2 := c.Core.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	pvs, err3 := c.Core.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if clusters.Err != nil || err1 != nil || err2 != nil || err3 != nil {
		return []string{fmt.Sprintf("listing: %s %v %v %v", clusters.Stderr, err1, err2, err3)}
	}
	var left []string
	uids := strings.Fields(clusters.Stdout)
	for _, n := range namespaces.Items {
		if !slices.Contains(uids, n.Labels[clusterpki.LabelClusterUID]) {
			left = append(left, "host namespace "+n.Name)
		}
	}
	exists := map[string]bool{}
	for _, p := range pods.Items {
		exists[string(p.UID)] = true
	}
	left = append(left, strayDirs(filepath.Join(env.Platform.ProcessNodeHome(), "pods"), "pod ", exists)...)
	exists = map[string]bool{}
	for _, pv := range pvs.Items {
		exists[pv.Name] = true
	}
	return append(left, strayDirs(filepath.Join(env.Platform.ProcessNodeHome(), "volumes"), "volume ", exists)...)
}

// strayDirs are the directories under dir not named in exists.
func strayDirs(dir, what string, exists map[string]bool) []string {
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		if e.IsDir() && !exists[e.Name()] {
			left = append(left, fmt.Sprintf("the directory of %s%s", what, e.Name()))
		}
	}
	return left
}
