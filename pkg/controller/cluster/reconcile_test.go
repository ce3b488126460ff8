package cluster

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clienttesting "k8s.io/client-go/testing"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/provider"
	"github.com/hikube/hikube/pkg/provider/providertest"
)

func TestANewClusterBecomesReady(t *testing.T) {
	h := newHarness(t)
	h.create(newCluster("u1"))
	requeue, err := h.reconcile()
	if err != nil {
		t.Fatal(err)
	}
	cl := h.get()
	if cl.Status.Phase != v1alpha1.ClusterReady || cl.Status.ObservedGeneration != 1 {
		t.Fatalf("phase %s, observedGeneration %d; want Ready, 1: %+v", cl.Status.Phase, cl.Status.ObservedGeneration, cl.Status.Conditions)
	}
	for _, typ := range []string{v1alpha1.ConditionReady, v1alpha1.ConditionControlPlaneReady, v1alpha1.ConditionNodeGroupsReady, v1alpha1.ConditionAddonsReady} {
		if c := condition(cl, typ); c == nil || c.Status != metav1.ConditionTrue {
			t.Errorf("condition %s = %+v, want True", typ, c)
		}
	}
	if cl.Status.Version != "v1.37.0" || cl.Status.Endpoint != "https://web.tenant-a.test:6443" {
		t.Errorf("version %q endpoint %q", cl.Status.Version, cl.Status.Endpoint)
	}
	if requeue != testOptions.ResyncReady {
		t.Errorf("requeue after %s, want the Ready resync %s", requeue, testOptions.ResyncReady)
	}
	want := []string{"EnsureControlPlane tenant-a/web", "AdminConfig tenant-a/web", "EnsureNodes tenant-a/web"}
	if got := h.provider.Methods(); !slices.Equal(got, want) {
		t.Errorf("provider calls %v, want %v", got, want)
	}
	if !slices.Contains(h.drainEvents(), "Normal PhaseReady Phase <none> → Ready") {
		t.Error("no event for the phase change")
	}
}

func TestTheFinalizerComesBeforeAnySideEffect(t *testing.T) {
	for _, tc := range []struct {
		name         string
		failPatch    error
		wantErr      bool
		wantFinal    bool
		wantProvider bool
	}{
		{"the finalizer write fails", apierrors.NewConflict(v1alpha1.Resource("clusters"), "web", errors.New("changed")), true, false, false},
		{"the finalizer is written", nil, false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.create(newCluster("u1"))
			// Every side effect, in order: the finalizer patch, a Secret
			// created in the host, a provider call.
			var effects []string
			h.hikube.PrependReactor("patch", "clusters", func(a clienttesting.Action) (bool, runtime.Object, error) {
				effects = append(effects, "finalizer")
				return tc.failPatch != nil, nil, tc.failPatch
			})
			h.host.PrependReactor("create", "secrets", func(a clienttesting.Action) (bool, runtime.Object, error) {
				effects = append(effects, "secret")
				return false, nil, nil
			})
			h.provider.Err = func(m string, _ provider.ClusterRef) error {
				effects = append(effects, m)
				return nil
			}
			_, err := h.reconcile()
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if len(effects) == 0 || effects[0] != "finalizer" {
				t.Fatalf("side effects %v: the finalizer must come first", effects)
			}
			if !tc.wantProvider && len(effects) != 1 {
				t.Errorf("side effects %v after a failed finalizer write, want none", effects)
			}
			if tc.wantProvider && !slices.Contains(effects, providertest.EnsureControlPlane) {
				t.Errorf("side effects %v: the control plane was never asked for", effects)
			}
			if got := slices.Contains(h.get().Finalizers, Finalizer); got != tc.wantFinal {
				t.Errorf("finalizer stored: %v, want %v", got, tc.wantFinal)
			}
		})
	}
}

