package integration

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
)

// verbs are every operation on clusters, each returning the error the server gave.
var verbs = map[string]func(cs clientset.Interface, ns, name string) error{
	"get": func(cs clientset.Interface, ns, name string) error {
		_, err := cs.AppsV1alpha1().Clusters(ns).Get(context.Background(), name, metav1.GetOptions{})
		return err
	},
	"list": func(cs clientset.Interface, ns, _ string) error {
		_, err := cs.AppsV1alpha1().Clusters(ns).List(context.Background(), metav1.ListOptions{})
		return err
	},
	"watch": func(cs clientset.Interface, ns, _ string) error {
		w, err := cs.AppsV1alpha1().Clusters(ns).Watch(context.Background(), metav1.ListOptions{})
		if err == nil {
			w.Stop()
		}
		return err
	},
	"create": func(cs clientset.Interface, ns, _ string) error {
		_, err := cs.AppsV1alpha1().Clusters(ns).Create(context.Background(), newCluster("intruder"), metav1.CreateOptions{})
		return err
	},
	"update": func(cs clientset.Interface, ns, name string) error {
		c := newCluster(name)
		c.ResourceVersion = "1"
		_, err := cs.AppsV1alpha1().Clusters(ns).Update(context.Background(), c, metav1.UpdateOptions{})
		return err
	},
	"patch": func(cs clientset.Interface, ns, name string) error {
		_, err := cs.AppsV1alpha1().Clusters(ns).Patch(context.Background(), name, types.MergePatchType,
			[]byte(`{"metadata":{"labels":{"owned":"yes"}}}`), metav1.PatchOptions{})
		return err
	},
	"delete": func(cs clientset.Interface, ns, name string) error {
		return cs.AppsV1alpha1().Clusters(ns).Delete(context.Background(), name, metav1.DeleteOptions{})
	},
	"deletecollection": func(cs clientset.Interface, ns, _ string) error {
		return cs.AppsV1alpha1().Clusters(ns).DeleteCollection(context.Background(), metav1.DeleteOptions{}, metav1.ListOptions{})
	},
	"update status": func(cs clientset.Interface, ns, name string) error {
		c := newCluster(name)
		c.ResourceVersion = "1"
		_, err := cs.AppsV1alpha1().Clusters(ns).UpdateStatus(context.Background(), c, metav1.UpdateOptions{})
		return err
	},
}

// TestTenantIsolation: bob, admin of tenant-b, is refused every verb on
// tenant-a's clusters, and tenant-a's cluster is untouched afterwards.
func TestTenantIsolation(t *testing.T) {
	victim := createCluster(t, "alice", tenantA, newCluster("victim"))
	bob := hikubeClient(t, "bob")
	for verb, do := range verbs {
		t.Run("bob "+verb, func(t *testing.T) {
			if err := do(bob, tenantA, victim.Name); !apierrors.IsForbidden(err) {
				t.Errorf("bob %s on tenant-a: want 403 Forbidden, got %v", verb, err)
			}
		})
	}
	after, err := hikubeClient(t, "alice").AppsV1alpha1().Clusters(tenantA).Get(context.Background(), victim.Name, metav1.GetOptions{})
	if err != nil || after.ResourceVersion != victim.ResourceVersion {
		t.Errorf("tenant-a's cluster changed under bob's attempts: err=%v rv %s -> %s", err, victim.ResourceVersion, after.ResourceVersion)
	}
	// The same client works in bob's own tenant: the refusals above are RBAC, not a broken client.
	if err := verbs["list"](bob, tenantB, ""); err != nil {
		t.Errorf("bob cannot list clusters in his own tenant: %v", err)
	}
}

func TestTenantAdminCannotWriteStatus(t *testing.T) {
	c := createCluster(t, "alice", tenantA, newCluster("status-owned"))
	alice := hikubeClient(t, "alice").AppsV1alpha1().Clusters(tenantA)
	c.Status.Phase = "Ready"
	if _, err := alice.UpdateStatus(context.Background(), c, metav1.UpdateOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("alice writing status: want 403 Forbidden, got %v", err)
	}
	if _, err := alice.Get(context.Background(), c.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("alice reading her own cluster: %v", err)
	}
}

