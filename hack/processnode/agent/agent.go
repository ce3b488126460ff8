// Package agent is the process node of the local kubevirt mode, a
// SIMULATION for the test environment (docs/process-node.md): host Nodes
// whose pods, for the allow-listed control-plane images, run as processes of
// this machine, each in a network namespace of its own; a LoadBalancer
// stand-in for Services; and a hostPath provisioner for the host's storage
// classes. Nothing of hikube's product code knows about it.
package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/pkg/procstat"
)

// Options configure Run.
type Options struct {
	Client kubernetes.Interface
	// Bin holds etcd and vX.Y/<component> binaries.
	Bin string
	// Home holds the agent's state: network.json (prefix, subnet, pod
	// addresses), pods/<uid>/ (volumes, hosts, logs, state.json) and
	// volumes/ (the provisioned PersistentVolumes).
	Home string
	// Datacenters get one node each, process-<datacenter>.
	Datacenters []string
	// Self is this program, re-executed to launch containers.
	Self string
	// Entrypoints are the images run by their entrypoint (hikube's own),
	// on top of the upstream control-plane images found under Bin.
	Entrypoints Entrypoints
	// APIServer is host:port of the host's API server, where the
	// kubernetes Service of every pod leads (kubeservice.go); empty
	// leaves pods without it.
	APIServer string
}

// NodePrefix names the process nodes, process-<datacenter>.
const NodePrefix = "process-"

// Agent is a running process node.
type Agent struct {
	opts   Options
	client kubernetes.Interface
	self   string
	net    *Network
	nodes  map[string]bool

	pods     corelisters.PodLister
	services corelisters.ServiceLister
	slices   discoverylisters.EndpointSliceLister

	mu      sync.Mutex
	workers map[types.UID]*podWorker
	poke    chan struct{}

	lb          *loadBalancers
	storage     *storage
	kubeService *kubeService
}

// Run runs the process node until ctx ends, then stops every pod process and
// removes every namespace, link and address it made.
func Run(ctx context.Context, o Options) error {
	if os.Geteuid() != 0 {
		return errors.New("the process node needs root (network and mount namespaces)")
	}
	home, err := filepath.Abs(o.Home)
	if err != nil {
		return err
	}
	o.Home = home
	if err := os.MkdirAll(home, 0o700); err != nil {
		return fmt.Errorf("process node home: %w", err)
	}
	n, err := OpenNetwork(home)
	if err != nil {
		return err
	}
	a := &Agent{opts: o, client: o.Client, self: o.Self, net: n, nodes: map[string]bool{},
		workers: map[types.UID]*podWorker{}, poke: make(chan struct{}, 1)}
	for _, dc := range o.Datacenters {
		a.nodes[NodePrefix+dc] = true
	}
	// What a previous run left: its processes, namespaces and links; and
	// what agents that died elsewhere on this machine left.
	killLeftovers(filepath.Join(home, "pods"))
	reapDeadAgents(n.Prefix)
	if err := register(n.Prefix, home); err != nil {
		return fmt.Errorf("registering the process node: %w", err)
	}
	defer unregister(n.Prefix)
	if err := n.Setup(); err != nil {
		_ = n.Cleanup()
		return fmt.Errorf("process node network: %w", err)
	}
	klog.InfoS("Process node network ready", "bridge", n.Bridge(), "subnet", n.Subnet, "hostIP", n.HostIP())
	err = a.run(ctx)
	a.shutdown()
	return err
}

