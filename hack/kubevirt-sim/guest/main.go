// Command guest is a SIMULATION for the test environment: it plays the
// operating system of every KubeVirt VM of the host, which cannot boot here.
// When a VirtualMachineInstance runs, it reads the VM's cloud-init user
// data, as the VM would, and does what kubeadm join does with it: discovery
// pinned to the CA, TLS bootstrap with the bootstrap token, registration of
// the Node with its own credentials. It knows nothing else: a wrong token,
// CA pin, endpoint or tenant RBAC leaves the node unjoined, and says why.
// When the VMI goes, the node goes.
//
// With --kubelet it also plays each joined VM's kubelet with the node's
// credentials, for control planes that run no kwok of their own. It also
// gives the host kwok's KubeVirt stages the retries of the real controllers
// (resync.go).
//
//	guest --kubeconfig host.kubeconfig [--kubelet]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	kubevirtv1 "kubevirt.io/api/core/v1"
	instancetypev1beta1 "kubevirt.io/api/instancetype/v1beta1"

	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/provider/kubevirt"
)

var gvrClusterInstancetype = instancetypev1beta1.SchemeGroupVersion.WithResource("virtualmachineclusterinstancetypes")

type guests struct {
	host     kubernetes.Interface
	dyn      dynamic.Interface
	vmis     cache.GenericLister
	queue    workqueue.TypedRateLimitingInterface[string]
	kubelets bool

	mu     sync.Mutex
	joined map[string]joinedNode // by VMI namespace/name
}

type joinedNode struct {
	uid     string
	name    string
	node    kubernetes.Interface
	kubelet *kubelet
}

func main() {
	klog.InitFlags(nil)
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the host cluster")
	kubelets := flag.Bool("kubelet", false, "also play each joined VM's kubelet (heartbeat, pods reported running); off where the control plane's kwok does")
	flag.Parse()
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		klog.ErrorS(err, "Loading the host kubeconfig")
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	g := &guests{
		host:     kubernetes.NewForConfigOrDie(cfg),
		dyn:      dynamic.NewForConfigOrDie(cfg),
		queue:    workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
		joined:   map[string]joinedNode{},
		kubelets: *kubelets,
	}
	inf := dynamicinformer.NewDynamicSharedInformerFactory(g.dyn, 10*time.Minute).ForResource(kubevirt.GVRVirtualMachineInstance)
	g.vmis = inf.Lister()
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    g.enqueue,
		UpdateFunc: func(_, o any) { g.enqueue(o) },
		DeleteFunc: g.enqueue,
	}); err != nil {
		klog.ErrorS(err, "Watching VMIs")
		os.Exit(1)
	}
	go inf.Informer().Run(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.Informer().HasSynced) {
		os.Exit(1)
	}
	go resync(ctx, g.dyn)
	klog.InfoS("Guest simulator running: VMs that run join their tenant cluster with their cloud-init")
	for range 4 {
		go func() {
			for g.next(ctx) {
			}
		}()
	}
	<-ctx.Done()
	g.queue.ShutDown()
}

func (g *guests) enqueue(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		g.queue.Add(key)
	}
}

func (g *guests) next(ctx context.Context) bool {
	key, quit := g.queue.Get()
	if quit {
		return false
	}
	defer g.queue.Done(key)
	if err := g.sync(ctx, key); err != nil {
		klog.InfoS("Node not joined; retrying", "vmi", key, "err", err)
		g.queue.AddRateLimited(key)
		return true
	}
	g.queue.Forget(key)
	return true
}

func (g *guests) sync(ctx context.Context, key string) error {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	obj, err := g.vmis.ByNamespace(ns).Get(name)
	if apierrors.IsNotFound(err) {
		g.powerOff(ctx, key)
		return nil
	}
	if err != nil {
		return err
	}
	u := obj.(*unstructured.Unstructured)
	var vmi kubevirtv1.VirtualMachineInstance
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &vmi); err != nil {
		return err
	}
	if vmi.DeletionTimestamp != nil {
		g.powerOff(ctx, key)
		return nil
	}
	g.mu.Lock()
	j, done := g.joined[key]
	g.mu.Unlock()
	if done && j.uid == string(vmi.UID) || vmi.Status.Phase != kubevirtv1.Running {
		return nil
	}
	userData, err := g.userData(ctx, &vmi)
	if err != nil {
		return err
	}
	cfg, err := kubevirt.ParseUserData(userData)
	if err != nil {
		return fmt.Errorf("reading cloud-init: %w", err)
	}
	hw, err := g.hardware(ctx, &vmi)
	if err != nil {
		return err
	}
	node, err := join(ctx, cfg, hw, func() bool {
		cur, err := g.vmis.ByNamespace(ns).Get(name)
		return err == nil && cur.(*unstructured.Unstructured).GetUID() == vmi.UID && cur.(*unstructured.Unstructured).GetDeletionTimestamp() == nil
	})
	if err != nil {
		return err
	}
	if done { // a new VMI of the same name: the old one's kubelet is gone
		j.kubelet.stop()
	}
	var kubelet *kubelet
	if g.kubelets {
		kubelet = startKubelet(key, cfg.NodeName, node)
	}
	g.mu.Lock()
	g.joined[key] = joinedNode{uid: string(vmi.UID), name: cfg.NodeName, node: node, kubelet: kubelet}
	g.mu.Unlock()
	klog.InfoS("Node joined its cluster", "vmi", key, "node", cfg.NodeName, "endpoint", cfg.APIServerEndpoint)
	return nil
}

