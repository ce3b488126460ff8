package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/hikube/hikube/pkg/catalog"
)

// TestSeedExamplesBecomeRealClusters: alice applies the seed's clusters, each
// becomes Ready, and through her own kubeconfig she sees nodes of the right
// shape and is herself inside the cluster.
func TestSeedExamplesBecomeRealClusters(t *testing.T) {
	env.MustKubectl(t, "alice", "apply", "-n", tenantA, "-f", "artifacts/examples/")
	for _, name := range []string{"web", "ml", "production", "prod"} {
		t.Cleanup(func() { deleteCluster(t, name) })
	}
	for _, name := range []string{"web", "ml", "production", "prod"} {
		waitReady(t, tenantA, name, 4*time.Minute)
	}

	t.Run("ml nodes carry the instance type, zone and GPU", func(t *testing.T) {
		kc := tenantKubeconfig(t, "alice", tenantA, "ml", "kubeconfig")
		ml := nodesOfGroup(tenantNodes(t, kc), "ml")
		if len(ml) != 1 {
			t.Fatalf("ml group has %d nodes, want minReplicas 1", len(ml))
		}
		n := ml[0]
		if got := n.Metadata.Labels["node.kubernetes.io/instance-type"]; got != "u1.xlarge" {
			t.Errorf("instance-type label = %q", got)
		}
		if z := n.Metadata.Labels["topology.kubernetes.io/zone"]; !strings.Contains(strings.Join(catalog.Datacenters, ","), z) || z == "" {
			t.Errorf("zone label = %q, want a datacenter", z)
		}
		if n.Status.Capacity["cpu"] != "4" || n.Status.Capacity["memory"] != "16Gi" {
			t.Errorf("capacity = %v, want cpu 4 memory 16Gi", n.Status.Capacity)
		}
		if n.Status.Allocatable["nvidia.com/L40S"] != "1" {
			t.Errorf("allocatable = %v, want nvidia.com/L40S: 1", n.Status.Allocatable)
		}
		tainted := false
		for _, taint := range n.Spec.Taints {
			tainted = tainted || (taint.Key == "nvidia.com/gpu" && taint.Effect == "NoSchedule")
		}
		if !tainted {
			t.Errorf("GPU node lacks the nvidia.com/gpu NoSchedule taint: %+v", n.Spec.Taints)
		}
		if !n.ready() {
			t.Errorf("node %s is not Ready", n.Metadata.Name)
		}
		who := env.MustKubectl(t, kc, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
		if who != "alice" {
			t.Errorf("inside the cluster, alice is %q", who)
		}
	})

	t.Run("web nodes carry the role and spread over datacenters", func(t *testing.T) {
		kc := tenantKubeconfig(t, "alice", tenantA, "web", "kubeconfig")
		web := nodesOfGroup(tenantNodes(t, kc), "web")
		if len(web) != 2 {
			t.Fatalf("web group has %d nodes, want minReplicas 2", len(web))
		}
		zones := map[string]bool{}
		for _, n := range web {
			if _, ok := n.Metadata.Labels["node-role.kubernetes.io/ingress-nginx"]; !ok {
				t.Errorf("node %s lacks the ingress-nginx role label", n.Metadata.Name)
			}
			if n.Status.Capacity["cpu"] != "4" || n.Status.Capacity["memory"] != "8Gi" {
				t.Errorf("s1.large capacity = %v, want cpu 4 memory 8Gi", n.Status.Capacity)
			}
			zones[n.Metadata.Labels["topology.kubernetes.io/zone"]] = true
		}
		if len(zones) != 2 {
			t.Errorf("two web nodes share a datacenter: %v", zones)
		}
		sc := env.MustKubectl(t, kc, "get", "storageclass", "-o",
			`jsonpath={range .items[*]}{.metadata.name}={.metadata.annotations.storageclass\.kubernetes\.io/is-default-class}{" "}{end}`)
		if !contains(sc, "local=false", "replicated=true") {
			t.Errorf("storage classes = %q, want local and replicated with replicated the default", sc)
		}
		// Ready is the control plane and the nodes; the add-ons say when they
		// are installed on their own condition.
		env.MustKubectl(t, "alice", "wait", "--for=condition=AddonsReady", "cluster/web", "-n", tenantA, "--timeout=2m")
		pods := env.MustKubectl(t, kc, "get", "pods", "-n", "ingress-nginx", "-l", "app.kubernetes.io/component=controller", "-o", `jsonpath={range .items[*]}{.spec.nodeName}{" "}{.status.phase}{"\n"}{end}`)
		for _, line := range strings.Split(strings.TrimSpace(pods), "\n") {
			if !strings.HasPrefix(line, "web-web-") || !strings.HasSuffix(line, "Running") {
				t.Errorf("ingress-nginx pod not running on a web node: %q", line)
			}
		}
	})

	t.Run("status reports the control plane and node groups", func(t *testing.T) {
		out := env.MustKubectl(t, "alice", "get", "cluster", "prod", "-n", tenantA, "-o",
			"jsonpath={.status.phase} {.status.controlPlane.readyReplicas} {.status.nodeGroups.web.readyReplicas}/{.status.nodeGroups.web.desiredReplicas} {.status.version}")
		if !strings.HasPrefix(out, "Ready 3 2/2 v1.36.") {
			t.Errorf("prod status = %q, want Ready, 3 control-plane replicas, web 2/2, v1.36.x", out)
		}
		table := env.MustKubectl(t, "alice", "get", "clusters", "-n", tenantA)
		if !contains(table, "prod", "Ready", "3/3") {
			t.Errorf("kubectl get clusters does not show prod Ready with 3/3 nodes:\n%s", table)
		}
	})
}