func (a *Agent) run(ctx context.Context) error {
	if err := a.registerNodes(ctx); err != nil {
		return err
	}
	if a.opts.APIServer != "" {
		ks, err := newKubeService(ctx, a, a.opts.APIServer)
		if err != nil {
			return err
		}
		a.kubeService = ks
	}
	f := informers.NewSharedInformerFactory(a.client, 10*time.Minute)
	a.pods = f.Core().V1().Pods().Lister()
	a.services = f.Core().V1().Services().Lister()
	a.slices = f.Discovery().V1().EndpointSlices().Lister()
	a.lb = newLoadBalancers(a)
	a.storage = newStorage(a, f)
	poke := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { a.pokeNow() },
		UpdateFunc: func(any, any) { a.pokeNow() },
		DeleteFunc: func(any) { a.pokeNow() },
	}
	for _, inf := range []cache.SharedIndexInformer{f.Core().V1().Pods().Informer(), f.Core().V1().Services().Informer()} {
		if _, err := inf.AddEventHandler(poke); err != nil {
			return err
		}
	}
	if _, err := f.Core().V1().Services().Informer().AddEventHandler(a.lb.handler()); err != nil {
		return err
	}
	if _, err := f.Discovery().V1().EndpointSlices().Informer().AddEventHandler(poke); err != nil {
		return err
	}
	f.Start(ctx.Done())
	defer f.Shutdown()
	for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("process node: cache of %v not synced", typ)
		}
	}
	if err := a.storage.ensureClasses(ctx); err != nil {
		return err
	}
	a.removeForgottenPods()
	go a.heartbeat(ctx)
	go a.lb.run(ctx)
	go a.storage.run(ctx)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		a.reconcilePods()
		a.refreshHosts()
		select {
		case <-ctx.Done():
			return nil
		case <-a.poke:
		case <-tick.C:
		}
	}
}

func (a *Agent) pokeNow() {
	select {
	case a.poke <- struct{}{}:
	default:
	}
}

// ours reports whether pod is bound to one of the process nodes.
func (a *Agent) ours(pod *corev1.Pod) bool { return a.nodes[pod.Spec.NodeName] }

// reconcilePods starts a worker for every live pod of ours, stops the
// workers of pods being deleted (gracefully, then removing the object) and
// of pods that are gone.
func (a *Agent) reconcilePods() {
	all, err := a.pods.List(labels.Everything())
	if err != nil {
		klog.ErrorS(err, "Listing pods")
		return
	}
	seen := map[types.UID]bool{}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, pod := range all {
		if !a.ours(pod) {
			continue
		}
		seen[pod.UID] = true
		w := a.workers[pod.UID]
		if w != nil {
			w.setPod(pod)
		}
		switch {
		case pod.DeletionTimestamp != nil && w == nil:
			// Nothing runs for it (a pod that finished, or never started here).
			go a.deleteObject(pod)
		case pod.DeletionTimestamp != nil && !w.stopRequested:
			grace := time.Duration(w.graceSeconds()) * time.Second
			if pod.DeletionGracePeriodSeconds != nil {
				grace = time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
			}
			w.stopRequested = true
			go w.stop(stopRequest{grace: grace, gone: true, deleteObject: true})
		case w == nil && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed:
			w = newPodWorker(a, pod)
			a.workers[pod.UID] = w
			klog.InfoS("Starting pod", "pod", klog.KObj(pod), "node", pod.Spec.NodeName)
			w.start()
		}
	}
	for uid, w := range a.workers {
		select {
		case <-w.done:
			delete(a.workers, uid)
			continue
		default:
		}
		if !seen[uid] && !w.stopRequested {
			// Removed without us (forced deletion): end it now.
			w.stopRequested = true
			go w.stop(stopRequest{grace: shutdownGrace, gone: true})
		}
	}
}

func (a *Agent) deleteObject(pod *corev1.Pod) {
	zero := int64(0)
	uid := pod.UID
	err := a.client.CoreV1().Pods(pod.Namespace).Delete(context.Background(), pod.Name,
		metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		klog.ErrorS(err, "Removing the pod object", "pod", klog.KObj(pod))
	}
	if err := a.net.ReleasePodIP(string(uid)); err != nil {
		klog.ErrorS(err, "Releasing the pod address", "pod", klog.KObj(pod))
	}
	_ = os.RemoveAll(filepath.Join(a.opts.Home, "pods", string(uid)))
}

