package kubevirt

import (
	"context"
	"crypto/x509"
	"errors"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/clusterpki"
	"github.com/hikube/hikube/pkg/pki"
	"github.com/hikube/hikube/pkg/provider"
)

// cpHarness is the control-plane half on a fake host, with a probe that
// answers what the test says and a fake tenant.
type cpHarness struct {
	t       *testing.T
	host    *fake.Clientset
	tenant  *fake.Clientset
	cp      *ControlPlane
	ref     provider.ClusterRef
	spec    provider.ControlPlaneSpec
	version string // what /version answers; "" fails the probe
	probes  int
}

func newCPHarness(t *testing.T, opts ControlPlaneOptions) *cpHarness {
	t.Helper()
	h := &cpHarness{t: t, host: fake.NewClientset(), tenant: fake.NewClientset(),
		ref: provider.ClusterRef{Namespace: "tenant-a", Name: "web", UID: "u-1"}}
	p, err := clusterpki.Generate(h.ref)
	if err != nil {
		t.Fatal(err)
	}
	h.spec = provider.ControlPlaneSpec{Minor: "v1.36", Replicas: 3, Zones: []string{"geneva", "lucerne", "gland"}, Preset: "small", PKI: p}
	opts.Probe = func(ctx context.Context, cfg *rest.Config) (string, error) {
		h.probes++
		if cfg.Host != "https://203.0.113.10:443" && cfg.Host != "https://198.51.100.7:443" {
			return "", errors.New("probe at an unexpected host " + cfg.Host)
		}
		if h.version == "" {
			return "", errors.New("connection refused")
		}
		return h.version, nil
	}
	opts.TenantClient = func(*rest.Config) (kubernetes.Interface, error) { return h.tenant, nil }
	h.cp = NewControlPlane(h.host, opts)
	return h
}

