package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/clusterpki"
	"github.com/hikube/hikube/pkg/provider"
	"github.com/hikube/hikube/pkg/provider/kubevirt"
)

// seedControlPlane is the ref and ControlPlaneSpec the core hands the
// provider for one of the example clusters.
func seedControlPlane(t *testing.T, seed string) (provider.ClusterRef, provider.ControlPlaneSpec) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "artifacts", "examples", seed+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cl v1alpha1.Cluster
	if err := yaml.UnmarshalStrict(raw, &cl); err != nil {
		t.Fatal(err)
	}
	v1alpha1.SetObjectDefaults_Cluster(&cl)
	if cl.Spec.Version == "" {
		cl.Spec.Version = catalog.NewestVersion()
	}
	ref := provider.ClusterRef{Namespace: "tenant-cp", Name: cl.Name, UID: "7a1b2c3d-0000-4000-8000-00000000000" + seed[:1]}
	p, err := clusterpki.Generate(ref)
	if err != nil {
		t.Fatal(err)
	}
	return ref, provider.ControlPlaneSpec{Minor: cl.Spec.Version, Replicas: *cl.Spec.ControlPlane.Replicas, Zones: roundRobinZones(*cl.Spec.ControlPlane.Replicas), Preset: cl.Spec.ControlPlane.ResourcesPreset, PKI: p}
}

// TestKubeVirtControlPlaneObjectsPassTheRealAPIServer: every host object
// the kubevirt control-plane half writes for the seed's clusters (and the
// three-replica prod example) — Secrets, the etcd StatefulSet, the
// control-plane Deployment, Services, NetworkPolicies, PDBs, and the cloud
// provider's and CSI controller's Deployments, ServiceAccounts and RBAC — is
// applied server-side with dry-run, so the real kube-apiserver validates it.
func TestKubeVirtControlPlaneObjectsPassTheRealAPIServer(t *testing.T) {
	ctx := context.Background()
	// As admin: a dry run stores no Role, so RBAC could not check a
	// binding to one against the controller's own rights (the next test
	// writes them for real as the controller).
	cfg := rest.CopyConfig(restConfig(t, "admin"))
	cfg.WarningHandler = failOnWarning{t}
	cs := kubernetes.NewForConfigOrDie(cfg)
	cp := kubevirt.NewControlPlane(cs, kubevirt.ControlPlaneOptions{FieldManager: "hikube-controller"})
	for _, seed := range []string{"web", "ml", "production", "prod"} {
		t.Run(seed, func(t *testing.T) {
			ref, spec := seedControlPlane(t, seed)
			objs, err := cp.DesiredObjects(ref, spec, "203.0.113.10")
			if err != nil {
				t.Fatal(err)
			}
			// Namespaced objects need their namespace, even in a dry run.
			ns := kubevirt.HostNamespace(ref)
			if _, err := cs.CoreV1().Namespaces().Apply(ctx, objs.Namespace, metav1.ApplyOptions{FieldManager: "hikube-controller"}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
			kinds := map[string]int{}
			objs.Each(func(kind, _ string, _ any) { kinds[kind]++ })
			for _, kind := range []string{"Secret", "ConfigMap", "ServiceAccount", "Role", "RoleBinding", "Service", "NetworkPolicy", "PodDisruptionBudget", "StatefulSet", "Deployment"} {
				if kinds[kind] == 0 {
					t.Errorf("no %s among the objects", kind)
				}
			}
			if err := objs.Apply(ctx, cs, metav1.ApplyOptions{FieldManager: "hikube-controller", Force: true, DryRun: []string{metav1.DryRunAll}}); err != nil {
				t.Fatal(err)
			}
			// A dry run stores nothing.
			if _, err := cs.AppsV1().Deployments(ns).Get(ctx, ref.Name+"-control-plane", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("the dry run stored the Deployment: %v", err)
			}
		})
	}
}

// TestKubeVirtControlPlaneAgainstTheHost runs EnsureControlPlane against
// the real host kube-apiserver, as hikube-controller's ServiceAccount (which runs no workload controllers here, so
// no pod starts): it waits for the endpoint's ingress, writes everything
// once the ingress is there, changes nothing on the next call, and Delete
// removes the host namespace.
func TestKubeVirtControlPlaneAgainstTheHost(t *testing.T) {
	ctx := context.Background()
	cs := asController(t)
	admin := kubernetes.NewForConfigOrDie(restConfig(t, "admin"))
	cp := kubevirt.NewControlPlane(cs, kubevirt.ControlPlaneOptions{FieldManager: "hikube-controller"})
	ref, spec := seedControlPlane(t, "prod")
	ref.Name = "host-cp"
	ns := kubevirt.HostNamespace(ref)
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })

	st, err := cp.EnsureControlPlane(ctx, ref, spec)
	if err != nil {
		t.Fatal(err)
	}
	if st.Reason != kubevirt.ReasonWaitingForEndpoint || st.Terminal {
		t.Fatalf("before the ingress: %+v", st)
	}
	// Play the load balancer.
	svc, err := admin.CoreV1().Services(ns).Get(ctx, "host-cp-apiserver", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		t.Errorf("endpoint Service type %s", svc.Spec.Type)
	}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.10"}}
	if _, err := admin.CoreV1().Services(ns).UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err = cp.EnsureControlPlane(ctx, ref, spec)
	if err != nil {
		t.Fatal(err)
	}
	if st.Reason != kubevirt.ReasonEtcdStarting || st.Endpoint != "https://203.0.113.10:443" {
		t.Fatalf("with the ingress: %+v", st)
	}
	before := resourceVersions(t, admin, ns)
	if len(before) < 20 {
		t.Fatalf("only %d objects in %s: %v", len(before), ns, before)
	}
	if _, err := cp.EnsureControlPlane(ctx, ref, spec); err != nil {
		t.Fatal(err)
	}
	after := resourceVersions(t, admin, ns)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed on a second Ensure (resourceVersion %s → %s)", k, v, after[k])
		}
	}
	if cfg, err := cp.AdminConfig(ctx, ref); err != nil || cfg.Host != "https://203.0.113.10:443" {
		t.Errorf("admin config: %v", err)
	}

	eventually(t, time.Minute, "the host namespace to be deleted", func() bool {
		done, err := cp.Delete(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		return done
	})
	if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace %s: %v", ns, err)
	}
}

