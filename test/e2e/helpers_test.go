package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hikube/hikube/test/harness"
)

const tenantA = "tenant-a"

// waitReady waits with the real `kubectl wait` for the cluster's Ready condition.
func waitReady(t *testing.T, ns, name string, timeout time.Duration) {
	t.Helper()
	r := env.Kubectl(t, "alice", "wait", "--for=condition=Ready", "cluster/"+name, "-n", ns, "--timeout="+timeout.String())
	if r.Err != nil {
		status := env.Kubectl(t, "admin", "get", "cluster", name, "-n", ns, "-o", "jsonpath={.status}")
		t.Fatalf("cluster %s/%s not Ready within %s: %v %s\nstatus: %s", ns, name, timeout, r.Err, r.Stderr, status.Stdout)
	}
}

// tenantKubeconfig fetches the caller's kubeconfig of a cluster through the
// subresource (kubeconfig or viewerkubeconfig) and writes it to a file.
func tenantKubeconfig(t *testing.T, user, ns, name, subresource string) string {
	t.Helper()
	path := "/apis/apps.hikube.io/v1alpha1/namespaces/" + ns + "/clusters/" + name + "/" + subresource
	out := env.MustKubectl(t, user, "get", "--raw", path)
	file := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(user), ".kubeconfig")+"-"+name+".kubeconfig")
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// node is what the tests read of a tenant node.
type node struct {
	Metadata struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Taints []struct {
			Key    string `json:"key"`
			Effect string `json:"effect"`
		} `json:"taints"`
	} `json:"spec"`
	Status struct {
		Capacity    map[string]string `json:"capacity"`
		Allocatable map[string]string `json:"allocatable"`
		Conditions  []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"conditions"`
	} `json:"status"`
}

func (n node) ready() bool {
	for _, c := range n.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

// tenantNodes lists the nodes of a tenant cluster with its kubeconfig.
func tenantNodes(t *testing.T, kubeconfig string) []node {
	t.Helper()
	out := env.MustKubectl(t, kubeconfig, "get", "nodes", "-o", "json")
	var list struct {
		Items []node `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("decoding nodes: %v", err)
	}
	return list.Items
}

func nodesOfGroup(nodes []node, group string) []node {
	var out []node
	for _, n := range nodes {
		if n.Metadata.Labels["apps.hikube.io/node-group"] == group {
			out = append(out, n)
		}
	}
	return out
}

// clusterEvents returns "Reason: message" lines of the events about a cluster.
func clusterEvents(t *testing.T, ns, name string) string {
	t.Helper()
	return env.MustKubectl(t, "admin", "get", "events", "-n", ns,
		"--field-selector", "involvedObject.name="+name+",involvedObject.kind=Cluster",
		"-o", `jsonpath={range .items[*]}{.reason}: {.message}{"\n"}{end}`)
}

func applyCluster(t *testing.T, user, manifest string) {
	t.Helper()
	r := env.KubectlIn(t, user, []byte(manifest), "apply", "-n", tenantA, "-f", "-")
	if r.Err != nil {
		t.Fatalf("apply: %v\n%s", r.Err, r.Stderr)
	}
}

func deleteCluster(t *testing.T, name string) {
	t.Helper()
	env.Kubectl(t, "admin", "delete", "cluster", name, "-n", tenantA, "--wait=true", "--timeout=120s")
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

var (
	eventually   = harness.Eventually
	consistently = harness.Consistently
)