func TestAProviderErrorIsTransient(t *testing.T) {
	boom := errors.New("the hypervisor is busy")
	for _, tc := range []struct {
		name      string
		ready     bool // the cluster was Ready before
		method    string
		wantCond  string
		wantPhase v1alpha1.ClusterPhase
	}{
		{"control plane of a new cluster", false, providertest.EnsureControlPlane, v1alpha1.ConditionControlPlaneReady, v1alpha1.ClusterProvisioning},
		{"nodes of a new cluster", false, providertest.EnsureNodes, v1alpha1.ConditionNodeGroupsReady, v1alpha1.ClusterProvisioning},
		{"nodes of a Ready cluster", true, providertest.EnsureNodes, v1alpha1.ConditionNodeGroupsReady, v1alpha1.ClusterScaling},
		{"control plane of a Ready cluster", true, providertest.EnsureControlPlane, v1alpha1.ConditionControlPlaneReady, v1alpha1.ClusterProvisioning},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.create(newCluster("u1"))
			if tc.ready {
				if _, err := h.reconcile(); err != nil || h.get().Status.Phase != v1alpha1.ClusterReady {
					t.Fatalf("setup: %v, phase %s", err, h.get().Status.Phase)
				}
			}
			h.provider.Err = providertest.FailWith(boom, tc.method)
			_, err := h.reconcile()
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v, want the provider's error to be returned (and so retried)", err)
			}
			cl := h.get()
			if cl.Status.Phase != tc.wantPhase {
				t.Errorf("phase %s, want %s (never Failed)", cl.Status.Phase, tc.wantPhase)
			}
			c := condition(cl, tc.wantCond)
			if c == nil || c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonProviderError || !strings.Contains(c.Message, boom.Error()) {
				t.Errorf("%s = %+v, want False, ProviderError, with the message", tc.wantCond, c)
			}
			if r := condition(cl, v1alpha1.ConditionReady); r == nil || r.Reason != v1alpha1.ReasonProviderError {
				t.Errorf("Ready = %+v, want the provider error's reason", r)
			}

			h.provider.Err = nil
			if _, err := h.reconcile(); err != nil {
				t.Fatal(err)
			}
			if p := h.get().Status.Phase; p != v1alpha1.ClusterReady {
				t.Errorf("after the provider recovered: phase %s, want Ready", p)
			}
		})
	}
}

func TestATerminalProviderFailureFailsTheCluster(t *testing.T) {
	h := newHarness(t)
	h.create(newCluster("u1"))
	h.provider.ControlPlaneStatus = func(_ provider.ClusterRef, spec provider.ControlPlaneSpec) provider.ControlPlaneStatus {
		return provider.ControlPlaneStatus{Replicas: spec.Replicas, Reason: "BinariesMissing", Message: "no binaries for " + spec.Minor, Terminal: true}
	}
	if _, err := h.reconcile(); err != nil {
		t.Fatal(err)
	}
	cl := h.get()
	if cl.Status.Phase != v1alpha1.ClusterFailed {
		t.Errorf("phase %s, want Failed", cl.Status.Phase)
	}
	if r := condition(cl, v1alpha1.ConditionReady); r == nil || r.Reason != "BinariesMissing" || !strings.Contains(r.Message, "no binaries for v1.37") {
		t.Errorf("Ready = %+v, want the provider's reason and message", r)
	}
}

func TestDeleteWaitsForTheProvider(t *testing.T) {
	h := newHarness(t)
	h.create(newCluster("u1"))
	if _, err := h.reconcile(); err != nil {
		t.Fatal(err)
	}
	cl := h.get()
	cl.DeletionTimestamp = &metav1.Time{Time: h.now}
	h.update(cl)
	h.provider.Reset()
	h.drainEvents()

	done := false
	h.provider.DeleteDone = func(provider.ClusterRef) bool { return done }
	for range 2 {
		requeue, err := h.reconcile()
		if err != nil {
			t.Fatal(err)
		}
		if requeue != testOptions.ResyncProgressing {
			t.Errorf("requeue after %s while deleting, want %s", requeue, testOptions.ResyncProgressing)
		}
	}
	cl = h.get()
	if !slices.Contains(cl.Finalizers, Finalizer) {
		t.Fatal("the finalizer was removed before the provider was done")
	}
	if p, _ := h.pkiSecret(); p == nil {
		t.Error("the PKI was removed before the provider was done")
	}
	if cl.Status.Phase != v1alpha1.ClusterDeleting || condition(cl, v1alpha1.ConditionReady).Reason != v1alpha1.ReasonDeleting {
		t.Errorf("phase %s, Ready %+v; want Deleting", cl.Status.Phase, condition(cl, v1alpha1.ConditionReady))
	}
	if got := h.provider.Methods(); !slices.Equal(got, []string{"Delete tenant-a/web", "Delete tenant-a/web"}) {
		t.Errorf("provider calls %v, want only deletions", got)
	}

	h.provider.Err = providertest.FailWith(errors.New("disk busy"), providertest.Delete)
	if _, err := h.reconcile(); err == nil || !slices.Contains(h.get().Finalizers, Finalizer) {
		t.Errorf("a failed deletion: err %v, finalizers %v; want an error and the finalizer kept", err, h.get().Finalizers)
	}

	h.provider.Err, done = nil, true
	if _, err := h.reconcile(); err != nil {
		t.Fatal(err)
	}
	if cl := h.get(); cl != nil && slices.Contains(cl.Finalizers, Finalizer) {
		t.Error("the finalizer stayed after the provider was done")
	}
	if p, _ := h.pkiSecret(); p != nil {
		t.Error("the PKI secret outlived the cluster")
	}
	if len(h.tenants.clients) != 0 {
		t.Errorf("tenant clients %v outlived the cluster", h.tenants.clients)
	}
	if !slices.Contains(h.drainEvents(), "Normal Deleted Control plane, nodes and credentials removed") {
		t.Error("no Deleted event")
	}
}