// asController is the host as hikube-controller reaches it: its
// ServiceAccount, with the RBAC the install chart gives it (the local
// platform applies the chart's roles).
func asController(t *testing.T) kubernetes.Interface {
	t.Helper()
	cfg := rest.CopyConfig(restConfig(t, "admin"))
	cfg.WarningHandler = failOnWarning{t}
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:hikube-system:hikube-controller",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:hikube-system", "system:authenticated"},
	}
	return kubernetes.NewForConfigOrDie(cfg)
}

// failOnWarning fails the test on any warning the API server returns
// (a duplicate port name, a deprecated field): the provider's objects
// must be clean, not merely accepted.
type failOnWarning struct{ t *testing.T }

func (f failOnWarning) HandleWarningHeader(code int, agent, text string) {
	f.t.Errorf("API server warning %d: %s", code, text)
}

// resourceVersions of every object the provider writes in ns, by kind/name.
func resourceVersions(t *testing.T, cs kubernetes.Interface, ns string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	add := func(kind string, items []metav1.Object, err error) {
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range items {
			if kind == "ServiceAccount" && o.GetName() == "default" {
				continue
			}
			out[kind+"/"+o.GetName()] = o.GetResourceVersion()
		}
	}
	opts := metav1.ListOptions{}
	s, err := cs.CoreV1().Secrets(ns).List(ctx, opts)
	add("Secret", objects(s.Items), err)
	cm, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: "apps.hikube.io/component"})
	add("ConfigMap", objects(cm.Items), err)
	sa, err := cs.CoreV1().ServiceAccounts(ns).List(ctx, opts)
	add("ServiceAccount", objects(sa.Items), err)
	r, err := cs.RbacV1().Roles(ns).List(ctx, opts)
	add("Role", objects(r.Items), err)
	rb, err := cs.RbacV1().RoleBindings(ns).List(ctx, opts)
	add("RoleBinding", objects(rb.Items), err)
	svc, err := cs.CoreV1().Services(ns).List(ctx, opts)
	add("Service", objects(svc.Items), err)
	np, err := cs.NetworkingV1().NetworkPolicies(ns).List(ctx, opts)
	add("NetworkPolicy", objects(np.Items), err)
	pdb, err := cs.PolicyV1().PodDisruptionBudgets(ns).List(ctx, opts)
	add("PodDisruptionBudget", objects(pdb.Items), err)
	sts, err := cs.AppsV1().StatefulSets(ns).List(ctx, opts)
	add("StatefulSet", objects(sts.Items), err)
	d, err := cs.AppsV1().Deployments(ns).List(ctx, opts)
	add("Deployment", objects(d.Items), err)
	return out
}

func objects[T any, P interface {
	*T
	metav1.Object
}](items []T) []metav1.Object {
	out := make([]metav1.Object, len(items))
	for i := range items {
		out[i] = P(&items[i])
	}
	return out
}

// roundRobinZones places n replicas over the datacenters as the core does.
func roundRobinZones(n int32) []string {
	zones := make([]string, n)
	for i := range zones {
		zones[i] = catalog.Datacenters[i%len(catalog.Datacenters)]
	}
	return zones
}
