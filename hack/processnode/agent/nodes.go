package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// Labels of the process nodes (the placement contract with the provider).
const (
	LabelZone         = "topology.kubernetes.io/zone"
	LabelControlPlane = "node-role.hikube.io/control-plane"
	// LabelProcessNode marks the nodes as this simulation's.
	LabelProcessNode = "hikube.io/process-node"
)

const (
	leaseNamespace = "kube-node-lease"
	leaseDuration  = 40
	leaseRenew     = 10 * time.Second
	statusRefresh  = 30 * time.Second
)

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// registerNodes creates or updates the process nodes, labelled and Ready.
func (a *Agent) registerNodes(ctx context.Context) error {
	for name := range a.nodes {
		dc := name[len(NodePrefix):]
		want := map[string]string{
			LabelZone:                       dc,
			LabelControlPlane:               "",
			LabelProcessNode:                "true",
			"kubernetes.io/hostname":        name,
			"kubernetes.io/os":              "linux",
			"kubernetes.io/arch":            runtime.GOARCH,
			"topology.kubernetes.io/region": "hikube-local",
		}
		var node *corev1.Node
		// The node lifecycle controller writes the node too: retry on conflicts.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			var err error
			node, err = a.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				node, err = a.client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: want}}, metav1.CreateOptions{})
			} else if err == nil {
				if node.Labels == nil {
					node.Labels = map[string]string{}
				}
				for k, v := range want {
					node.Labels[k] = v
				}
				node, err = a.client.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{})
			}
			if err != nil {
				return err
			}
			return a.updateNodeStatus(ctx, node)
		})
		if err != nil {
			return fmt.Errorf("registering node %s: %w", name, err)
		}
		if err := a.renewLease(ctx, node); err != nil {
			return err
		}
	}
	return nil
}

func (a *Agent) updateNodeStatus(ctx context.Context, node *corev1.Node) error {
	now := metav1.Now()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              nodeCPU,
		corev1.ResourceMemory:           nodeMemory,
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("1Ti"),
	}
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		c := corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
		for _, old := range node.Status.Conditions {
			if old.Type == t && old.Status == s {
				c.LastTransitionTime = old.LastTransitionTime
			}
		}
		return c
	}
	node.Status.Capacity, node.Status.Allocatable = capacity, capacity
	node.Status.Conditions = []corev1.NodeCondition{
		cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "hikube process node (simulation) is running pods as processes"),
		cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", ""),
		cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", ""),
		cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", ""),
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: a.net.HostIP()}, {Type: corev1.NodeHostName, Address: node.Name}}
	node.Status.NodeInfo = corev1.NodeSystemInfo{
		KubeletVersion: "hikube-process-node", ContainerRuntimeVersion: "process://", OperatingSystem: "linux", Architecture: runtime.GOARCH,
		OSImage: "hikube process node (simulation)",
	}
	_, err := a.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	return err
}

func (a *Agent) renewLease(ctx context.Context, node *corev1.Node) error {
	leases := a.client.CoordinationV1().Leases(leaseNamespace)
	now := metav1.NewMicroTime(time.Now())
	l, err := leases.Get(ctx, node.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: node.Name, OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(node.Name), LeaseDurationSeconds: ptr.To[int32](leaseDuration), RenewTime: &now},
		}, metav1.CreateOptions{})
	} else if err == nil {
		l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.RenewTime = ptr.To(node.Name), ptr.To[int32](leaseDuration), &now
		_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("node %s lease: %w", node.Name, err)
	}
	return nil
}

// heartbeat renews the node leases and refreshes the node status, as the
// kubelet does.
func (a *Agent) heartbeat(ctx context.Context) {
	lastStatus := time.Now()
	tick := time.NewTicker(leaseRenew)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		refresh := time.Since(lastStatus) >= statusRefresh
		for name := range a.nodes {
			node, err := a.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				// Someone deleted it: register again.
				if err := a.registerNodes(ctx); err != nil {
					klog.ErrorS(err, "Registering the process nodes again")
				}
				break
			}
			if err != nil {
				klog.ErrorS(err, "Reading node", "node", name)
				continue
			}
			if err := a.renewLease(ctx, node); err != nil {
				klog.ErrorS(err, "Renewing node lease", "node", name)
			}
			if refresh {
				if err := a.updateNodeStatus(ctx, node); err != nil {
					klog.ErrorS(err, "Updating node status", "node", name)
				}
			}
		}
		if refresh {
			lastStatus = time.Now()
		}
	}
}
