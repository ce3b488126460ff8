package cluster

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	storagev1ac "k8s.io/client-go/applyconfigurations/storage/v1"
	"k8s.io/client-go/kubernetes"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/clusterpki"
	hikubefake "github.com/hikube/hikube/pkg/generated/clientset/versioned/fake"
	"github.com/hikube/hikube/pkg/provider"
	"github.com/hikube/hikube/pkg/provider/providertest"
	"github.com/hikube/hikube/pkg/quota"
)

func TestFinalizerStep(t *testing.T) {
	for _, tc := range []struct {
		name      string
		have      []string
		want      []string
		wantWrite bool
	}{
		{"added to a new cluster", nil, []string{Finalizer}, true},
		{"added after the finalizers of others", []string{"example.com/backup"}, []string{"example.com/backup", Finalizer}, true},
		{"already there", []string{Finalizer}, []string{Finalizer}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := newCluster("u1")
			cl.Finalizers = tc.have
			hikube := hikubefake.NewSimpleClientset(cl)
			st, err := (&finalizerReconciler{clusters: apiClusterWriter{clusters: hikube.AppsV1alpha1()}}).reconcile(context.Background(), newState(cl))
			if err != nil || st != reconcileContinue {
				t.Fatalf("status %v err %v", st, err)
			}
			stored, err := hikube.AppsV1alpha1().Clusters("tenant-a").Get(context.Background(), "web", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(stored.Finalizers, tc.want) {
				t.Errorf("finalizers %v, want %v", stored.Finalizers, tc.want)
			}
			wrote := slices.ContainsFunc(hikube.Actions(), func(a clienttesting.Action) bool { return a.GetVerb() == "patch" })
			if wrote != tc.wantWrite {
				t.Errorf("patched: %v, want %v", wrote, tc.wantWrite)
			}
		})
	}
}

