package integration

import (
	"regexp"
	"strings"
	"testing"
)

// TestSeedExamples walks the README's first session as alice: apply the seed's
// three clusters (web, ml, production) and the fuller prod, read them back
// with get, wide get, describe and explain.
func TestSeedExamples(t *testing.T) {
	out := mustKubectl(t, "alice", "apply", "-n", tenantA, "-f", "artifacts/examples/")
	for _, name := range []string{"web", "ml", "production", "prod"} {
		t.Cleanup(func() { deleteCluster(t, tenantA, name) })
		if !strings.Contains(out, "cluster.apps.hikube.io/"+name+" created") {
			t.Errorf("apply did not create %s:\n%s", name, out)
		}
	}

	t.Run("get prints the cluster columns", func(t *testing.T) {
		out := mustKubectl(t, "alice", "get", "clusters", "-n", tenantA)
		header := strings.Fields(strings.SplitN(out, "\n", 2)[0])
		if strings.Join(header, " ") != "NAME VERSION PHASE NODES GPUS AGE" {
			t.Errorf("header = %v, want NAME VERSION PHASE NODES GPUS AGE", header)
		}
		// Before the controller reports, NODES is 0/<sum of minReplicas> and
		// GPUS 0/<GPUs at maxReplicas>; version is defaulted for ml.
		for _, want := range []string{
			`(?m)^prod\s+v1\.36\s+Pending\s+0/3\s+0/5\s+\S+$`,
			`(?m)^ml\s+v1\.37\s+Pending\s+0/1\s+0/5\s+\S+$`,
			`(?m)^web\s+v1\.37\s+Pending\s+0/2\s+-\s+\S+$`,
			`(?m)^production\s+v1\.37\s+Pending\s+0/3\s+-\s+\S+$`,
		} {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("kubectl get clusters does not match %s:\n%s", want, out)
			}
		}
	})

	t.Run("wide adds endpoint and node groups", func(t *testing.T) {
		out := mustKubectl(t, "alice", "get", "cluster", "prod", "-n", tenantA, "-o", "wide")
		if !strings.Contains(out, "ENDPOINT") || !strings.Contains(out, "NODE GROUPS") {
			t.Errorf("-o wide header lacks ENDPOINT / NODE GROUPS:\n%s", out)
		}
		if !strings.Contains(out, "ml=u1.xlarge[1-5],web=s1.large[2-10]") {
			t.Errorf("-o wide does not list the node groups:\n%s", out)
		}
	})

	t.Run("short name and category", func(t *testing.T) {
		for _, args := range [][]string{{"get", "hkc", "-n", tenantA}, {"get", "hikube", "-n", tenantA}} {
			if out := mustKubectl(t, "alice", args...); !strings.Contains(out, "prod") {
				t.Errorf("kubectl %v does not list prod:\n%s", args, out)
			}
		}
	})

	t.Run("defaults are stored", func(t *testing.T) {
		out := mustKubectl(t, "alice", "get", "cluster", "ml", "-n", tenantA, "-o",
			"jsonpath={.spec.version} {.spec.controlPlane.replicas} {.spec.controlPlane.resourcesPreset} {.spec.storageClass} {.spec.nodeGroups.ml.ephemeralStorage} {.spec.nodeGroups.ml.storageClass} {.metadata.generation}")
		if out != "v1.37 2 small replicated 20Gi replicated 1" {
			t.Errorf("stored defaults = %q, want \"v1.37 2 small replicated 20Gi replicated 1\"", out)
		}
	})

	t.Run("describe", func(t *testing.T) {
		out := mustKubectl(t, "alice", "describe", "cluster", "prod", "-n", tenantA)
		for _, want := range []string{"Name:", "prod", "Namespace:", "tenant-a", "Node Groups:", "u1.xlarge", "nvidia.com/L40S"} {
			if !strings.Contains(out, want) {
				t.Errorf("describe lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("explain", func(t *testing.T) {
		out := mustKubectl(t, "alice", "explain", "clusters.spec.nodeGroups.gpus")
		for _, want := range []string{"GPUs are passed through", "name", "nvidia.com/L40S"} {
			if !strings.Contains(out, want) {
				t.Errorf("explain clusters.spec.nodeGroups.gpus lacks %q:\n%s", want, out)
			}
		}
		out = mustKubectl(t, "alice", "explain", "clusters.spec.nodeGroups")
		if !strings.Contains(out, "minReplicas") || !strings.Contains(out, "instanceType") {
			t.Errorf("explain clusters.spec.nodeGroups lacks the group fields:\n%s", out)
		}
	})

	t.Run("server-side apply twice is a no-op", func(t *testing.T) {
		mustKubectl(t, "alice", "apply", "--server-side", "-n", tenantA, "-f", "artifacts/examples/prod.yaml")
		rv1 := mustKubectl(t, "alice", "get", "cluster", "prod", "-n", tenantA, "-o", "jsonpath={.metadata.resourceVersion}")
		out := mustKubectl(t, "alice", "apply", "--server-side", "-n", tenantA, "-f", "artifacts/examples/prod.yaml")
		if !strings.Contains(out, "serverside-applied") {
			t.Errorf("second apply output = %q", out)
		}
		rv2 := mustKubectl(t, "alice", "get", "cluster", "prod", "-n", tenantA, "-o", "jsonpath={.metadata.resourceVersion}")
		if rv1 != rv2 {
			t.Errorf("second identical server-side apply changed the object: resourceVersion %s -> %s", rv1, rv2)
		}
	})
}
