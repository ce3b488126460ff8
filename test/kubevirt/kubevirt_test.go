// Package kubevirt tests hikube with the kubevirt provider, end to end: the
// real host kube-apiserver with KubeVirt's and CDI's CRDs, tenant control
// planes as host Deployments and StatefulSets run by the process node (real
// binaries as processes), and the simulated KubeVirt of the local platform
// (host kwok stages for VMs, DataVolumes and VMIs; the guest simulator
// joining each VM's node with its cloud-init, as kubeadm would, and playing
// its kubelet). One platform serves the package,
// as `HIKUBE_PROVIDER=kubevirt make run` starts it.
package kubevirt

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hikube/hikube/pkg/localplatform"
	"github.com/hikube/hikube/pkg/provider"
	kv "github.com/hikube/hikube/pkg/provider/kubevirt"
	"github.com/hikube/hikube/test/harness"
)

var env harness.Env

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, &env, localplatform.Options{NodeProvider: localplatform.NodeProviderKubeVirt, ScaleDownGrace: 5 * time.Second,
		// TestEtcdKilledInItsFirstSecondIsMadeAfresh waits this out once or
		// more; a new member is ready in about a second here.
		EtcdBootstrapTimeout: 20 * time.Second}))
}

const tenantA = "tenant-a"

type clients = harness.HostClients

func hostClients(t *testing.T) clients { return env.Host(t) }

// tenant is alice's client of one of her clusters, through the kubeconfig
// subresource.
func tenant(t *testing.T, name string) kubernetes.Interface {
	t.Helper()
	raw := env.MustKubectl(t, "alice", "get", "--raw", "/apis/apps.hikube.io/v1alpha1/namespaces/"+tenantA+"/clusters/"+name+"/kubeconfig")
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return kubernetes.NewForConfigOrDie(cfg)
}

func hostNamespace(name string) string { return "hikube-" + tenantA + "-" + name }

func list(t *testing.T, c clients, gvr schema.GroupVersionResource, ns string) []unstructured.Unstructured {
	t.Helper()
	l, err := c.Dynamic.Resource(gvr).Namespace(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing %s in %s: %v", gvr.Resource, ns, err)
	}
	return l.Items
}

func names(items []unstructured.Unstructured) []string {
	var out []string
	for _, i := range items {
		out = append(out, i.GetName())
	}
	slices.Sort(out)
	return out
}

func waitReady(t *testing.T, name string) {
	t.Helper()
	r := env.Kubectl(t, "alice", "wait", "--for=condition=Ready", "cluster/"+name, "-n", tenantA, "--timeout=4m")
	if r.Err != nil {
		st := env.Kubectl(t, "admin", "get", "cluster", name, "-n", tenantA, "-o", "jsonpath={.status}")
		t.Fatalf("cluster %s not Ready: %v %s\nstatus: %s", name, r.Err, r.Stderr, st.Stdout)
	}
}