// powerOff is the VM stopping: its kubelet stops, so the Node's heartbeat
// stops (the tenant's kwok is told to let go of it) and the tenant's node
// lifecycle controller marks it NotReady. Deleting the Node is the
// platform's part, as the cloud provider's is in production.
func (g *guests) powerOff(ctx context.Context, key string) {
	g.mu.Lock()
	j, ok := g.joined[key]
	delete(g.joined, key)
	g.mu.Unlock()
	if !ok {
		return
	}
	j.kubelet.stop()
	patch := []byte(`{"metadata":{"annotations":{"kwok.x-k8s.io/node":null}}}`)
	_, err := j.node.CoreV1().Nodes().Patch(ctx, j.name, types.MergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		err = nil // the platform removed it first
	}
	klog.InfoS("VM stopped; its kubelet no longer reports", "vmi", key, "node", j.name, "err", err)
}

func (g *guests) userData(ctx context.Context, vmi *kubevirtv1.VirtualMachineInstance) ([]byte, error) {
	for _, v := range vmi.Spec.Volumes {
		if ci := v.CloudInitNoCloud; ci != nil && ci.UserDataSecretRef != nil {
			s, err := g.host.CoreV1().Secrets(vmi.Namespace).Get(ctx, ci.UserDataSecretRef.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("reading the user data secret: %w", err)
			}
			return s.Data[kubevirt.UserDataKey], nil
		}
	}
	return nil, fmt.Errorf("VMI has no cloud-init NoCloud volume")
}

// hardware is what the VM has: the vCPUs and memory of its instancetype (or
// its domain), its GPUs as the GPU operator advertises them, its root disk.
func (g *guests) hardware(ctx context.Context, vmi *kubevirtv1.VirtualMachineInstance) (machine, error) {
	capacity := corev1.ResourceList{corev1.ResourcePods: resource.MustParse("110")}
	vm, err := g.dyn.Resource(kubevirt.GVRVirtualMachine).Namespace(vmi.Namespace).Get(ctx, vmi.Name, metav1.GetOptions{})
	if err != nil {
		return machine{}, fmt.Errorf("reading its VM: %w", err)
	}
	itName, _, _ := unstructured.NestedString(vm.Object, "spec", "instancetype", "name")
	switch d := vmi.Spec.Domain; {
	case itName != "":
		u, err := g.dyn.Resource(gvrClusterInstancetype).Get(ctx, itName, metav1.GetOptions{})
		if err != nil {
			return machine{}, fmt.Errorf("reading instancetype %s: %w", itName, err)
		}
		var it instancetypev1beta1.VirtualMachineClusterInstancetype
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &it); err != nil {
			return machine{}, err
		}
		capacity[corev1.ResourceCPU] = *resource.NewQuantity(int64(it.Spec.CPU.Guest), resource.DecimalSI)
		capacity[corev1.ResourceMemory] = it.Spec.Memory.Guest
	case d.CPU != nil && d.Memory != nil && d.Memory.Guest != nil:
		capacity[corev1.ResourceCPU] = *resource.NewQuantity(int64(d.CPU.Cores), resource.DecimalSI)
		capacity[corev1.ResourceMemory] = *d.Memory.Guest
	default:
		return machine{}, fmt.Errorf("VM has neither an instancetype nor cpu and memory")
	}
	for _, gpu := range vmi.Spec.Domain.Devices.GPUs {
		m, ok := catalog.LookupGPU(gpu.DeviceName)
		if !ok {
			continue // a device the GPU operator would not know
		}
		q := capacity[corev1.ResourceName(m.ShortName)]
		q.Add(resource.MustParse("1"))
		capacity[corev1.ResourceName(m.ShortName)] = q
	}
	dvs, _, _ := unstructured.NestedSlice(vm.Object, "spec", "dataVolumeTemplates")
	if len(dvs) > 0 {
		if size, ok, _ := unstructured.NestedString(dvs[0].(map[string]any), "spec", "storage", "resources", "requests", "storage"); ok {
			capacity[corev1.ResourceEphemeralStorage] = resource.MustParse(size)
		}
	}
	return machine{capacity: capacity}, nil
}
