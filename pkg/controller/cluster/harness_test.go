package cluster

import (
	"context"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/clusterpki"
	hikubefake "github.com/hikube/hikube/pkg/generated/clientset/versioned/fake"
	"github.com/hikube/hikube/pkg/provider/providertest"
	"github.com/hikube/hikube/pkg/tenantrbac"
)

// testOptions are the controller's defaults, spelled out so the tests can
// assert the requeue delays.
var testOptions = Options{ScaleDownGrace: 10 * time.Minute, ResyncReady: time.Second, ResyncProgressing: 250 * time.Millisecond}

// harness wires the reconcile steps to fakes: client-go fake clientsets for
// the clusters API and the host cluster, the in-memory provider, and a fresh
// fake clientset for every tenant client the core builds.
type harness struct {
	t        *testing.T
	hikube   *hikubefake.Clientset
	host     *kubefake.Clientset
	provider *providertest.Provider
	events   *record.FakeRecorder
	r        *reconciler
	tenants  *tenantClients
	now      time.Time
	// tenantObjects are put in every tenant cluster built from now on.
	tenantObjects []runtime.Object
	// built are the tenant clients the core built, oldest first.
	built []builtTenant
}

type builtTenant struct {
	host string
	kube *kubefake.Clientset
}

func newHarness(t *testing.T, hostObjects ...runtime.Object) *harness {
	t.Helper()
	h := &harness{
		t:        t,
		hikube:   hikubefake.NewSimpleClientset(),
		host:     kubefake.NewClientset(hostObjects...),
		provider: &providertest.Provider{},
		events:   record.NewFakeRecorder(1000),
		now:      time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC),
	}
	h.r, h.tenants = newReconciler(wiring{
		clusters:        apiClusterWriter{clusters: h.hikube.AppsV1alpha1()},
		core:            h.host.CoreV1(),
		provider:        h.provider,
		recorder:        h.events,
		newTenantClient: h.newTenantClient,
		generatePKI:     clusterpki.Generate,
		now:             func() time.Time { return h.now },
		opts:            testOptions,
	})
	return h
}

// newTenantClient stands for the API of a tenant cluster: it holds the
// bootstrap role the viewer role copies, as a real one does.
func (h *harness) newTenantClient(cfg *rest.Config) (kubernetes.Interface, error) {
	objs := append([]runtime.Object{&rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: tenantrbac.SourceViewRole},
		Rules:      []rbacv1.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}},
	}}, h.tenantObjects...)
	cs := kubefake.NewClientset(objs...)
	h.built = append(h.built, builtTenant{host: cfg.Host, kube: cs})
	return cs, nil
}

// lastTenant is the tenant client built last.
func (h *harness) lastTenant() *kubefake.Clientset {
	h.t.Helper()
	if len(h.built) == 0 {
		h.t.Fatal("no tenant client was built")
	}
	return h.built[len(h.built)-1].kube
}

// newCluster is tenant-a/web: three control-plane replicas, a group of two
// to four s1.large workers, replicated storage by default.
func newCluster(uid string) *v1alpha1.Cluster {
	return &v1alpha1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-a", Name: "web", UID: types.UID(uid), Generation: 1},
		Spec: v1alpha1.ClusterSpec{
			Version:      "v1.37",
			ControlPlane: v1alpha1.ControlPlaneSpec{Replicas: ptr.To[int32](3), ResourcesPreset: "small"},
			StorageClass: "replicated",
			NodeGroups: map[string]v1alpha1.NodeGroup{
				"workers": {InstanceType: "s1.large", MinReplicas: ptr.To[int32](2), MaxReplicas: ptr.To[int32](4)},
			},
		},
	}
}

func (h *harness) create(cl *v1alpha1.Cluster) {
	h.t.Helper()
	if _, err := h.hikube.AppsV1alpha1().Clusters(cl.Namespace).Create(context.Background(), cl, metav1.CreateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) update(cl *v1alpha1.Cluster) {
	h.t.Helper()
	if _, err := h.hikube.AppsV1alpha1().Clusters(cl.Namespace).Update(context.Background(), cl, metav1.UpdateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

// get reads tenant-a/web back from the fake API; nil when it is gone.
func (h *harness) get() *v1alpha1.Cluster {
	h.t.Helper()
	cl, err := h.hikube.AppsV1alpha1().Clusters("tenant-a").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return cl
}

// reconcile runs one reconcile of tenant-a/web as the controller would: on
// a copy of what the API holds.
func (h *harness) reconcile() (time.Duration, error) {
	h.t.Helper()
	cl := h.get()
	if cl == nil {
		h.t.Fatal("cluster tenant-a/web does not exist")
	}
	return h.r.reconcile(context.Background(), cl.DeepCopy())
}

// pkiSecret returns the PKI Secret of tenant-a/web, nil without one.
func (h *harness) pkiSecret() (*clusterpki.PKI, string) {
	h.t.Helper()
	sec, err := h.host.CoreV1().Secrets(clusterpki.Namespace).Get(context.Background(), "tenant-a.web.pki", metav1.GetOptions{})
	if err != nil {
		return nil, ""
	}
	p, err := clusterpki.FromSecret(sec)
	if err != nil {
		h.t.Fatal(err)
	}
	return &p, sec.Labels[clusterpki.LabelClusterUID]
}

// drainEvents returns the events recorded so far, "Type Reason message" each.
func (h *harness) drainEvents() []string {
	var out []string
	for {
		select {
		case e := <-h.events.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func condition(cl *v1alpha1.Cluster, typ string) *metav1.Condition {
	for i := range cl.Status.Conditions {
		if cl.Status.Conditions[i].Type == typ {
			return &cl.Status.Conditions[i]
		}
	}
	return nil
}