func TestPKIStep(t *testing.T) {
	ref := clusterpki.ClusterRef{Namespace: "tenant-a", Name: "web", UID: "u2"}
	old, err := clusterpki.Generate(clusterpki.ClusterRef{Namespace: "tenant-a", Name: "web", UID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	mine, err := clusterpki.Generate(ref)
	if err != nil {
		t.Fatal(err)
	}
	incomplete := clusterpki.ToSecret(ref, mine)
	delete(incomplete.Data, "ca.key")
	for _, tc := range []struct {
		name      string
		existing  *corev1.Secret
		failWrite error
		wantErr   string
		// wantCA is the CA the step must load; nil: a new one.
		wantCA []byte
	}{
		{name: "created for a new cluster"},
		{name: "kept for the same cluster", existing: clusterpki.ToSecret(ref, mine), wantCA: mine.CACert},
		{name: "a previous cluster's is replaced", existing: clusterpki.ToSecret(clusterpki.ClusterRef{Namespace: "tenant-a", Name: "web", UID: "u1"}, old)},
		{name: "an incomplete one is an error", existing: incomplete, wantErr: "lacks ca.key"},
		{name: "a failed create is an error", failWrite: apierrors.NewForbidden(corev1.Resource("secrets"), "x", errors.New("no")), wantErr: "forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var objs []runtime.Object
			if tc.existing != nil {
				tc.existing.UID = types.UID("secret-" + tc.existing.Labels[clusterpki.LabelClusterUID])
				objs = append(objs, tc.existing)
			}
			host := kubefake.NewClientset(objs...)
			if tc.failWrite != nil {
				host.PrependReactor("create", "secrets", func(clienttesting.Action) (bool, runtime.Object, error) { return true, nil, tc.failWrite })
			}
			s := newState(newCluster("u2"))
			st, err := (&pkiReconciler{secrets: host.CoreV1(), generate: clusterpki.Generate}).reconcile(context.Background(), s)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || st != reconcileStop {
					t.Fatalf("status %v err %v, want stop with %q", st, err, tc.wantErr)
				}
				return
			}
			if err != nil || st != reconcileContinue {
				t.Fatalf("status %v err %v", st, err)
			}
			sec, err := host.CoreV1().Secrets(clusterpki.Namespace).Get(context.Background(), "tenant-a.web.pki", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if sec.Labels[clusterpki.LabelClusterUID] != "u2" {
				t.Errorf("secret labelled for UID %q, want u2", sec.Labels[clusterpki.LabelClusterUID])
			}
			if !bytes.Equal(s.pki.CACert, sec.Data["ca.crt"]) {
				t.Error("the loaded CA is not the stored one")
			}
			if bytes.Equal(s.pki.CACert, old.CACert) {
				t.Error("the previous cluster's CA was handed to the new one")
			}
			if tc.wantCA != nil && !bytes.Equal(s.pki.CACert, tc.wantCA) {
				t.Error("the cluster's own CA was replaced")
			}
		})
	}
}

func TestControlPlaneStep(t *testing.T) {
	boom := errors.New("quota of the hypervisor exceeded")
	for _, tc := range []struct {
		name        string
		replicas    int32
		was         string // status.version before
		status      *provider.ControlPlaneStatus
		err         error
		wantStatus  reconcileStatus
		wantCond    metav1.ConditionStatus
		wantReason  string
		wantVersion string
		wantZones   []string
		wantEvent   string
	}{
		{name: "ready", replicas: 3, wantStatus: reconcileContinue, wantCond: metav1.ConditionTrue, wantReason: v1alpha1.ReasonControlPlaneRunning,
			wantVersion: "v1.37.0", wantZones: []string{"geneva", "lucerne", "gland"}},
		{name: "replicas beyond the datacenters take turns", replicas: 5, wantStatus: reconcileContinue, wantCond: metav1.ConditionTrue, wantReason: v1alpha1.ReasonControlPlaneRunning,
			wantVersion: "v1.37.0", wantZones: []string{"geneva", "lucerne", "gland", "geneva", "lucerne"}},
		{name: "starting", replicas: 1, status: &provider.ControlPlaneStatus{Replicas: 1}, wantStatus: reconcileStop,
			wantCond: metav1.ConditionFalse, wantReason: v1alpha1.ReasonControlPlaneStarting, wantZones: []string{"geneva"}},
		{name: "the provider's reason", replicas: 1, status: &provider.ControlPlaneStatus{Replicas: 1, Reason: "Restarting", Message: "etcd exited"}, wantStatus: reconcileStop,
			wantCond: metav1.ConditionFalse, wantReason: "Restarting", wantZones: []string{"geneva"}},
		{name: "a provider error", replicas: 1, err: boom, wantStatus: reconcileStop,
			wantCond: metav1.ConditionFalse, wantReason: v1alpha1.ReasonProviderError, wantZones: []string{"geneva"}},
		{name: "upgraded", replicas: 1, was: "v1.36.3", wantStatus: reconcileContinue, wantCond: metav1.ConditionTrue, wantReason: v1alpha1.ReasonControlPlaneRunning,
			wantVersion: "v1.37.0", wantZones: []string{"geneva"}, wantEvent: "Normal Upgraded Control plane upgraded from v1.36.3 to v1.37.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &providertest.Provider{}
			if tc.status != nil {
				p.ControlPlaneStatus = func(provider.ClusterRef, provider.ControlPlaneSpec) provider.ControlPlaneStatus { return *tc.status }
			}
			if tc.err != nil {
				p.Err = providertest.FailWith(tc.err, providertest.EnsureControlPlane)
			}
			events := record.NewFakeRecorder(10)
			cl := newCluster("u1")
			cl.Spec.ControlPlane.Replicas = ptr.To(tc.replicas)
			cl.Status.Version = tc.was
			s := newState(cl)
			s.pki = clusterpki.PKI{CACert: []byte("ca")}
			r := &controlPlaneReconciler{provider: p, recorder: events, resyncProgressing: time.Second}
			st, err := r.reconcile(context.Background(), s)
			if !errors.Is(err, tc.err) || st != tc.wantStatus {
				t.Fatalf("status %v err %v, want %v %v", st, err, tc.wantStatus, tc.err)
			}
			c := condition(&v1alpha1.Cluster{Status: s.status}, v1alpha1.ConditionControlPlaneReady)
			if c == nil || c.Status != tc.wantCond || c.Reason != tc.wantReason || c.ObservedGeneration != 1 {
				t.Errorf("ControlPlaneReady = %+v, want %s %s for generation 1", c, tc.wantCond, tc.wantReason)
			}
			if tc.err != nil && !strings.Contains(c.Message, tc.err.Error()) {
				t.Errorf("message %q lacks the provider's error", c.Message)
			}
			if s.status.Version != tc.wantVersion && !(tc.wantVersion == "" && s.status.Version == tc.was) {
				t.Errorf("version %q, want %q", s.status.Version, tc.wantVersion)
			}
			if tc.wantStatus == reconcileStop && tc.err == nil && s.requeue != time.Second {
				t.Errorf("requeue %s while starting, want 1s", s.requeue)
			}
			calls := p.Calls()
			if len(calls) != 1 {
				t.Fatalf("calls %v", p.Methods())
			}
			spec := calls[0].ControlPlane
			if spec.Minor != "v1.37" || spec.Replicas != tc.replicas || !slices.Equal(spec.Zones, tc.wantZones) || spec.Preset != "small" || string(spec.PKI.CACert) != "ca" {
				t.Errorf("asked for %+v, want v1.37, %d replicas in %v, preset small, the cluster's PKI", spec, tc.replicas, tc.wantZones)
			}
			var got []string
			for len(events.Events) > 0 {
				got = append(got, <-events.Events)
			}
			if (tc.wantEvent == "") != (len(got) == 0) || (tc.wantEvent != "" && got[0] != tc.wantEvent) {
				t.Errorf("events %v, want %q", got, tc.wantEvent)
			}
		})
	}
}