func TestUserWithoutRolesCannotListClusters(t *testing.T) {
	kc, err := env.Platform.NewUserKubeconfig("carol")
	if err != nil {
		t.Fatalf("kubeconfig for carol: %v", err)
	}
	r := kubectlAs(t, kc, "get", "clusters", "-n", tenantA)
	if r.Err == nil {
		t.Fatalf("carol (no roles) listed clusters:\n%s", r.Stdout)
	}
	if want := `User "carol" cannot list resource "clusters"`; !strings.Contains(r.Stderr, want) {
		t.Errorf("carol's error = %q, want it to contain %q", r.Stderr, want)
	}
	// Catalogs are readable by every authenticated user.
	if r := kubectlAs(t, kc, "get", "instancetypes"); r.Err != nil {
		t.Errorf("carol cannot read the instance-type catalog: %s", r.Stderr)
	}
}

// TestViewRoleExcludesKubeconfig: the view role sees clusters and may get a
// read-only kubeconfig, but not the kubeconfig subresource, which grants
// cluster-admin inside the cluster.
func TestViewRoleExcludesKubeconfig(t *testing.T) {
	for _, tc := range []struct {
		role, verb, resource string
		want                 string
	}{
		{"view", "get", "clusters", "yes"},
		{"view", "get", "clusters/kubeconfig", "no"},
		{"view", "get", "clusters/viewerkubeconfig", "yes"},
		{"view", "update", "clusters", "no"},
		{"edit", "get", "clusters/kubeconfig", "yes"},
		{"edit", "create", "clusters", "yes"},
		{"admin", "get", "clusters/kubeconfig", "yes"},
	} {
		got := canI(t, tc.role, tc.verb, tc.resource)
		if got != tc.want {
			t.Errorf("role %s: can-i %s %s = %s, want %s", tc.role, tc.verb, tc.resource, got, tc.want)
		}
	}
}

// canI binds a fresh user to a built-in role in tenant-a and asks kubectl auth can-i as admin impersonating it.
func canI(t *testing.T, role, verb, resource string) string {
	t.Helper()
	user := "role-" + role
	binding := "test-" + role
	if r := kubectlAs(t, "admin", "get", "rolebinding", binding, "-n", tenantA); r.Err != nil {
		mustKubectl(t, "admin", "create", "rolebinding", binding, "-n", tenantA, "--clusterrole", role, "--user", user)
		t.Cleanup(func() { kubectlAs(t, "admin", "delete", "rolebinding", binding, "-n", tenantA) })
	}
	args := []string{"auth", "can-i", verb, "-n", tenantA, "--as", user}
	res, sub, _ := strings.Cut(resource, "/")
	args = append(args, res+".apps.hikube.io")
	if sub != "" {
		args = append(args, "--subresource", sub)
	}
	// can-i exits 1 for "no"; the answer is on stdout either way.
	return strings.TrimSpace(kubectlAs(t, "admin", args...).Stdout)
}

// TestTenantCannotTouchReservedMetadata: the platform's labels and the
// controller's finalizer are not the tenant's to set or remove.
func TestTenantCannotTouchReservedMetadata(t *testing.T) {
	createCluster(t, "alice", tenantA, newCluster("reserved"))
	for _, patch := range []string{
		`{"metadata":{"labels":{"apps.hikube.io/tier":"gold"}}}`,
		`{"metadata":{"finalizers":["apps.hikube.io/cluster"]}}`,
	} {
		r := kubectlAs(t, "alice", "patch", "cluster", "reserved", "-n", tenantA, "--type=merge", "-p", patch)
		if r.Err == nil || !strings.Contains(r.Stderr, "reserved for the platform") {
			t.Errorf("alice patched %s: err=%v stderr=%q", patch, r.Err, r.Stderr)
		}
	}
	if out := mustKubectl(t, "alice", "label", "cluster", "reserved", "-n", tenantA, "team=a"); !strings.Contains(out, "labeled") {
		t.Errorf("alice cannot set her own labels: %q", out)
	}
}
