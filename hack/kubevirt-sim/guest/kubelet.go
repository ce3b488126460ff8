package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// kubelet plays a joined VM's kubelet with the node's own credentials, so
// the tenant's Node authorizer limits it as it would a real one: the Node's
// Ready heartbeat and lease, and the pods bound to it reported running (no
// process behind them, as kwok reports them) or removed once deleted. It is
// started only for control planes that run no kwok of their own.
type kubelet struct {
	cancel context.CancelFunc
	done   chan struct{}
}

const heartbeat = 10 * time.Second

func startKubelet(key, node string, cs kubernetes.Interface) *kubelet {
	ctx, cancel := context.WithCancel(context.Background())
	kl := &kubelet{cancel: cancel, done: make(chan struct{})}
	inf := informers.NewSharedInformerFactoryWithOptions(cs, 10*time.Minute, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", node).String()
	}))
	pods := inf.Core().V1().Pods().Informer()
	ips := podIPs{node: node, used: map[types.UID]string{}}
	sync := func(obj any) {
		if p, ok := obj.(*corev1.Pod); ok {
			if err := runPod(ctx, cs, p, &ips); err != nil && ctx.Err() == nil {
				klog.InfoS("Kubelet could not report a pod", "node", node, "pod", klog.KObj(p), "err", err)
			}
		}
	}
	_, _ = pods.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: sync, UpdateFunc: func(_, o any) { sync(o) }})
	go func() {
		defer close(kl.done)
		inf.Start(ctx.Done())
		for {
			if err := beat(ctx, cs, node); err != nil && ctx.Err() == nil {
				klog.InfoS("Kubelet heartbeat failed", "vmi", key, "node", node, "err", err)
			}
			select {
			case <-ctx.Done():
				inf.Shutdown()
				return
			case <-time.After(heartbeat):
			}
		}
	}()
	return kl
}

// stop is the VM powering off: no heartbeat from then on.
func (kl *kubelet) stop() {
	if kl == nil {
		return
	}
	kl.cancel()
	<-kl.done
}

// beat renews the node's lease and its Ready condition.
func beat(ctx context.Context, cs kubernetes.Interface, node string) error {
	now := metav1.NowMicro()
	leases := cs.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	l, err := leases.Get(ctx, node, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: node},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To(node), LeaseDurationSeconds: ptr.To[int32](40), RenewTime: &now},
		}, metav1.CreateOptions{})
	case err == nil:
		l.Spec.RenewTime = &now
		_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("renewing the node lease: %w", err)
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return err
		}
		t := metav1.Now()
		set := func(typ corev1.NodeConditionType, status corev1.ConditionStatus, reason string) {
			for i := range n.Status.Conditions {
				if c := &n.Status.Conditions[i]; c.Type == typ {
					if c.Status != status {
						c.LastTransitionTime = t
					}
					c.Status, c.Reason, c.LastHeartbeatTime = status, reason, t
					return
				}
			}
			n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: typ, Status: status, Reason: reason, LastHeartbeatTime: t, LastTransitionTime: t})
		}
		set(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory")
		set(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure")
		set(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID")
		set(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady")
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}, {Type: corev1.NodeHostName, Address: node}}
		_, err = cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		return err
	})
}

// runPod reports a pod bound to the node running and ready, or removes it
// once deleted (the kubelet's final delete).
func runPod(ctx context.Context, cs kubernetes.Interface, p *corev1.Pod, ips *podIPs) error {
	if p.DeletionTimestamp != nil {
		err := cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0), Preconditions: &metav1.Preconditions{UID: &p.UID}})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			err = nil
		}
		return err
	}
	if p.Status.Phase == corev1.PodRunning || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return nil
	}
	now := metav1.Now()
	st := p.DeepCopy()
	ip := ips.of(p.UID)
	if p.Spec.HostNetwork {
		ip = "127.0.0.1"
	}
	st.Status.Phase = corev1.PodRunning
	st.Status.HostIP, st.Status.HostIPs = "127.0.0.1", []corev1.HostIP{{IP: "127.0.0.1"}}
	st.Status.PodIP, st.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	st.Status.StartTime = &now
	st.Status.Conditions = nil
	for _, c := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady, corev1.PodScheduled} {
		st.Status.Conditions = append(st.Status.Conditions, corev1.PodCondition{Type: c, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	st.Status.InitContainerStatuses = nil
	for _, c := range p.Spec.InitContainers {
		st.Status.InitContainerStatuses = append(st.Status.InitContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, Ready: true,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed", StartedAt: now, FinishedAt: now}},
		})
	}
	st.Status.ContainerStatuses = nil
	for _, c := range p.Spec.Containers {
		st.Status.ContainerStatuses = append(st.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, Ready: true, Started: ptr.To(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	// A Job's pod runs to completion at once, as kwok's pod-complete stage
	// has it (add-on charts' hook Jobs wait for that).
	if ownedByJob(p) {
		st.Status.Phase = corev1.PodSucceeded
		for i := range st.Status.ContainerStatuses {
			cs := &st.Status.ContainerStatuses[i]
			cs.Ready, cs.Started = false, ptr.To(false)
			cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed", StartedAt: now, FinishedAt: now}}
		}
		for i := range st.Status.Conditions {
			if c := &st.Status.Conditions[i]; c.Type == corev1.PodReady || c.Type == corev1.ContainersReady {
				c.Status, c.Reason = corev1.ConditionFalse, "PodCompleted"
			}
		}
	}
	_, err := cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, st, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return nil // the informer brings the newer pod
	}
	return err
}

// podIPs hands out pod addresses of the node's own /24, never contacted.
type podIPs struct {
	node string
	used map[types.UID]string
	next int
}

func (a *podIPs) of(uid types.UID) string {
	if ip, ok := a.used[uid]; ok {
		return ip
	}
	h := fnv.New32a()
	h.Write([]byte(a.node))
	a.next++
	ip := fmt.Sprintf("10.%d.%d.%d", 244+h.Sum32()%8, h.Sum32()>>8%256, a.next%254+1)
	a.used[uid] = ip
	return ip
}

func ownedByJob(p *corev1.Pod) bool {
	for _, o := range p.OwnerReferences {
		if o.Kind == "Job" {
			return true
		}
	}
	return false
}