func TestTenantBootstrapStep(t *testing.T) {
	h := newHarness(t)
	s := newState(newCluster("u1"))
	r := &tenantBootstrapReconciler{tenants: h.tenants, now: time.Now}
	if st, err := r.reconcile(context.Background(), s); err != nil || st != reconcileContinue {
		t.Fatalf("status %v err %v", st, err)
	}
	kube := h.lastTenant()
	if s.tenant == nil || s.tenant.kube != kubernetes.Interface(kube) {
		t.Fatal("the tenant client was not handed to the next steps")
	}
	ctx := context.Background()
	if _, err := kube.RbacV1().ClusterRoles().Get(ctx, "hikube:cluster-viewer", metav1.GetOptions{}); err != nil {
		t.Errorf("viewer role: %v", err)
	}
	bindings, err := kube.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil || len(bindings.Items) == 0 {
		t.Errorf("bindings %v, %v", bindings, err)
	}
	classes, err := kube.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string]string{}
	for _, sc := range classes.Items {
		defaults[sc.Name] = sc.Annotations["storageclass.kubernetes.io/is-default-class"]
	}
	if want := map[string]string{"local": "false", "replicated": "true", "replicated-async": "false"}; !maps.Equal(defaults, want) {
		t.Errorf("storage classes (default?) %v, want %v", defaults, want)
	}

	// Cached while the endpoint stays, rebuilt when the provider moves it.
	if _, err := r.reconcile(ctx, newState(newCluster("u1"))); err != nil || len(h.built) != 1 {
		t.Fatalf("second reconcile: %v, %d clients built, want the cached one", err, len(h.built))
	}
	h.provider.Endpoint = func(provider.ClusterRef) string { return "https://moved.test:7443" }
	if _, err := r.reconcile(ctx, newState(newCluster("u1"))); err != nil || len(h.built) != 2 || h.built[1].host != "https://moved.test:7443" {
		t.Fatalf("after a move: %v, built %v, want a client for the new endpoint", err, h.built)
	}

	// Forgetting a cluster drops its clients, whatever their UID.
	if _, err := h.tenants.get(ctx, clusterpki.ClusterRef{Namespace: "tenant-a", Name: "web", UID: "u9"}); err != nil {
		t.Fatal(err)
	}
	h.tenants.forget("tenant-a", "web")
	if len(h.tenants.clients) != 0 {
		t.Errorf("clients left after forget: %v", h.tenants.clients)
	}

	h.provider.Err = providertest.FailWith(errors.New("no route"), providertest.AdminConfig)
	if st, err := r.reconcile(ctx, newState(newCluster("u1"))); err == nil || st != reconcileStop {
		t.Errorf("without admin access: status %v err %v, want stop with an error", st, err)
	}
}

