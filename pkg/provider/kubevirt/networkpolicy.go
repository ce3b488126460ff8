package kubevirt

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"

	"github.com/hikube/hikube/pkg/provider"
)

// labelNamespaceName is the label every namespace carries with its name.
const labelNamespaceName = "kubernetes.io/metadata.name"

func tcpPort(p int32) *networkingv1ac.NetworkPolicyPortApplyConfiguration {
	return networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolTCP).WithPort(intstr.FromInt32(p))
}

func (cp *ControlPlane) fromPlatform() *networkingv1ac.NetworkPolicyPeerApplyConfiguration {
	return networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(
		metav1ac.LabelSelector().WithMatchLabels(map[string]string{labelNamespaceName: cp.opts.PlatformNamespace}))
}

func fromComponent(component string) *networkingv1ac.NetworkPolicyPeerApplyConfiguration {
	return networkingv1ac.NetworkPolicyPeer().WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(selectorOf(component)))
}

// controlPlanePolicy admits to the control-plane pods the endpoint's
// traffic (the apiserver port, from anywhere: a load balancer keeps the
// clients' addresses) and the platform's, nothing else: the controller
// manager's and scheduler's ports stay closed to tenants' workloads.
func (cp *ControlPlane) controlPlanePolicy(c provider.ClusterRef) *networkingv1ac.NetworkPolicyApplyConfiguration {
	n := namesOf(c)
	return networkingv1ac.NetworkPolicy(n.controlPlane(), n.ns).
		WithLabels(componentLabels(c, componentControlPlane)).
		WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(selectorOf(componentControlPlane))).
			WithPolicyTypes(networkingv1.PolicyTypeIngress).
			WithIngress(
				networkingv1ac.NetworkPolicyIngressRule().WithPorts(tcpPort(apiserverPort)),
				networkingv1ac.NetworkPolicyIngressRule().WithFrom(cp.fromPlatform()),
			))
}

// etcdPolicy admits to etcd only its own members (peers and clients), the
// cluster's apiservers and the platform.
func (cp *ControlPlane) etcdPolicy(c provider.ClusterRef) *networkingv1ac.NetworkPolicyApplyConfiguration {
	n := namesOf(c)
	return networkingv1ac.NetworkPolicy(n.etcd(), n.ns).
		WithLabels(componentLabels(c, componentEtcd)).
		WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(selectorOf(componentEtcd))).
			WithPolicyTypes(networkingv1.PolicyTypeIngress).
			WithIngress(
				networkingv1ac.NetworkPolicyIngressRule().WithFrom(fromComponent(componentEtcd)).WithPorts(tcpPort(etcdClientPort), tcpPort(etcdPeerPort)),
				networkingv1ac.NetworkPolicyIngressRule().WithFrom(fromComponent(componentControlPlane)).WithPorts(tcpPort(etcdClientPort)),
				networkingv1ac.NetworkPolicyIngressRule().WithFrom(cp.fromPlatform()),
			))
}
