package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

const addonsCluster = `apiVersion: apps.hikube.io/v1alpha1
kind: Cluster
metadata: {name: addons}
spec:
  controlPlane: {replicas: 1}
  nodeGroups:
    workers: {minReplicas: 1, maxReplicas: 2, instanceType: s1.large}
    edge: {minReplicas: 2, maxReplicas: 2, instanceType: s1.large, roles: [ingress-nginx]}
  addons:
    certManager: {enabled: true}
    ingressNginx: {enabled: true, exposeMethod: LoadBalancer, hosts: [shop.example.com]}
`

// clusterStatus reads the cluster's status.
func clusterStatus(t *testing.T, name string) v1alpha1.ClusterStatus {
	t.Helper()
	cl, err := env.Hikube(t, "admin").AppsV1alpha1().Clusters(tenantA).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading cluster %s: %v", name, err)
	}
	return cl.Status
}

func addonState(t *testing.T, name, key string) (v1alpha1.AddonStatus, bool) {
	st, ok := clusterStatus(t, name).Addons[key]
	return st, ok
}

func conditionOf(st v1alpha1.ClusterStatus, typ string) (status, reason, msg string) {
	for _, c := range st.Conditions {
		if c.Type == typ {
			return string(c.Status), c.Reason, c.Message
		}
	}
	return "", "", ""
}