func TestTenantBootstrapWaitsForTheViewRole(t *testing.T) {
	tenants := newTenantClients(
		(&providertest.Provider{}).AdminConfig,
		func(*rest.Config) (kubernetes.Interface, error) { return kubefake.NewClientset(), nil })
	st, err := (&tenantBootstrapReconciler{tenants: tenants, now: time.Now}).reconcile(context.Background(), newState(newCluster("u1")))
	if err == nil || !apierrors.IsNotFound(err) || st != reconcileStop {
		t.Errorf("status %v err %v, want stop until the tenant's role exists", st, err)
	}
}

func TestNodeGroupsStep(t *testing.T) {
	ready := func(name string) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{provider.LabelNodeGroup: "workers", LabelZone: "lucerne"}}}
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
		return n
	}
	boom := errors.New("no capacity")
	for _, tc := range []struct {
		name        string
		nodes       []runtime.Object
		notReady    bool
		err         error
		wantStatus  reconcileStatus
		wantReason  string
		wantNodes   int
		wantKept    []string
		wantEvent   string
		wantRequeue time.Duration
	}{
		{name: "a new group gets its minimum", wantStatus: reconcileContinue, wantReason: v1alpha1.ReasonNodesReady, wantNodes: 2, wantEvent: "BelowMin"},
		{name: "existing nodes are kept", nodes: []runtime.Object{ready("web-workers-aaaaa"), ready("web-workers-bbbbb")}, wantStatus: reconcileContinue,
			wantReason: v1alpha1.ReasonNodesReady, wantNodes: 2, wantKept: []string{"web-workers-aaaaa", "web-workers-bbbbb"}},
		{name: "nodes not ready yet", notReady: true, wantStatus: reconcileContinue, wantReason: v1alpha1.ReasonNodesNotReady, wantNodes: 2, wantEvent: "BelowMin", wantRequeue: time.Second},
		{name: "a provider error", err: boom, wantStatus: reconcileStop, wantReason: v1alpha1.ReasonProviderError, wantNodes: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &providertest.Provider{}
			if tc.notReady {
				p.NodeReady = func(provider.NodeSpec) bool { return false }
			}
			if tc.err != nil {
				p.Err = providertest.FailWith(tc.err, providertest.EnsureNodes)
			}
			events := record.NewFakeRecorder(10)
			s := newState(newCluster("u1"))
			s.tenant = &tenantClient{ref: s.ref, kube: kubefake.NewClientset(tc.nodes...)}
			r := &nodeGroupsReconciler{provider: p, configMaps: kubefake.NewClientset().CoreV1(), recorder: events,
				now: time.Now, scaleDownGrace: time.Minute, resyncProgressing: time.Second, empty: newEmptyNodes()}
			st, err := r.reconcile(context.Background(), s)
			if !errors.Is(err, tc.err) || st != tc.wantStatus {
				t.Fatalf("status %v err %v, want %v %v", st, err, tc.wantStatus, tc.err)
			}
			c := condition(&v1alpha1.Cluster{Status: s.status}, v1alpha1.ConditionNodeGroupsReady)
			if c == nil || c.Reason != tc.wantReason {
				t.Errorf("NodeGroupsReady = %+v, want reason %s", c, tc.wantReason)
			}
			calls := p.Calls()
			if len(calls) != 1 || len(calls[0].Nodes) != tc.wantNodes {
				t.Fatalf("calls %+v, want one EnsureNodes of %d nodes", calls, tc.wantNodes)
			}
			for _, n := range calls[0].Nodes {
				if n.Group != "workers" || n.Labels[LabelInstanceType] != "s1.large" || n.Labels[provider.LabelNodeGroup] != "workers" || n.Labels[LabelZone] != n.Zone {
					t.Errorf("node %+v lacks its group's labels", n)
				}
				if q := n.Capacity[corev1.ResourceCPU]; q.IsZero() {
					t.Errorf("node %s without CPU capacity", n.Name)
				}
			}
			for _, name := range tc.wantKept {
				if !slices.ContainsFunc(calls[0].Nodes, func(n provider.NodeSpec) bool { return n.Name == name && n.Zone == "lucerne" }) {
					t.Errorf("node %s was not kept in its zone: %+v", name, calls[0].Nodes)
				}
			}
			if tc.err == nil {
				g := s.status.NodeGroups["workers"]
				wantReady := int32(tc.wantNodes)
				if tc.notReady {
					wantReady = 0
				}
				if g.DesiredReplicas != int32(tc.wantNodes) || g.Replicas != int32(tc.wantNodes) || g.ReadyReplicas != wantReady {
					t.Errorf("group status %+v", g)
				}
			}
			var got []string
			for len(events.Events) > 0 {
				got = append(got, <-events.Events)
			}
			if tc.wantEvent != "" && !slices.ContainsFunc(got, func(e string) bool { return strings.HasPrefix(e, "Normal "+tc.wantEvent+" ") }) {
				t.Errorf("events %v, want a %s event", got, tc.wantEvent)
			}
			if s.requeue != tc.wantRequeue {
				t.Errorf("requeue %s, want %s", s.requeue, tc.wantRequeue)
			}
		})
	}
}