func (h *cpHarness) ensure() provider.ControlPlaneStatus {
	h.t.Helper()
	st, err := h.cp.EnsureControlPlane(context.Background(), h.ref, h.spec)
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

func (h *cpHarness) ns() string { return HostNamespace(h.ref) }

// giveIngress plays the load balancer: the endpoint Service gets ip.
func (h *cpHarness) giveIngress(ip string) {
	h.t.Helper()
	svc, err := h.host.CoreV1().Services(h.ns()).Get(context.Background(), "web-apiserver", metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
	if _, err := h.host.CoreV1().Services(h.ns()).UpdateStatus(context.Background(), svc, metav1.UpdateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *cpHarness) statefulSet() *appsv1.StatefulSet {
	h.t.Helper()
	s, err := h.host.AppsV1().StatefulSets(h.ns()).Get(context.Background(), "web-etcd", metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

func (h *cpHarness) deployment(name string) *appsv1.Deployment {
	h.t.Helper()
	d, err := h.host.AppsV1().Deployments(h.ns()).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

// etcdStatus plays the StatefulSet controller: ready members, and whether
// they run the current revision.
func (h *cpHarness) etcdStatus(ready int32, current bool) {
	h.t.Helper()
	s := h.statefulSet()
	s.Status = appsv1.StatefulSetStatus{Replicas: *s.Spec.Replicas, ReadyReplicas: ready, UpdatedReplicas: *s.Spec.Replicas,
		CurrentRevision: "r1", UpdateRevision: "r1"}
	if !current {
		s.Status.UpdateRevision, s.Status.UpdatedReplicas = "r2", 0
	}
	if _, err := h.host.AppsV1().StatefulSets(h.ns()).UpdateStatus(context.Background(), s, metav1.UpdateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

// deployStatus plays the Deployment controller.
func (h *cpHarness) deployStatus(updated, ready int32) {
	h.t.Helper()
	d := h.deployment("web-control-plane")
	d.Status = appsv1.DeploymentStatus{Replicas: *d.Spec.Replicas, UpdatedReplicas: updated, ReadyReplicas: ready, AvailableReplicas: ready}
	if _, err := h.host.AppsV1().Deployments(h.ns()).UpdateStatus(context.Background(), d, metav1.UpdateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

func containerOf(d *appsv1.Deployment, name string) corev1.Container {
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == name {
			return c
		}
	}
	return corev1.Container{}
}

// bringUp takes a new control plane to Ready at h.spec.Minor.
func (h *cpHarness) bringUp() provider.ControlPlaneStatus {
	h.t.Helper()
	h.ensure()
	h.giveIngress("203.0.113.10")
	h.ensure()
	h.etcdStatus(3, true)
	h.deployStatus(3, 3)
	h.version = DefaultVersions[h.spec.Minor]
	st := h.ensure()
	if !st.Ready {
		h.t.Fatalf("not Ready after bring-up: %+v", st)
	}
	return st
}

func TestEnsureWaitsForTheEndpointBeforeTheAPIServers(t *testing.T) {
	h := newCPHarness(t, ControlPlaneOptions{})
	st := h.ensure()
	if st.Ready || st.Reason != ReasonWaitingForEndpoint || st.Endpoint != "" || st.Terminal {
		t.Fatalf("status before the ingress: %+v", st)
	}
	if !strings.Contains(st.Message, "LoadBalancer Service hikube-tenant-a-web/web-apiserver") {
		t.Errorf("message %q does not name the Service", st.Message)
	}
	// etcd starts meanwhile; nothing that serves the API exists yet.
	if s := h.statefulSet(); *s.Spec.Replicas != 3 {
		t.Errorf("etcd members = %d, want 3 for 3 replicas", *s.Spec.Replicas)
	}
	if _, err := h.host.AppsV1().Deployments(h.ns()).Get(context.Background(), "web-control-plane", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the control-plane Deployment exists before its certificate can name the endpoint: %v", err)
	}
	if _, err := h.host.CoreV1().Secrets(h.ns()).Get(context.Background(), "web-apiserver-certs", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the apiserver certificates exist before the endpoint: %v", err)
	}

	h.giveIngress("203.0.113.10")
	st = h.ensure()
	if st.Ready || st.Reason != ReasonEtcdStarting || st.Endpoint != "https://203.0.113.10:443" {
		t.Fatalf("status with the ingress, etcd not ready: %+v", st)
	}
	d := h.deployment("web-control-plane")
	if *d.Spec.Replicas != 3 || containerOf(d, "kube-apiserver").Image != "registry.k8s.io/kube-apiserver:v1.36.3" {
		t.Errorf("deployment replicas %d image %s", *d.Spec.Replicas, containerOf(d, "kube-apiserver").Image)
	}
	args := strings.Join(containerOf(d, "kube-apiserver").Args, " ")
	for _, want := range []string{"--enable-bootstrap-token-auth=true", "--enable-admission-plugins=NodeRestriction", "--advertise-address=203.0.113.10"} {
		if !strings.Contains(args, want) {
			t.Errorf("kube-apiserver lacks %s", want)
		}
	}
	if !strings.Contains(strings.Join(containerOf(d, "kube-controller-manager").Args, " "), "--controllers=*,bootstrapsigner,tokencleaner") {
		t.Error("kube-controller-manager lacks the bootstrap-token controllers")
	}

	h.etcdStatus(3, true)
	st = h.ensure()
	if st.Ready || st.Reason != ReasonStarting || st.ReadyReplicas != 0 || h.probes != 0 {
		t.Fatalf("status with etcd ready, no apiserver ready: %+v (probes %d)", st, h.probes)
	}
	h.deployStatus(3, 3)
	st = h.ensure()
	if st.Ready || st.Reason != ReasonStarting || !strings.Contains(st.Message, "connection refused") {
		t.Fatalf("status while the endpoint does not answer: %+v", st)
	}
	h.version = "v1.36.3"
	st = h.ensure()
	want := provider.ControlPlaneStatus{Endpoint: "https://203.0.113.10:443", Version: "v1.36.3", Replicas: 3, ReadyReplicas: 3, Ready: true}
	if st != want {
		t.Fatalf("status = %+v, want %+v", st, want)
	}
	// The cloud provider and the CSI controller got their tenant roles; a
	// tenant that refuses them keeps the control plane from Ready.
	h.tenant.PrependReactor("patch", "clusterroles", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("etcdserver: request timed out")
	})
	if st := h.ensure(); st.Ready || !strings.Contains(st.Message, "rights in the tenant: ") {
		t.Errorf("with the tenant refusing the roles: %+v", st)
	}
	h.tenant.ReactionChain = h.tenant.ReactionChain[1:]
	for _, name := range []string{"hikube:kubevirt-cloud-controller-manager", "hikube:kubevirt-csi-controller"} {
		if _, err := h.tenant.RbacV1().ClusterRoleBindings().Get(context.Background(), name, metav1.GetOptions{}); err != nil {
			t.Errorf("tenant binding %s: %v", name, err)
		}
	}
}

// snapshot is what a second Ensure must leave alone.
type snapshot struct {
	secrets map[string]map[string][]byte
	specs   map[string]any
}

func (h *cpHarness) snapshot() snapshot {
	h.t.Helper()
	ctx := context.Background()
	s := snapshot{secrets: map[string]map[string][]byte{}, specs: map[string]any{}}
	secrets, err := h.host.CoreV1().Secrets(h.ns()).List(ctx, metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, x := range secrets.Items {
		s.secrets[x.Name] = x.Data
	}
	deploys, _ := h.host.AppsV1().Deployments(h.ns()).List(ctx, metav1.ListOptions{})
	for _, x := range deploys.Items {
		s.specs["deploy/"+x.Name] = x.Spec
		s.specs["deploy-annotations/"+x.Name] = x.Annotations
	}
	sets, _ := h.host.AppsV1().StatefulSets(h.ns()).List(ctx, metav1.ListOptions{})
	for _, x := range sets.Items {
		s.specs["sts/"+x.Name] = x.Spec
	}
	svcs, _ := h.host.CoreV1().Services(h.ns()).List(ctx, metav1.ListOptions{})
	for _, x := range svcs.Items {
		s.specs["svc/"+x.Name] = x.Spec
	}
	return s
}

func TestASecondEnsureChangesNothing(t *testing.T) {
	h := newCPHarness(t, ControlPlaneOptions{})
	h.bringUp()
	before := h.snapshot()
	if len(before.secrets) != 8 {
		t.Errorf("%d secrets, want 8: %v", len(before.secrets), before.secrets)
	}
	if st := h.ensure(); !st.Ready {
		t.Fatalf("not Ready on the second call: %+v", st)
	}
	after := h.snapshot()
	for name, data := range before.secrets {
		if !reflect.DeepEqual(after.secrets[name], data) {
			t.Errorf("secret %s changed on a second Ensure", name)
		}
	}
	for k, v := range before.specs {
		if !reflect.DeepEqual(after.specs[k], v) {
			t.Errorf("%s changed on a second Ensure", k)
		}
	}
}

func TestANewIngressAddressReissuesOnlyWhatNamesIt(t *testing.T) {
	h := newCPHarness(t, ControlPlaneOptions{})
	h.bringUp()
	before := h.snapshot()
	h.giveIngress("198.51.100.7")
	st := h.ensure()
	if st.Endpoint != "https://198.51.100.7:443" {
		t.Errorf("endpoint %s after the ingress moved", st.Endpoint)
	}
	after := h.snapshot()
	api := after.secrets["web-apiserver-certs"]
	if reflect.DeepEqual(api["apiserver.crt"], before.secrets["web-apiserver-certs"]["apiserver.crt"]) {
		t.Fatal("the serving certificate does not name the new address")
	}
	certs, err := pki.ParseCertsPEM(api["apiserver.crt"])
	if err != nil || len(certs) == 0 || !slicesContainIP(certs[0], "198.51.100.7") || slicesContainIP(certs[0], "203.0.113.10") {
		t.Errorf("serving certificate IPs %v", certs[0].IPAddresses)
	}
	for _, key := range []string{"front-proxy-client.crt", "etcd-client.crt"} {
		if !reflect.DeepEqual(api[key], before.secrets["web-apiserver-certs"][key]) {
			t.Errorf("%s was issued anew, although nothing in it changed", key)
		}
	}
	if !reflect.DeepEqual(after.secrets["web-etcd-certs"], before.secrets["web-etcd-certs"]) ||
		!reflect.DeepEqual(after.secrets["web-controller-manager"], before.secrets["web-controller-manager"]) {
		t.Error("etcd's or the controller manager's secret changed with the endpoint")
	}
	kc, err := clientcmd.Load(after.secrets["web-admin-kubeconfig"]["kubeconfig"])
	if err != nil {
		t.Fatal(err)
	}
	if kc.Clusters["tenant"].Server != "https://198.51.100.7:443" {
		t.Errorf("admin kubeconfig server %s", kc.Clusters["tenant"].Server)
	}
	old, _ := clientcmd.Load(before.secrets["web-admin-kubeconfig"]["kubeconfig"])
	if !reflect.DeepEqual(kc.AuthInfos, old.AuthInfos) {
		t.Error("the admin's client certificate was issued anew for a new server address")
	}
}

func slicesContainIP(c *x509.Certificate, ip string) bool {
	for _, a := range c.IPAddresses {
		if a.String() == ip {
			return true
		}
	}
	return false
}

func TestEveryPresetHasResourcesThatFitIt(t *testing.T) {
	if len(Presets) != len(apps.ControlPlanePresets) {
		t.Fatalf("%d presets in the table, the API has %d", len(Presets), len(apps.ControlPlanePresets))
	}
	for i, name := range apps.ControlPlanePresets {
		p, err := LookupPreset(name)
		if err != nil || Presets[i].Name != name {
			t.Fatalf("preset %s: %v (table order %s)", name, err, Presets[i].Name)
		}
		var cpu, mem int64
		for _, c := range []string{containerAPIServer, containerControllerManager, containerScheduler} {
			r := resourcesFor(p, c)
			cpu += r.Requests.Cpu().MilliValue()
			mem += r.Requests.Memory().Value()
			if r.Limits.Memory().Cmp(*r.Requests.Memory()) < 0 {
				t.Errorf("%s/%s: limit below request", name, c)
			}
		}
		if want := mustQuantity(p.CPURequest); cpu != want.MilliValue() {
			t.Errorf("%s: containers request %dm cpu, the preset %s", name, cpu, p.CPURequest)
		}
		if want := mustQuantity(p.MemoryRequest); mem > want.Value() || mem < want.Value()*99/100 {
			t.Errorf("%s: containers request %d bytes, the preset %s", name, mem, p.MemoryRequest)
		}
	}
	if _, err := LookupPreset("huge"); err == nil {
		t.Error("an unknown preset was found")
	}
}

func TestTenantStorageClassesMapToHostClassesThroughTheCSIDriver(t *testing.T) {
	h := newCPHarness(t, ControlPlaneOptions{StorageClasses: map[string]string{"local": "local-path", "replicated-async": "linstor-async"}})
	for _, class := range catalog.StorageClasses {
		prov, params, ok := h.cp.TenantStorageClass(class)
		want := map[string]string{"local": "local-path", "replicated": "replicated", "replicated-async": "linstor-async"}[class]
		if !ok || prov != CSIProvisioner || params["infraStorageClassName"] != want || params["bus"] != "scsi" {
			t.Errorf("%s: %s %v %v", class, prov, params, ok)
		}
	}
	// Through Compose too, which is how the core sees the provider.
	p := provider.Compose(h.cp, NewNodes(h.host, nil, TenantOf(h.cp), NodesOptions{}))
	ts, ok := p.(provider.TenantStorage)
	if !ok {
		t.Fatal("the composed provider has no TenantStorage")
	}
	if prov, _, ok := ts.TenantStorageClass("replicated"); !ok || prov != CSIProvisioner {
		t.Errorf("composed: %s %v", prov, ok)
	}
}

func TestAdminConfigAndJoinEndpointComeFromTheHost(t *testing.T) {
	h := newCPHarness(t, ControlPlaneOptions{})
	ctx := context.Background()
	if _, _, _, err := h.cp.JoinEndpoint(ctx, h.ref); err == nil {
		t.Error("a join endpoint before the control plane exists")
	}
	h.bringUp()
	cfg, err := h.cp.AdminConfig(ctx, h.ref)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://203.0.113.10:443" || string(cfg.CAData) != string(h.spec.PKI.CACert) || len(cfg.CertData) == 0 {
		t.Errorf("admin config host %s", cfg.Host)
	}
	certs, err := pki.ParseCertsPEM(cfg.CertData)
	if err != nil || certs[0].Subject.Organization[0] != "system:masters" {
		t.Errorf("admin certificate %v %v", certs, err)
	}
	endpoint, ca, minor, err := h.cp.JoinEndpoint(ctx, h.ref)
	if err != nil || endpoint != "203.0.113.10:443" || string(ca) != string(h.spec.PKI.CACert) || minor != "v1.36" {
		t.Errorf("join endpoint %s minor %s err %v", endpoint, minor, err)
	}
}

func TestDeleteRemovesTheHostNamespace(t *testing.T) {
	h := newCPHarness(t, ControlPlaneOptions{})
	h.bringUp()
	done, err := h.cp.Delete(context.Background(), h.ref)
	if err != nil || !done {
		t.Fatalf("Delete = %v, %v", done, err)
	}
	if _, err := h.host.CoreV1().Namespaces().Get(context.Background(), h.ns(), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("host namespace left: %v", err)
	}
	// The workloads go first (the fake clientset plays no namespace
	// controller: their removal is seen as the calls made).
	var collections []string
	for _, a := range h.host.Actions() {
		if a.GetVerb() == "delete-collection" {
			collections = append(collections, a.GetResource().Resource)
		}
	}
	if strings.Join(collections, ",") != "deployments,statefulsets" {
		t.Errorf("collections deleted: %v", collections)
	}
	// Again, with nothing left: done at once.
	if done, err := h.cp.Delete(context.Background(), h.ref); err != nil || !done {
		t.Errorf("second Delete = %v, %v", done, err)
	}
}

func TestOneOrTwoReplicasGetOneEtcdMemberAndAnExistingCountStays(t *testing.T) {
	h := newCPHarness(t, ControlPlaneOptions{})
	h.spec.Replicas = 2
	h.ensure()
	if n := *h.statefulSet().Spec.Replicas; n != 1 {
		t.Fatalf("members = %d for 2 replicas, want 1", n)
	}
	h.spec.Replicas = 3
	h.ensure()
	if n := *h.statefulSet().Spec.Replicas; n != 1 {
		t.Errorf("members = %d after scaling the control plane: etcd membership must not change by a StatefulSet scale", n)
	}
}

// The longest cluster name the API allows still gives valid names: every
// object name, the etcd members' host names and DNS labels, and the
// StatefulSet's revision label (<name>-<10 characters>) fit 63 characters.
func TestTheLongestClusterNameGivesValidNames(t *testing.T) {
	ref := provider.ClusterRef{Namespace: "tenant-with-a-rather-long-name", Name: strings.Repeat("c", apps.MaxClusterNameLength), UID: "0123456789ab"}
	p, err := clusterpki.Generate(ref)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := NewControlPlane(nil, ControlPlaneOptions{}).DesiredObjects(ref,
		provider.ControlPlaneSpec{Minor: "v1.37", Replicas: 3, Preset: "small", PKI: p}, "203.0.113.10")
	if err != nil {
		t.Fatal(err)
	}
	objs.Each(func(kind, name string, _ any) {
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
			t.Errorf("%s %s: %v", kind, name, errs)
		}
		if kind == "StatefulSet" && len(name)+11 > 63 {
			t.Errorf("StatefulSet %s leaves no room for its revision label", name)
		}
	})
	n := namesOf(ref)
	for i := range 3 {
		for _, label := range strings.Split(n.etcdMember(i), ".") {
			if errs := validation.IsDNS1123Label(label); len(errs) > 0 {
				t.Errorf("member %d label %q: %v", i, label, errs)
			}
		}
	}
}