// helmReleases lists the Helm release Secrets of a namespace of the tenant
// cluster as "name v<revision> <status>".
func helmReleases(t *testing.T, kc, ns string) []string {
	t.Helper()
	r := env.Kubectl(t, kc, "get", "secrets", "-n", ns, "-l", "owner=helm",
		"-o", `jsonpath={range .items[*]}{.metadata.labels.name} v{.metadata.labels.version} {.metadata.labels.status}{"\n"}{end}`)
	if r.Err != nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// podsNodes are the nodes of the pods matching a selector.
func podsNodes(t *testing.T, kc, ns, selector string) []string {
	t.Helper()
	out := env.MustKubectl(t, kc, "get", "pods", "-n", ns, "-l", selector, "-o", `jsonpath={range .items[*]}{.spec.nodeName}{"\n"}{end}`)
	return strings.Fields(out)
}

func patchAddons(t *testing.T, name, patch string) {
	t.Helper()
	r := env.Kubectl(t, "alice", "patch", "cluster", name, "-n", tenantA, "--type=merge", "-p", patch)
	if r.Err != nil {
		t.Fatalf("patch %s: %v %s", patch, r.Err, r.Stderr)
	}
}

// TestAddons: add-ons are Helm releases of the local chart repository's
// charts: installed on the role's nodes without holding the cluster's Ready,
// upgraded when valuesOverride changes and only then, reported Failed with
// Helm's message, uninstalled with their namespace, and converged after a
// controller killed in the middle of an install.
func TestAddons(t *testing.T) {
	applyCluster(t, "alice", addonsCluster)
	t.Cleanup(func() { deleteCluster(t, "addons") })
	waitReady(t, tenantA, "addons", 3*time.Minute)
	kc := tenantKubeconfig(t, "alice", tenantA, "addons", "kubeconfig")

	eventually(t, 2*time.Minute, "cert-manager and ingress-nginx Ready, AddonsReady True", func() bool {
		st := clusterStatus(t, "addons")
		s, _, _ := conditionOf(st, v1alpha1.ConditionAddonsReady)
		return st.Addons["certManager"].State == v1alpha1.AddonReady && st.Addons["ingressNginx"].State == v1alpha1.AddonReady && s == "True"
	})

	t.Run("enable installs the release with its pods on the role's nodes", func(t *testing.T) {
		if got := helmReleases(t, kc, "ingress-nginx"); !slices.Equal(got, []string{"ingress-nginx v1 deployed"}) {
			t.Errorf("releases in ingress-nginx: %v, want revision 1 deployed", got)
		}
		st, _ := addonState(t, "addons", "ingressNginx")
		if len(st.Releases) != 1 || st.Releases[0].ChartVersion != "4.15.1" || st.Releases[0].Revision != 1 || st.Releases[0].Status != "deployed" {
			t.Errorf("status.addons.ingressNginx.releases = %+v", st.Releases)
		}
		edge := map[string]bool{}
		for _, n := range nodesOfGroup(tenantNodes(t, kc), "edge") {
			edge[n.Metadata.Name] = true
		}
		nodes := podsNodes(t, kc, "ingress-nginx", "app.kubernetes.io/component=controller")
		if len(nodes) != 2 {
			t.Errorf("controller pods on %v, want 2 (the catalog's replicas)", nodes)
		}
		for _, n := range nodes {
			if !edge[n] {
				t.Errorf("controller pod on %s, not on an ingress-nginx node (%v)", n, edge)
			}
		}
		if typ := env.MustKubectl(t, kc, "get", "service", "ingress-nginx", "-n", "ingress-nginx", "-o", "jsonpath={.spec.type}"); typ != "LoadBalancer" {
			t.Errorf("ingress Service type %q, want LoadBalancer (exposeMethod)", typ)
		}
		// The chart's CRD is installed; its post-install hook Job ran to
		// completion (kwok completes Job pods) and was deleted by its policy.
		env.MustKubectl(t, kc, "get", "crd", "standins.addons.hikube.io")
		if r := env.Kubectl(t, kc, "get", "job", "ingress-nginx-hook", "-n", "ingress-nginx"); r.Err == nil {
			t.Errorf("the hook Job is still there: %s", r.Stdout)
		}
	})

	t.Run("changed valuesOverride upgrades to revision 2, an unchanged one does nothing", func(t *testing.T) {
		patchAddons(t, "addons", `{"spec":{"addons":{"ingressNginx":{"valuesOverride":{"controller":{"replicaCount":3,"service":{"type":"NodePort"}}}}}}}`)
		eventually(t, 2*time.Minute, "ingress-nginx revision 2 deployed with 3 replicas", func() bool {
			st, _ := addonState(t, "addons", "ingressNginx")
			rep := env.Kubectl(t, kc, "get", "deployment", "ingress-nginx", "-n", "ingress-nginx", "-o", "jsonpath={.spec.replicas}")
			return st.State == v1alpha1.AddonReady && len(st.Releases) == 1 && st.Releases[0].Revision == 2 && rep.Stdout == "3"
		})
		// kubectl hikube shows the release, and its effective values read
		// from the tenant cluster.
		plugin := filepath.Join(env.Root, "_output", "bin", "kubectl-hikube")
		list := runPlugin(t, plugin, "addon", "list", "addons")
		if !contains(list, "ingress-nginx", "ingress-nginx/ingress-nginx", "4.15.1", "2 (deployed)", "Ready") {
			t.Errorf("addon list:\n%s", list)
		}
		vals := runPlugin(t, plugin, "addon", "values", "addons", "ingress-nginx")
		if !contains(vals, "revision 2, deployed", "replicaCount: 3", "type: LoadBalancer", "admissionWebhooks:") {
			t.Errorf("addon values:\n%s", vals)
		}
		// The Service type is enforced from exposeMethod, whatever the override.
		if typ := env.MustKubectl(t, kc, "get", "service", "ingress-nginx", "-n", "ingress-nginx", "-o", "jsonpath={.spec.type}"); typ != "LoadBalancer" {
			t.Errorf("ingress Service type %q after an override asking NodePort, want LoadBalancer", typ)
		}
		// A restarted controller compares the releases again from scratch;
		// the next subtest checks that the same spec made no new revision.
		restartController(t, false)
	})

	t.Run("a failing chart is Failed with Helm's message and the cluster stays Ready", func(t *testing.T) {
		patchAddons(t, "addons", `{"spec":{"addons":{"velero":{"enabled":true}}}}`)
		var st v1alpha1.AddonStatus
		eventually(t, 2*time.Minute, "velero Failed", func() bool {
			st, _ = addonState(t, "addons", "velero")
			return st.State == v1alpha1.AddonFailed
		})
		if st.Reason != v1alpha1.ReasonInstallFailed || !strings.Contains(st.Message, "FailsOnPurpose") {
			t.Errorf("velero: %s %q, want InstallFailed with the API server's refusal of the Service type", st.Reason, st.Message)
		}
		cs := clusterStatus(t, "addons")
		if s, _, _ := conditionOf(cs, v1alpha1.ConditionReady); s != "True" {
			t.Errorf("Ready = %s with a failed add-on, want True", s)
		}
		if s, reason, _ := conditionOf(cs, v1alpha1.ConditionAddonsReady); s != "False" || reason != v1alpha1.ReasonAddonsFailed {
			t.Errorf("AddonsReady = %s %s, want False AddonsFailed", s, reason)
		}
		// By now the restarted controller has compared ingress-nginx with its
		// release (its job started before velero's): the same spec made no
		// new revision.
		if got := helmReleases(t, kc, "ingress-nginx"); !slices.Equal(got, []string{"ingress-nginx v1 superseded", "ingress-nginx v2 deployed"}) {
			t.Errorf("ingress-nginx releases after a restart with the same spec: %v, want v1 superseded and v2 deployed only", got)
		}
		patchAddons(t, "addons", `{"spec":{"addons":{"velero":{"enabled":false}}}}`)
	})

	t.Run("disable uninstalls the release and deletes the namespace; the CRD stays", func(t *testing.T) {
		patchAddons(t, "addons", `{"spec":{"addons":{"ingressNginx":{"enabled":false}}}}`)
		eventually(t, 2*time.Minute, "ingress-nginx gone from the status and the cluster", func() bool {
			_, present := addonState(t, "addons", "ingressNginx")
			r := env.Kubectl(t, kc, "get", "namespace", "ingress-nginx")
			return !present && r.Err != nil && strings.Contains(r.Stderr, "NotFound")
		})
		env.MustKubectl(t, kc, "get", "crd", "standins.addons.hikube.io")
	})

	t.Run("a controller killed mid-install converges with one release", func(t *testing.T) {
		patchAddons(t, "addons", `{"spec":{"addons":{"fluxcd":{"enabled":true}}}}`)
		eventually(t, time.Minute, "the flux2 release to exist", func() bool {
			return len(helmReleases(t, kc, "flux-system")) > 0
		})
		restartController(t, true)
		eventually(t, 3*time.Minute, "fluxcd Ready", func() bool {
			st, _ := addonState(t, "addons", "fluxcd")
			return st.State == v1alpha1.AddonReady
		})
		got := helmReleases(t, kc, "flux-system")
		if len(got) != 1 || !strings.HasPrefix(got[0], "flux2 ") || !strings.HasSuffix(got[0], " deployed") {
			t.Errorf("flux2 releases after the restart: %v, want one deployed revision", got)
		}
		if s, _, _ := conditionOf(clusterStatus(t, "addons"), v1alpha1.ConditionReady); s != "True" {
			t.Errorf("Ready = %s after the restart", s)
		}
	})
}

// runPlugin runs kubectl-hikube as alice (whose namespace is tenant-a).
func runPlugin(t *testing.T, plugin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(plugin, append([]string{"--kubeconfig", env.Platform.KubeconfigPath("alice")}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl-hikube %v: %v\n%s", args, err, out)
	}
	return string(out)
}
