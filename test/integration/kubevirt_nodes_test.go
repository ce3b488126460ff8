package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	kubevirtv1 "kubevirt.io/api/core/v1"

	"github.com/hikube/hikube/pkg/provider"
	"github.com/hikube/hikube/pkg/provider/kubevirt"
)

// hostAsTenant stands in for a tenant control plane: the host itself takes
// the bootstrap tokens and Nodes, so the node part runs against real API
// servers without a tenant cluster (test/e2e runs real ones).
type hostAsTenant struct {
	cs    kubernetes.Interface
	caPEM []byte
}

func (h hostAsTenant) Client(context.Context, provider.ClusterRef) (kubernetes.Interface, error) {
	return h.cs, nil
}

func (h hostAsTenant) Join(context.Context, provider.ClusterRef) (string, []byte, string, error) {
	return "203.0.113.10:6443", h.caPEM, "v1.37", nil
}

// TestKubeVirtNodesAgainstTheHost: the kubevirt node part writes VMs the
// real kube-apiserver accepts against KubeVirt's schema, with their user
// data and bootstrap tokens, and removes all of it again.
func TestKubeVirtNodesAgainstTheHost(t *testing.T) {
	installKubeVirtAPIs(t)
	ctx := context.Background()
	cfg := restConfig(t, "admin")
	cs := kubernetes.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)
	nodes := kubevirt.NewNodes(cs, dyn, hostAsTenant{cs: cs, caPEM: cfg.TLSClientConfig.CAData}, kubevirt.NodesOptions{
		FieldManager: "hikube-controller", Image: "registry.example.ch/hikube/node:%s",
	})
	ref := provider.ClusterRef{Namespace: tenantA, Name: "vms", UID: "0b7c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d"}
	ns := kubevirt.HostNamespace(ref)
	spec := func(name, zone string) provider.NodeSpec {
		return provider.NodeSpec{
			Name: name, Group: "ml", Zone: zone, StorageClass: "replicated",
			Labels: map[string]string{
				kubevirt.LabelInstanceType:           "u1.xlarge",
				"topology.kubernetes.io/zone":        zone,
				"node-role.kubernetes.io/monitoring": "",
			},
			Taints: []corev1.Taint{{Key: "nvidia.com/gpu", Value: "present", Effect: corev1.TaintEffectNoSchedule}},
			Capacity: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("16Gi"),
				corev1.ResourceEphemeralStorage: resource.MustParse("20Gi"), "nvidia.com/L40S": resource.MustParse("1"),
			},
		}
	}
	t.Cleanup(func() {
		kubectlAs(t, "admin", "delete", "namespace", ns, "--wait=false")
		kubectlAs(t, "admin", "delete", "secrets", "-n", "kube-system", "-l", kubevirt.LabelBootstrapNode)
		// What the node part set up for joining nodes, here in the host.
		kubectlAs(t, "admin", "delete", "-n", "kube-public", "configmap/cluster-info", "role/kubeadm:bootstrap-signer-clusterinfo", "rolebinding/kubeadm:bootstrap-signer-clusterinfo")
		kubectlAs(t, "admin", "delete", "clusterrole/kubeadm:get-nodes", "clusterrolebinding/kubeadm:get-nodes", "clusterrolebinding/kubeadm:kubelet-bootstrap",
			"clusterrolebinding/kubeadm:node-autoapprove-bootstrap", "clusterrolebinding/kubeadm:node-autoapprove-certificate-rotation")
	})

	want := []provider.NodeSpec{spec("vms-ml-aaaaa", "geneva"), spec("vms-ml-bbbbb", "lucerne")}
	statuses, err := nodes.Ensure(ctx, ref, want)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	if len(statuses) != 2 || statuses[0].Ready {
		t.Errorf("statuses = %+v, want two nodes not Ready (no VM runs here)", statuses)
	}

	vm, err := dyn.Resource(kubevirt.GVRVirtualMachine).Namespace(ns).Get(ctx, "vms-ml-aaaaa", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("VM not stored: %v", err)
	}
	var typed kubevirtv1.VirtualMachine
	if err := fromUnstructured(vm.Object, &typed); err != nil {
		t.Fatal(err)
	}
	if g := typed.Spec.Template.Spec.Domain.Devices.GPUs; len(g) != 1 || g[0].DeviceName != "nvidia.com/AD102GL_L40S" {
		t.Errorf("GPUs = %+v", g)
	}
	if typed.Spec.Instancetype == nil || typed.Spec.Instancetype.Name != "u1.xlarge" {
		t.Errorf("instancetype = %+v", typed.Spec.Instancetype)
	}

	ud, err := cs.CoreV1().Secrets(ns).Get(ctx, "vms-ml-aaaaa-userdata", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("user data: %v", err)
	}
	if len(ud.OwnerReferences) != 1 || ud.OwnerReferences[0].UID != vm.GetUID() {
		t.Errorf("user data owners = %+v, want the VM", ud.OwnerReferences)
	}
	join, err := kubevirt.ParseUserData(ud.Data[kubevirt.UserDataKey])
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cs.CoreV1().Secrets("kube-system").Get(ctx, "bootstrap-token-"+join.Token.ID, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the bootstrap token of the user data is not in the tenant: %v", err)
	}
	if string(tok.Data["token-secret"]) != join.Token.Secret || !strings.HasPrefix(join.CACertHash, "sha256:") {
		t.Errorf("token secret or CA hash do not match the user data")
	}

	ci, err := cs.CoreV1().ConfigMaps("kube-public").Get(ctx, "cluster-info", metav1.GetOptions{})
	if err != nil || !strings.Contains(ci.Data["kubeconfig"], "https://203.0.113.10:6443") {
		t.Errorf("cluster-info for joining nodes: %v %v", err, ci.Data)
	}

	// Again with the same list: nothing new (no second token).
	if _, err := nodes.Ensure(ctx, ref, want); err != nil {
		t.Fatalf("second Ensure: %v", err)
	}
	toks, err := cs.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{LabelSelector: kubevirt.LabelBootstrapNode + "=vms-ml-aaaaa"})
	if err != nil || len(toks.Items) != 1 {
		t.Errorf("tokens of vms-ml-aaaaa after a second Ensure: %d (err %v), want 1", len(toks.Items), err)
	}

	// Scale down to one: the other VM and its token go.
	if _, err := nodes.Ensure(ctx, ref, want[:1]); err != nil {
		t.Fatalf("Ensure after scale-down: %v", err)
	}
	if _, err := dyn.Resource(kubevirt.GVRVirtualMachine).Namespace(ns).Get(ctx, "vms-ml-bbbbb", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("removed node's VM still there: %v", err)
	}
	toks, _ = cs.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{LabelSelector: kubevirt.LabelBootstrapNode + "=vms-ml-bbbbb"})
	if len(toks.Items) != 0 {
		t.Errorf("removed node's bootstrap token still there")
	}

	// Delete: every VM, then the namespace.
	eventually(t, 2*time.Minute, "the cluster's VMs and host namespace to be gone", func() bool {
		done, err := nodes.Delete(ctx, ref)
		if err != nil {
			t.Logf("Delete: %v", err)
		}
		return done
	})
}

func fromUnstructured(obj map[string]any, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(obj, into)
}