func TestAnUpgradeMovesTheControlPlaneFirstThenTheNodes(t *testing.T) {
	h := newHarness(t)
	cl := newCluster("u1")
	cl.Spec.Version = "v1.35"
	h.create(cl)
	// The control plane takes one reconcile to move to a new minor: the
	// first call for it reports Upgrading, the next one the new version.
	running := map[string]string{} // by UID
	h.provider.ControlPlaneStatus = func(c provider.ClusterRef, spec provider.ControlPlaneSpec) provider.ControlPlaneStatus {
		st := provider.ControlPlaneStatus{Endpoint: providertest.DefaultEndpoint(c), Replicas: spec.Replicas, ReadyReplicas: spec.Replicas}
		was, ok := running[c.UID]
		running[c.UID] = spec.Minor + ".4"
		if ok && minorOf(was) != spec.Minor {
			st.Version, st.Reason, st.Message = was, "Upgrading", "replacing the apiservers"
			return st
		}
		st.Version, st.Ready = spec.Minor+".4", true
		return st
	}
	if _, err := h.reconcile(); err != nil || h.get().Status.Phase != v1alpha1.ClusterReady {
		t.Fatalf("setup: %v, phase %s", err, h.get().Status.Phase)
	}

	var minors []string
	for _, next := range []string{"v1.36", "v1.37"} {
		cl := h.get()
		cl.Spec.Version, cl.Generation = next, cl.Generation+1
		h.update(cl)
		h.provider.Reset()
		h.drainEvents()

		if _, err := h.reconcile(); err != nil {
			t.Fatal(err)
		}
		cl = h.get()
		if cl.Status.Phase != v1alpha1.ClusterUpgrading {
			t.Errorf("%s: phase %s while the control plane upgrades, want Upgrading", next, cl.Status.Phase)
		}
		if got, want := h.provider.Methods(), []string{"EnsureControlPlane tenant-a/web"}; !slices.Equal(got, want) {
			t.Errorf("%s: provider calls %v while the control plane upgrades, want %v: nodes wait for it", next, got, want)
		}

		if _, err := h.reconcile(); err != nil {
			t.Fatal(err)
		}
		cl = h.get()
		if cl.Status.Phase != v1alpha1.ClusterReady || cl.Status.Version != next+".4" {
			t.Errorf("%s: phase %s version %s after the upgrade, want Ready %s.4", next, cl.Status.Phase, cl.Status.Version, next)
		}
		methods := h.provider.Methods()
		if i, j := slices.Index(methods, "EnsureControlPlane tenant-a/web"), slices.Index(methods, "EnsureNodes tenant-a/web"); i < 0 || j < i {
			t.Errorf("%s: provider calls %v, want the nodes after the control plane", next, methods)
		}
		for _, c := range h.provider.Calls() {
			if c.Method == providertest.EnsureControlPlane {
				minors = append(minors, c.ControlPlane.Minor)
			}
		}
		if !slices.ContainsFunc(h.drainEvents(), func(e string) bool {
			return strings.HasPrefix(e, "Normal Upgraded ") && strings.HasSuffix(e, "to "+next+".4")
		}) {
			t.Errorf("%s: no Upgraded event", next)
		}
	}
	// One minor at a time: the core asks for each minor the spec names, in
	// order, and never for one ahead of it.
	if want := []string{"v1.36", "v1.36", "v1.37", "v1.37"}; !slices.Equal(minors, want) {
		t.Errorf("minors asked %v, want %v", minors, want)
	}
}