// removeForgottenPods drops the directories and addresses of pods that no
// longer exist (deleted while the agent was down).
func (a *Agent) removeForgottenPods() {
	all, err := a.pods.List(labels.Everything())
	if err != nil {
		return
	}
	live := map[string]bool{}
	for _, p := range all {
		live[string(p.UID)] = true
	}
	for _, uid := range a.net.KnownPods() {
		if !live[uid] {
			_ = a.net.ReleasePodIP(uid)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(a.opts.Home, "pods"))
	for _, e := range entries {
		if !live[e.Name()] {
			_ = os.RemoveAll(filepath.Join(a.opts.Home, "pods", e.Name()))
		}
	}
}

// hostsInputs are the pods and Services a namespace's hosts files name. A
// pod of ours whose address its status does not show yet gets it from its
// worker, so that peers resolve it as soon as it has one.
func (a *Agent) hostsInputs(ns string) ([]*corev1.Pod, []*corev1.Service) {
	pods, _ := a.pods.Pods(ns).List(labels.Everything())
	svcs, _ := a.services.Services(ns).List(labels.Everything())
	for i, p := range pods {
		if p.Status.PodIP != "" {
			continue
		}
		a.mu.Lock()
		w := a.workers[p.UID]
		a.mu.Unlock()
		if w == nil {
			continue
		}
		w.mu.Lock()
		ip := w.net.IP
		w.mu.Unlock()
		if ip != "" {
			p = p.DeepCopy()
			p.Status.PodIP = ip
			pods[i] = p
		}
	}
	return pods, svcs
}

func (a *Agent) refreshHosts() {
	a.mu.Lock()
	ws := make([]*podWorker, 0, len(a.workers))
	for _, w := range a.workers {
		ws = append(ws, w)
	}
	a.mu.Unlock()
	for _, w := range ws {
		w.refreshHosts(a.hostsInputs(w.pod().Namespace))
	}
}

// shutdown stops every pod (processes ended, namespaces removed; the pod
// objects stay, the next run adopts them) and the network.
func (a *Agent) shutdown() {
	a.mu.Lock()
	ws := make([]*podWorker, 0, len(a.workers))
	for _, w := range a.workers {
		ws = append(ws, w)
	}
	a.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.stop(stopRequest{grace: shutdownGrace})
		}()
	}
	wg.Wait()
	if a.lb != nil {
		a.lb.closeAll()
	}
	if err := a.net.Cleanup(); err != nil {
		klog.ErrorS(err, "Removing the process node network")
	}
	klog.InfoS("Process node stopped", "pods", len(ws))
}

// Cleanup removes what an agent with this home left behind if it could not
// clean up itself (killed, crashed): its pods' processes, namespaces and
// links; and the same for every other registered agent that no longer runs.
// It does nothing else for a home no agent ever used.
func Cleanup(home string) error {
	reapDeadAgents("")
	if _, err := os.Stat(filepath.Join(home, "network.json")); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	n, err := OpenNetwork(home)
	if err != nil {
		return err
	}
	killLeftovers(filepath.Join(home, "pods"))
	if err := n.Cleanup(); err != nil {
		return err
	}
	unregister(n.Prefix)
	return nil
}

// killLeftovers kills the processes a previous run recorded (normally the
// kernel killed them with it: they have a parent-death signal), checking by
// start time that a pid still names the same process.
func killLeftovers(podsDir string) {
	entries, _ := os.ReadDir(podsDir)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(podsDir, e.Name(), "state.json"))
		if err != nil {
			continue
		}
		var r podRecord
		if err := jsonUnmarshal(data, &r); err != nil {
			continue
		}
		for name, p := range r.PIDs {
			if p.PID > 0 && p.StartTime != "" && procStartTime(p.PID) == p.StartTime {
				klog.InfoS("Killing a process left by a previous run", "pod", r.Namespace+"/"+r.Name, "container", name, "pid", p.PID)
				_ = syscall.Kill(-p.PID, syscall.SIGKILL)
				_ = syscall.Kill(p.PID, syscall.SIGKILL)
			}
		}
	}
}

// procStartTime is field 22 of /proc/<pid>/stat, "" when there is no such
// process.
func procStartTime(pid int) string {
	st, err := procstat.Read(pid)
	if err != nil {
		return ""
	}
	return strconv.FormatUint(st.StartTime, 10)
}