func TestNodeGroupsPlaceGPUNodesWhereTheInventoryHasThem(t *testing.T) {
	inv := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: quota.InventoryNamespace, Name: quota.InventoryName}}
	inv.Data = quota.FormatInventory(quota.Capacity{"l40s": {"gland": 8}})
	p := &providertest.Provider{}
	cl := newCluster("u1")
	cl.Spec.NodeGroups = map[string]v1alpha1.NodeGroup{"ml": {InstanceType: "u1.xlarge", MinReplicas: ptr.To[int32](2), MaxReplicas: ptr.To[int32](5), GPUs: []v1alpha1.GPU{{Name: "nvidia.com/L40S"}}}}
	s := newState(cl)
	s.tenant = &tenantClient{ref: s.ref, kube: kubefake.NewClientset()}
	r := &nodeGroupsReconciler{provider: p, configMaps: kubefake.NewClientset(inv).CoreV1(), recorder: record.NewFakeRecorder(10),
		now: time.Now, scaleDownGrace: time.Minute, resyncProgressing: time.Second, empty: newEmptyNodes()}
	if _, err := r.reconcile(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	nodes := p.Nodes("u1")
	if len(nodes) != 2 {
		t.Fatalf("nodes %+v, want 2", nodes)
	}
	for _, n := range nodes {
		if n.Zone != "gland" || len(n.Taints) != 1 || n.Taints[0].Key != TaintGPU {
			t.Errorf("GPU node %s in %s with taints %v, want gland and the GPU taint", n.Name, n.Zone, n.Taints)
		}
	}
}