func TestAClusterRecreatedUnderTheSameNameStartsClean(t *testing.T) {
	h := newHarness(t)
	h.create(newCluster("u1"))
	if _, err := h.reconcile(); err != nil {
		t.Fatal(err)
	}
	oldPKI, _ := h.pkiSecret()
	oldTenant := h.lastTenant()
	// The cluster goes away without the controller's clean-up (its
	// finalizer removed by hand), and a new one of the same name comes.
	if err := h.hikube.Tracker().Delete(v1alpha1.SchemeGroupVersion.WithResource("clusters"), "tenant-a", "web"); err != nil {
		t.Fatal(err)
	}
	h.create(newCluster("u2"))
	h.provider.Reset()
	if _, err := h.reconcile(); err != nil {
		t.Fatal(err)
	}

	newPKI, uid := h.pkiSecret()
	if uid != "u2" || bytes.Equal(newPKI.CACert, oldPKI.CACert) {
		t.Errorf("PKI secret of %s, same CA as before: %v; want a new CA for u2", uid, bytes.Equal(newPKI.CACert, oldPKI.CACert))
	}
	for _, c := range h.provider.Calls() {
		if c.Method == providertest.EnsureControlPlane && !bytes.Equal(c.ControlPlane.PKI.CACert, newPKI.CACert) {
			t.Error("the new control plane was given another CA than the new secret's")
		}
		if c.Cluster.UID != "u2" {
			t.Errorf("%s called for UID %s, want u2", c.Method, c.Cluster.UID)
		}
	}
	if len(h.built) != 2 || h.lastTenant() == oldTenant {
		t.Fatalf("%d tenant clients built, want a new one for the new cluster (same endpoint, new UID)", len(h.built))
	}
	for _, obj := range []struct {
		gvr  schema.GroupVersionResource
		name string
	}{
		{schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}, "hikube:cluster-viewer"},
		{schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}, "replicated"},
	} {
		if _, err := h.lastTenant().Tracker().Get(obj.gvr, "", obj.name); err != nil {
			t.Errorf("the new cluster was not bootstrapped: %s %s: %v", obj.gvr.Resource, obj.name, err)
		}
	}
	if c := h.get(); c.Status.Phase != v1alpha1.ClusterReady {
		t.Errorf("phase %s, want Ready", c.Status.Phase)
	}
}

func TestReconcileWritesTheStatusOnlyWhenItChanges(t *testing.T) {
	h := newHarness(t)
	h.create(newCluster("u1"))
	for range 2 {
		if _, err := h.reconcile(); err != nil {
			t.Fatal(err)
		}
	}
	h.hikube.ClearActions()
	if _, err := h.reconcile(); err != nil {
		t.Fatal(err)
	}
	for _, a := range h.hikube.Actions() {
		if a.GetVerb() == "update" || a.GetVerb() == "patch" {
			t.Errorf("a steady cluster was written: %s %s/%s", a.GetVerb(), a.GetResource().Resource, a.GetSubresource())
		}
	}
}

// TestDeleteStopsWatchingTheTenantFirst: the tenant's client (and its
// informers' watches) is dropped before the provider stops the tenant API,
// which would otherwise wait out its shutdown grace for those watches.
func TestDeleteStopsWatchingTheTenantFirst(t *testing.T) {
	h := newHarness(t)
	h.create(newCluster("u1"))
	if _, err := h.reconcile(); err != nil {
		t.Fatal(err)
	}
	cached := func() int {
		h.tenants.mu.Lock()
		defer h.tenants.mu.Unlock()
		return len(h.tenants.clients)
	}
	if cached() != 1 {
		t.Fatalf("%d tenant clients cached after the first reconcile, want 1", cached())
	}
	cl := h.get()
	cl.DeletionTimestamp = &metav1.Time{Time: h.now}
	h.update(cl)
	clientsAtDelete := -1
	h.provider.DeleteDone = func(provider.ClusterRef) bool {
		clientsAtDelete = cached()
		return true
	}
	if _, err := h.reconcile(); err != nil {
		t.Fatal(err)
	}
	if clientsAtDelete != 0 {
		t.Errorf("%d tenant clients still cached when the provider deleted the cluster, want 0", clientsAtDelete)
	}
}