// TestSeedClustersOnKubeVirt: the seed's three clusters become Ready with
// their control planes as host workloads on the process nodes and every
// worker a VM whose node joined by bootstrap token through the endpoint.
func TestSeedClustersOnKubeVirt(t *testing.T) {
	c := hostClients(t)
	for _, f := range []string{"web", "ml", "production"} {
		env.MustKubectl(t, "alice", "apply", "-n", tenantA, "-f", "artifacts/examples/"+f+".yaml")
		t.Cleanup(func() { env.Kubectl(t, "admin", "delete", "cluster", f, "-n", tenantA, "--wait=true", "--timeout=3m") })
	}
	for _, name := range []string{"web", "ml", "production"} {
		waitReady(t, name)
	}

	for _, name := range []string{"web", "ml", "production"} {
		t.Run(name+": the control plane runs as process-node pods behind the endpoint", func(t *testing.T) {
			checkOnProcessNodes(t, c, name)
		})
		t.Run(name+": every node is a VM that joined", func(t *testing.T) {
			nodes, err := tenant(t, name).CoreV1().Nodes().List(context.Background(), metav1.ListOptions{LabelSelector: provider.LabelNodeGroup})
			if err != nil {
				t.Fatal(err)
			}
			vms := names(list(t, c, kv.GVRVirtualMachine, hostNamespace(name)))
			var nodeNames []string
			for _, n := range nodes.Items {
				nodeNames = append(nodeNames, n.Name)
				if n.Spec.ProviderID != kv.ProviderID(n.Name) {
					t.Errorf("node %s has providerID %q, want %q", n.Name, n.Spec.ProviderID, kv.ProviderID(n.Name))
				}
			}
			slices.Sort(nodeNames)
			if len(vms) == 0 || !slices.Equal(vms, nodeNames) {
				t.Errorf("VMs %v and tenant nodes %v differ", vms, nodeNames)
			}
		})
	}

	t.Run("ml's VM carries the L40S and its node advertises it", func(t *testing.T) {
		vms := list(t, c, kv.GVRVirtualMachine, hostNamespace("ml"))
		if len(vms) != 1 {
			t.Fatalf("ml has %d VMs, want minReplicas 1", len(vms))
		}
		gpus, _, _ := unstructured.NestedSlice(vms[0].Object, "spec", "template", "spec", "domain", "devices", "gpus")
		if len(gpus) != 1 || gpus[0].(map[string]any)["deviceName"] != "nvidia.com/AD102GL_L40S" {
			t.Errorf("ml VM GPUs = %v", gpus)
		}
		n, err := tenant(t, "ml").CoreV1().Nodes().Get(context.Background(), vms[0].GetName(), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if q := n.Status.Allocatable["nvidia.com/L40S"]; q.Value() != 1 {
			t.Errorf("node allocatable = %v, want one nvidia.com/L40S", n.Status.Allocatable)
		}
		if q := n.Status.Capacity[corev1.ResourceCPU]; q.Value() != 4 {
			t.Errorf("node CPU = %v, want the u1.xlarge's 4", q.String())
		}
	})

	t.Run("production's nodes spread over the three datacenters", func(t *testing.T) {
		zones := map[string]int{}
		for _, vm := range list(t, c, kv.GVRVirtualMachineInstance, hostNamespace("production")) {
			node, _, _ := unstructured.NestedString(vm.Object, "status", "nodeName")
			zones[node]++
		}
		if len(zones) != 3 {
			t.Errorf("production's VMIs run on host nodes %v, want one in each datacenter", zones)
		}
	})

	// A VM whose cloud-init is wrong in any of the ways that matter never
	// becomes a node, and its guest says why.
	for _, tc := range []struct {
		name, why string
		spoil     func(*kv.Join)
	}{
		{"rogue-token", "signature does not match the token", func(j *kv.Join) { j.Token.Secret = "0123456789abcdef" }},
		{"rogue-ca", "does not match the pinned", func(j *kv.Join) { j.CACertHash = "sha256:" + strings.Repeat("0", 64) }},
		{"rogue-endpoint", "connection refused", func(j *kv.Join) { j.APIServerEndpoint = "127.0.0.1:1" }},
	} {
		t.Run("no node joins with a wrong "+strings.TrimPrefix(tc.name, "rogue-"), func(t *testing.T) {
			rogueVM(t, c, "production", tc.name, tc.spoil, tc.why)
		})
	}
	t.Run("no node joins without the tenant's bootstrap RBAC", func(t *testing.T) {
		// Without the binding that lets the token's CSRs be approved, the
		// request stays pending and the guest gets no node credentials. The
		// provider writes the binding again before its next new VM.
		tc := tenant(t, "production")
		if err := tc.RbacV1().ClusterRoleBindings().Delete(context.Background(), "kubeadm:node-autoapprove-bootstrap", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		rogueVM(t, c, "production", "rogue-rbac", func(*kv.Join) {}, "")
		csrs, err := tc.CertificatesV1().CertificateSigningRequests().List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pending := 0
		for _, r := range csrs.Items {
			if strings.HasPrefix(r.Spec.Username, "system:bootstrap:") && len(r.Status.Conditions) == 0 && len(r.Status.Certificate) == 0 {
				pending++
				// Deny it, so that the binding the provider writes again
				// later does not let this stopped VM's request through.
				r.Status.Conditions = append(r.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
					Type: certificatesv1.CertificateDenied, Status: corev1.ConditionTrue, Reason: "RogueVM", Message: "denied by the test"})
				if _, err := tc.CertificatesV1().CertificateSigningRequests().UpdateApproval(context.Background(), r.Name, &r, metav1.UpdateOptions{}); err != nil {
					t.Errorf("denying CSR %s: %v", r.Name, err)
				}
			}
		}
		if pending == 0 {
			t.Error("no pending CSR of a bootstrap token: the guest did not get as far as asking, or its CSR was approved")
		}
	})

	t.Run("scale down and up create and remove VMs", func(t *testing.T) {
		env.MustKubectl(t, "alice", "patch", "cluster", "production", "-n", tenantA, "--type=merge",
			"-p", `{"spec":{"nodeGroups":{"workers":{"minReplicas":1,"maxReplicas":1}}}}`)
		harness.Eventually(t, 2*time.Minute, "production down to one VM", func() bool {
			return len(list(t, c, kv.GVRVirtualMachine, hostNamespace("production"))) == 1
		})
		tc := tenant(t, "production")
		harness.Eventually(t, time.Minute, "the removed nodes' bootstrap tokens gone", func() bool {
			s, err := tc.CoreV1().Secrets("kube-system").List(context.Background(), metav1.ListOptions{LabelSelector: kv.LabelBootstrapNode})
			return err == nil && len(s.Items) <= 1
		})
		env.MustKubectl(t, "alice", "patch", "cluster", "production", "-n", tenantA, "--type=merge",
			"-p", `{"spec":{"nodeGroups":{"workers":{"minReplicas":2,"maxReplicas":4}}}}`)
		waitReady(t, "production")
		harness.Eventually(t, 2*time.Minute, "production back at two joined VMs", func() bool {
			nodes, err := tc.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{LabelSelector: provider.LabelNodeGroup})
			return err == nil && len(nodes.Items) == 2 && len(list(t, c, kv.GVRVirtualMachine, hostNamespace("production"))) == 2
		})
	})

	t.Run("kill -9 of hikube-controller during a scale-up makes no duplicate VM", func(t *testing.T) {
		env.MustKubectl(t, "alice", "patch", "cluster", "production", "-n", tenantA, "--type=merge",
			"-p", `{"spec":{"nodeGroups":{"workers":{"minReplicas":3}}}}`)
		// Kill it once the scale-up has begun: the first new VM exists, the
		// rest of the step (user data owners, status) may not.
		harness.Eventually(t, time.Minute, "the scale-up to begin", func() bool {
			return len(list(t, c, kv.GVRVirtualMachine, hostNamespace("production"))) > 2
		})
		if err := env.Platform.KillController(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := env.Platform.StartController(ctx); err != nil {
			t.Fatal(err)
		}
		waitReady(t, "production")
		harness.Consistently(t, 5*time.Second, "production at exactly three VMs", func() bool {
			return len(list(t, c, kv.GVRVirtualMachine, hostNamespace("production"))) == 3
		})
	})

	t.Run("delete leaves no VM, VMI, DataVolume, Secret or namespace", func(t *testing.T) {
		env.MustKubectl(t, "alice", "delete", "cluster", "web", "-n", tenantA, "--wait=true", "--timeout=3m")
		ns := hostNamespace("web")
		harness.Eventually(t, 2*time.Minute, "host namespace "+ns+" gone", func() bool {
			_, err := c.Core.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		})
		for _, gvr := range []schema.GroupVersionResource{kv.GVRVirtualMachine, kv.GVRVirtualMachineInstance, kv.GVRDataVolume} {
			if left := list(t, c, gvr, ns); len(left) > 0 {
				t.Errorf("%s left behind: %v", gvr.Resource, names(left))
			}
		}
		if s, err := c.Core.CoreV1().Secrets(ns).List(context.Background(), metav1.ListOptions{}); err != nil || len(s.Items) > 0 {
			t.Errorf("secrets left behind in %s: %v %v", ns, err, s)
		}
	})
}

// rogueVM runs a VM named rogue in the cluster's host namespace with the
// user data of a real node spoiled: its guest must not become a node, and
// must log why (when why is set).
func rogueVM(t *testing.T, c clients, cluster, rogue string, spoil func(*kv.Join), why string) {
	t.Helper()
	ctx := context.Background()
	ns := hostNamespace(cluster)
	vms := list(t, c, kv.GVRVirtualMachine, ns)
	if len(vms) == 0 {
		t.Fatal("no VM to copy")
	}
	// The user data of a real node, with the token's secret replaced.
	s, err := c.Core.CoreV1().Secrets(ns).Get(ctx, vms[0].GetName()+"-userdata", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	join, err := kv.ParseUserData(s.Data[kv.UserDataKey])
	if err != nil {
		t.Fatal(err)
	}
	join.NodeName = rogue
	spoil(&join)
	ud, err := kv.UserData(join)
	if err != nil {
		t.Fatal(err)
	}
	// No cluster labels: the provider neither counts nor removes it.
	if _, err := c.Core.CoreV1().Secrets(ns).Create(ctx, kv.UserDataSecret(ns, rogue+"-userdata", nil, ud), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	vm, err := kv.VirtualMachine(kv.Machine{
		Name: rogue, Namespace: ns, Zone: "gland", InstanceType: "u1.large", RootDisk: *resourceOf("10Gi"),
		StorageClass: "replicated", Image: "registry.hikube.local/node:v1.37", UserDataSecret: rogue + "-userdata",
	})
	if err != nil {
		t.Fatal(err)
	}
	u, err := toUnstructured(vm)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Dynamic.Resource(kv.GVRVirtualMachine).Namespace(ns).Create(ctx, u, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Dynamic.Resource(kv.GVRVirtualMachine).Namespace(ns).Delete(context.Background(), rogue, metav1.DeleteOptions{})
		c.Core.CoreV1().Secrets(ns).Delete(context.Background(), rogue+"-userdata", metav1.DeleteOptions{})
	})
	harness.Eventually(t, time.Minute, "the rogue VM running", func() bool {
		vmi, err := c.Dynamic.Resource(kv.GVRVirtualMachineInstance).Namespace(ns).Get(ctx, rogue, metav1.GetOptions{})
		if err != nil {
			return false
		}
		phase, _, _ := unstructured.NestedString(vmi.Object, "status", "phase")
		return phase == "Running"
	})
	tc := tenant(t, cluster)
	harness.Consistently(t, 5*time.Second, "no node "+rogue, func() bool {
		_, err := tc.CoreV1().Nodes().Get(ctx, rogue, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	log, err := os.ReadFile(env.Platform.LogPath("hikube-guest-sim"))
	if err != nil {
		t.Fatal(err)
	}
	var said bool
	for _, line := range strings.Split(string(log), "\n") {
		said = said || strings.Contains(line, fmt.Sprintf("vmi=%q", ns+"/"+rogue)) && strings.Contains(line, why)
	}
	if why != "" && !said {
		t.Errorf("the guest's log does not say why %s did not join (%q)", rogue, why)
	}
}

func resourceOf(s string) *resource.Quantity {
	q := resource.MustParse(s)
	return &q
}

func toUnstructured(obj any) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: m}, nil
}
