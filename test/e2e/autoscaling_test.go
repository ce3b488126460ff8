package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

const gpuCluster = `apiVersion: apps.hikube.io/v1alpha1
kind: Cluster
metadata: {name: scale}
spec:
  controlPlane: {replicas: 1}
  nodeGroups:
    ml:
      minReplicas: 1
      maxReplicas: 3
      instanceType: u1.2xlarge
      gpus: [{name: nvidia.com/L40S}]
  addons:
    gpuOperator: {enabled: true}
`

const gpuDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: train, namespace: default}
spec:
  replicas: 5
  selector: {matchLabels: {app: train}}
  template:
    metadata: {labels: {app: train}}
    spec:
      tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
      containers:
      - name: train
        image: registry.example/train:1
        resources:
          limits: {nvidia.com/L40S: 1}
`

var scaledUpTo = regexp.MustCompile(`ScaledUp: ScaledUp ml from [12] to 3: \d+ pending pods? needs? nvidia.com/L40S`)

// TestAutoscaling: pods that need more GPUs than the group has grow it up to
// maxReplicas and no further; once they are gone it shrinks back to min after
// the grace period; every decision is an event on the Cluster.
func TestAutoscaling(t *testing.T) {
	applyCluster(t, "alice", gpuCluster)
	t.Cleanup(func() { deleteCluster(t, "scale") })
	waitReady(t, tenantA, "scale", 3*time.Minute)
	kc := tenantKubeconfig(t, "alice", tenantA, "scale", "kubeconfig")

	r := env.KubectlIn(t, kc, []byte(gpuDeployment), "apply", "-f", "-")
	if r.Err != nil {
		t.Fatalf("creating the GPU deployment: %v %s", r.Err, r.Stderr)
	}
	eventually(t, 2*time.Minute, "3 ready ml nodes and 3 running GPU pods", func() bool {
		ready := 0
		for _, n := range nodesOfGroup(tenantNodes(t, kc), "ml") {
			if n.ready() {
				ready++
			}
		}
		return ready == 3 && runningPods(t, kc, "app=train") == 3
	})
	events := clusterEvents(t, tenantA, "scale")
	// The autoscaler reacts to each pod as the scheduler marks it: one
	// decision 1 → 3 when it sees them all at once, or 1 → 2 → 3 when the
	// first pod comes alone. Either way the last one reaches 3, never beyond.
	if !scaledUpTo.MatchString(events) || regexp.MustCompile(`ScaledUp ml from \d+ to [4-9]`).MatchString(events) ||
		!contains(events, "nvidia.com/L40S", "ScaleUpLimited") {
		t.Errorf("events lack the scale-up decisions:\n%s", events)
	}
	consistently(t, 3*time.Second, "ml staying at maxReplicas 3 with pods still pending", func() bool {
		return len(nodesOfGroup(tenantNodes(t, kc), "ml")) == 3
	})

	env.MustKubectl(t, kc, "scale", "deployment", "train", "--replicas=0", "-n", "default")
	eventually(t, 2*time.Minute, "ml to shrink back to minReplicas 1", func() bool {
		return len(nodesOfGroup(tenantNodes(t, kc), "ml")) == 1
	})
	if events := clusterEvents(t, tenantA, "scale"); !strings.Contains(events, "ScaledDown: ScaledDown ml from 3 to") {
		t.Errorf("events lack the scale-down decision:\n%s", events)
	}
}

func runningPods(t *testing.T, kubeconfig, selector string) int {
	t.Helper()
	out := env.MustKubectl(t, kubeconfig, "get", "pods", "-A", "-l", selector, "--field-selector=status.phase=Running", "-o", "name")
	return len(strings.Fields(out))
}

// TestBoundsAndUpgrade: min and max changes apply at once, and a version
// patch upgrades the control plane one minor.
func TestBoundsAndUpgrade(t *testing.T) {
	applyCluster(t, "alice", small("bounds", "v1.36", 3, 4))
	t.Cleanup(func() { deleteCluster(t, "bounds") })
	waitReady(t, tenantA, "bounds", 3*time.Minute)
	kc := tenantKubeconfig(t, "alice", tenantA, "bounds", "kubeconfig")
	if n := len(nodesOfGroup(tenantNodes(t, kc), "workers")); n != 3 {
		t.Fatalf("workers has %d nodes, want minReplicas 3", n)
	}

	env.MustKubectl(t, "alice", "patch", "cluster", "bounds", "-n", tenantA, "--type=merge",
		"-p", `{"spec":{"nodeGroups":{"workers":{"minReplicas":1,"maxReplicas":2}}}}`)
	eventually(t, time.Minute, "workers to shrink to maxReplicas 2", func() bool {
		return len(nodesOfGroup(tenantNodes(t, kc), "workers")) == 2
	})

	env.MustKubectl(t, kc, "create", "configmap", "before-upgrade", "-n", "default")
	env.MustKubectl(t, "alice", "patch", "cluster", "bounds", "-n", tenantA, "--type=merge", "-p", `{"spec":{"version":"v1.37"}}`)
	eventually(t, 3*time.Minute, "the control plane to run v1.37", func() bool {
		out := env.MustKubectl(t, "alice", "get", "cluster", "bounds", "-n", tenantA, "-o", "jsonpath={.status.version} {.status.phase}")
		return strings.HasPrefix(out, "v1.37.") && strings.HasSuffix(out, "Ready")
	})
	server := env.MustKubectl(t, kc, "version", "-o", "json")
	if !strings.Contains(server, `"gitVersion": "v1.37.`) {
		t.Errorf("the tenant API server does not report v1.37 after the upgrade:\n%s", server)
	}
	if out := env.MustKubectl(t, kc, "get", "configmap", "before-upgrade", "-n", "default", "-o", "name"); !strings.Contains(out, "before-upgrade") {
		t.Errorf("data written before the upgrade is gone")
	}
	if events := clusterEvents(t, tenantA, "bounds"); !strings.Contains(events, "Upgraded: Control plane upgraded from v1.36") {
		t.Errorf("no Upgraded event:\n%s", events)
	}
}
