package cluster

import (
	"bytes"
	"context"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
	kubevirtv1 "kubevirt.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/autoscaler"
	"github.com/hikube/hikube/pkg/clusterpki"
	"github.com/hikube/hikube/pkg/provider"
	"github.com/hikube/hikube/pkg/provider/kubevirt"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The VMs and user-data Secrets the kubevirt provider writes for the first
// node of every group of the seed's three clusters, from the node specs the
// core decides: golden files, each decoded strictly into the kubevirt.io/api
// types (a field KubeVirt does not know fails).
func TestKubeVirtMachinesOfTheSeedClusters(t *testing.T) {
	nodes := kubevirt.NewNodes(nil, nil, nil, kubevirt.NodesOptions{Image: "registry.hikube.io/node:%s"})
	token := kubevirt.BootstrapToken{ID: "abcdef", Secret: "0123456789abcdef", Expires: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	for _, seed := range []string{"web", "ml", "production"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "..", "artifacts", "examples", seed+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var cl v1alpha1.Cluster
		if err := yaml.UnmarshalStrict(raw, &cl); err != nil {
			t.Fatalf("%s: %v", seed, err)
		}
		v1alpha1.SetObjectDefaults_Cluster(&cl)
		cl.Namespace, cl.UID = "tenant-a", types.UID("5f0c2d3e-0000-4000-8000-00000000000"+seed[:1])
		ref := provider.ClusterRef{Namespace: cl.Namespace, Name: cl.Name, UID: string(cl.UID)}
		for _, group := range slices.Sorted(maps.Keys(cl.Spec.NodeGroups)) {
			g := cl.Spec.NodeGroups[group]
			tmpl := nodeTemplate(&cl, group, g, nil)
			spec := nodeSpec(autoscaler.Group{Name: group, Template: tmpl}, g, cl.Name+"-"+group+"-x7k2p", "lucerne")
			m, err := nodes.MachineFor(ref, spec, "v1.37")
			if err != nil {
				t.Fatalf("%s/%s: %v", seed, group, err)
			}
			vm, err := kubevirt.VirtualMachine(m)
			if err != nil {
				t.Fatal(err)
			}
			ud, err := kubevirt.UserData(kubevirt.Join{NodeName: spec.Name, APIServerEndpoint: "203.0.113.10:6443", Token: token,
				CACertHash: "sha256:9b1d2f0c", Labels: spec.Labels, Taints: spec.Taints})
			if err != nil {
				t.Fatal(err)
			}
			secret := kubevirt.UserDataSecret(m.Namespace, m.UserDataSecret, m.Labels, ud)
			golden(t, seed+"-"+group+"-vm", vm, &kubevirtv1.VirtualMachine{})
			golden(t, seed+"-"+group+"-userdata", secret, &corev1.Secret{})
		}
	}
}

func golden(t *testing.T, name string, obj, into any) {
	t.Helper()
	got, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "kubevirt", name+".yaml")
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./pkg/controller/cluster -run KubeVirt -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from its golden file (rerun with -update if the change is meant):\n%s", path, got)
	}
	if err := yaml.UnmarshalStrict(want, into); err != nil {
		t.Errorf("%s does not decode strictly: %v", path, err)
	}
}

// The core's control-plane step drives the kubevirt control plane on a
// (fake) host: the spec it decides (minor, replicas, zones, preset, PKI)
// reaches the host objects, and the provider's reason reaches the
// ControlPlaneReady condition.
func TestKubeVirtControlPlaneThroughTheCoreStep(t *testing.T) {
	host := kubefake.NewClientset()
	cp := kubevirt.NewControlPlane(host, kubevirt.ControlPlaneOptions{})
	cl := newCluster("u1")
	s := newState(cl)
	p, err := clusterpki.Generate(s.ref)
	if err != nil {
		t.Fatal(err)
	}
	s.pki = p
	r := &controlPlaneReconciler{provider: provider.Compose(cp, kubevirt.NewNodes(host, nil, kubevirt.TenantOf(cp), kubevirt.NodesOptions{})),
		recorder: record.NewFakeRecorder(10), resyncProgressing: time.Second}
	st, err := r.reconcile(context.Background(), s)
	if err != nil || st != reconcileStop {
		t.Fatalf("status %v err %v", st, err)
	}
	c := condition(&v1alpha1.Cluster{Status: s.status}, v1alpha1.ConditionControlPlaneReady)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != kubevirt.ReasonWaitingForEndpoint {
		t.Fatalf("ControlPlaneReady = %+v", c)
	}
	sts, err := host.AppsV1().StatefulSets(kubevirt.HostNamespace(s.ref)).Get(context.Background(), "web-etcd", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	zones := sts.Spec.Template.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].Preference.MatchExpressions[0].Values
	if *sts.Spec.Replicas != 3 || !slices.Equal(zones, []string{"geneva", "gland", "lucerne"}) {
		t.Errorf("etcd members %d in zones %v, want 3 over the three datacenters", *sts.Spec.Replicas, zones)
	}
}