func TestAddonsStep(t *testing.T) {
	notOurs := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "velero"}}
	placeholder := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "cert-manager", Namespace: "cert-manager", Labels: map[string]string{labelManaged: "true"}}}
	for _, tc := range []struct {
		name       string
		addons     v1alpha1.Addons
		existing   []runtime.Object
		wantFirst  map[string]v1alpha1.AddonState
		wantAfter  map[string]v1alpha1.AddonState
		wantReason string
	}{
		{name: "none", wantFirst: map[string]v1alpha1.AddonState{}, wantAfter: map[string]v1alpha1.AddonState{}, wantReason: v1alpha1.ReasonAddonsReady},
		{name: "an enabled add-on without its chart fails ChartUnavailable; the placeholder goes",
			addons:    v1alpha1.Addons{CertManager: &v1alpha1.Addon{Enabled: true, ValuesOverride: &runtime.RawExtension{Raw: []byte(`{"replicaCount":2}`)}}},
			existing:  []runtime.Object{placeholder},
			wantFirst: map[string]v1alpha1.AddonState{"certManager": v1alpha1.AddonInstalling},
			wantAfter: map[string]v1alpha1.AddonState{"certManager": v1alpha1.AddonFailed}, wantReason: v1alpha1.ReasonAddonsFailed},
		{name: "a disabled add-on whose namespace is not ours is left alone", addons: v1alpha1.Addons{Velero: &v1alpha1.Addon{Enabled: false}}, existing: []runtime.Object{notOurs},
			wantFirst: map[string]v1alpha1.AddonState{}, wantAfter: map[string]v1alpha1.AddonState{}, wantReason: v1alpha1.ReasonAddonsReady},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			kube := kubefake.NewClientset(tc.existing...)
			cl := newCluster("u1")
			cl.Spec.Addons = tc.addons
			r := newAddonsReconciler(ctx, DefaultAddonOptions(), record.NewFakeRecorder(10), time.Second, nil)
			var reason string
			states := func() map[string]v1alpha1.AddonState {
				s := newState(cl)
				s.tenant = &tenantClient{ref: s.ref, kube: kube}
				if st, err := r.reconcile(ctx, s); err != nil || st != reconcileContinue {
					t.Fatalf("status %v err %v", st, err)
				}
				got := map[string]v1alpha1.AddonState{}
				for k, v := range s.status.Addons {
					got[k] = v.State
					if v.State == v1alpha1.AddonFailed && (v.Reason != v1alpha1.ReasonChartUnavailable || !strings.Contains(v.Message, "no chart source")) {
						t.Errorf("%s: %s %q, want ChartUnavailable naming the missing source", k, v.Reason, v.Message)
					}
				}
				if c := condition(&v1alpha1.Cluster{Status: s.status}, v1alpha1.ConditionAddonsReady); c != nil {
					reason = c.Reason
				}
				return got
			}
			if got := states(); !maps.Equal(got, tc.wantFirst) {
				t.Errorf("first reconcile: add-ons %v, want %v", got, tc.wantFirst)
			}
			r.pool.Wait()
			if got := states(); !maps.Equal(got, tc.wantAfter) || reason != tc.wantReason {
				t.Errorf("after the jobs: add-ons %v, AddonsReady %s; want %v, %s", got, reason, tc.wantAfter, tc.wantReason)
			}
			if tc.addons.CertManager != nil {
				ns, err := kube.CoreV1().Namespaces().Get(ctx, "cert-manager", metav1.GetOptions{})
				if err != nil || ns.Labels[labelAddon] != "certManager" {
					t.Errorf("namespace %v, %v; want it labelled for the add-on", ns, err)
				}
				if _, err := kube.AppsV1().Deployments("cert-manager").Get(ctx, "cert-manager", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					t.Errorf("placeholder deployment: %v, want it removed", err)
				}
			}
			if _, err := kube.CoreV1().Namespaces().Get(ctx, "velero", metav1.GetOptions{}); len(tc.existing) > 0 && tc.existing[0] == notOurs && err != nil {
				t.Errorf("namespace not ours: %v, want it kept", err)
			}
		})
	}
}

func TestNodeGroupsStepCountsMachinesThatHaveNotJoined(t *testing.T) {
	p := &providertest.Provider{NodeReady: func(provider.NodeSpec) bool { return false }}
	s := newState(newCluster("u1"))
	s.tenant = &tenantClient{ref: s.ref, kube: kubefake.NewClientset()} // no Node joins
	r := &nodeGroupsReconciler{provider: p, configMaps: kubefake.NewClientset().CoreV1(), recorder: record.NewFakeRecorder(10),
		now: time.Now, scaleDownGrace: time.Minute, resyncProgressing: time.Second, empty: newEmptyNodes()}
	for range 3 {
		if _, err := r.reconcile(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	calls := p.Calls()
	if len(calls) != 3 {
		t.Fatalf("%d EnsureNodes calls, want 3", len(calls))
	}
	names := func(c providertest.Call) []string {
		var out []string
		for _, n := range c.Nodes {
			out = append(out, n.Name)
		}
		slices.Sort(out)
		return out
	}
	first := names(calls[0])
	if len(first) != 2 {
		t.Fatalf("first call asked for %v, want the group's minimum of 2", first)
	}
	for i, c := range calls[1:] {
		if got := names(c); !slices.Equal(got, first) {
			t.Errorf("reconcile %d asked for %v, want the same machines %v", i+2, got, first)
		}
	}
}

// Where each node that is not Ready stands goes into the condition, counted.
func TestNodeGroupsConditionSaysWhereNodesStand(t *testing.T) {
	s := newState(newCluster("u1"))
	specs := []provider.NodeSpec{{Name: "a", Group: "workers"}, {Name: "b", Group: "workers"}, {Name: "c", Group: "workers"}}
	observed := []provider.NodeStatus{
		{Name: "a", Group: "workers", Zone: "geneva", Ready: true},
		{Name: "b", Group: "workers", Zone: "lucerne", Progress: "booting"},
		{Name: "c", Group: "workers", Zone: "gland", Progress: "waiting for its disk"},
	}
	if reportNodeGroups(s, specs, observed) {
		t.Fatal("reported ready with two nodes not Ready")
	}
	c := condition(&v1alpha1.Cluster{Status: s.status}, v1alpha1.ConditionNodeGroupsReady)
	want := "waiting for nodes: workers 1/3 ready (1 booting, 1 waiting for its disk)"
	if c == nil || c.Message != want {
		t.Errorf("NodeGroupsReady = %+v, want message %q", c, want)
	}
}

// A pod still marked Unschedulable from before a node turned Ready asks for
// no new node while that node settles; once it has been Ready a while, the
// same pod is taken at its word and the group grows.
func TestNodeGroupsStepLetsANewNodeSettle(t *testing.T) {
	pending := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "x"},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m")}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable}}}}
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		readyFor  time.Duration
		wantNodes int
	}{{time.Second, 2}, {time.Minute, 3}} {
		node := func(name string) *corev1.Node {
			n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}}
			for k, v := range nodeTemplate(newCluster("u1"), "workers", newCluster("u1").Spec.NodeGroups["workers"], nil).Labels {
				n.Labels[k] = v
			}
			n.Labels[LabelZone] = "geneva"
			n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-tc.readyFor))}}
			return n
		}
		p := &providertest.Provider{}
		s := newState(newCluster("u1"))
		s.tenant = &tenantClient{ref: s.ref, kube: kubefake.NewClientset(pending, node("web-workers-aaaaa"), node("web-workers-bbbbb"))}
		r := &nodeGroupsReconciler{provider: p, configMaps: kubefake.NewClientset().CoreV1(), recorder: record.NewFakeRecorder(10),
			now: func() time.Time { return now }, scaleDownGrace: time.Hour, resyncProgressing: time.Second, empty: newEmptyNodes()}
		if _, err := r.reconcile(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		if calls := p.Calls(); len(calls) != 1 || len(calls[0].Nodes) != tc.wantNodes {
			t.Errorf("nodes Ready for %s: asked for %d nodes, want %d", tc.readyFor, len(calls[0].Nodes), tc.wantNodes)
		}
	}
}

// driverStorage is a provider's own volume driver, as the kubevirt
// provider's CSI driver is: the core asks it, knowing nothing of it.
type driverStorage struct{}

func (driverStorage) TenantStorageClass(class string) (string, map[string]string, bool) {
	if class == "local" {
		return "", nil, false
	}
	return "csi.example.com", map[string]string{"hostClass": "host-" + class}, true
}

func TestTenantStorageClassesComeFromTheProvidersDriver(t *testing.T) {
	byName := map[string]*storagev1ac.StorageClassApplyConfiguration{}
	for _, sc := range storageClasses("replicated", driverStorage{}) {
		byName[*sc.Name] = sc
	}
	if sc := byName["replicated-async"]; *sc.Provisioner != "csi.example.com" || !maps.Equal(sc.Parameters, map[string]string{"hostClass": "host-replicated-async"}) {
		t.Errorf("replicated-async: %s %v", *sc.Provisioner, sc.Parameters)
	}
	if sc := byName["replicated"]; sc.Annotations["storageclass.kubernetes.io/is-default-class"] != "true" {
		t.Errorf("the default class lost its annotation: %v", sc.Annotations)
	}
	// A class the driver leaves alone keeps the platform's provisioner.
	if sc := byName["local"]; *sc.Provisioner != "local.storage.hikube.io" {
		t.Errorf("local: %s", *sc.Provisioner)
	}
	if sc := storageClasses("replicated", nil)[1]; *sc.Provisioner != "replicated.storage.hikube.io" || sc.Parameters["replicas"] != "3" {
		t.Errorf("without a driver: %s %v", *sc.Provisioner, sc.Parameters)
	}
	var p provider.Provider = &providertest.Provider{}
	if tenantStorage(p) != nil {
		t.Error("a provider without a driver has tenant storage")
	}
}
