package kubevirt

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/pkg/provider"
)

var nsRef = provider.ClusterRef{Namespace: "tenant-a", Name: "web", UID: "u-1"}

// nsPod is a pod of nsRef in its host namespace; component labels it as
// the control plane's, owned gives it a controlling ReplicaSet, and
// deadline, when set, makes it terminating until then.
func nsPod(name, component string, owned bool, deadline *time.Time) *corev1.Pod {
	l := maps.Clone(clusterLabels(nsRef))
	if component != "" {
		l[labelComponent] = component
	}
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: HostNamespace(nsRef), Labels: l}}
	if owned {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "rs-1", Controller: ptr.To(true)}}
	}
	if deadline != nil {
		p.DeletionTimestamp = &metav1.Time{Time: *deadline}
	}
	return p
}

func hostNamespaceObject() *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: HostNamespace(nsRef)}}
}

// deletes counts the delete calls on resource the fake host received.
func deletes(h *fake.Clientset, resource string) int {
	n := 0
	for _, a := range h.Actions() {
		if a.GetVerb() == "delete" && a.GetResource().Resource == resource {
			n++
		}
	}
	return n
}

func TestHostNamespaceGoesOnlyOnceTheClustersPodsHaveStopped(t *testing.T) {
	now := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	later, earlier := now.Add(20*time.Second), now.Add(-time.Second)
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		// deleted: the provider deletes the pod itself; wait: the
		// namespace waits for it.
		deleted, wait bool
	}{
		{"a workload's pod not deleted yet", nsPod("apiserver-1", componentControlPlane, true, nil), true, true},
		{"a pod of no workload", nsPod("debug", "", false, nil), true, true},
		{"a pod terminating before its deadline", nsPod("etcd-0", componentEtcd, true, &later), false, true},
		{"a pod past its deadline (a node that will not confirm)", nsPod("etcd-0", componentEtcd, true, &earlier), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := fake.NewClientset(hostNamespaceObject(), tc.pod)
			done, err := removeHostNamespace(context.Background(), host, nsRef, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := deletes(host, "pods"); got != map[bool]int{true: 1, false: 0}[tc.deleted] {
				t.Errorf("%d pod deletes, want the pod deleted: %v", got, tc.deleted)
			}
			if tc.wait {
				if done || deletes(host, "namespaces") != 0 {
					t.Errorf("done %v, %d namespace deletes while %s is stopping", done, deletes(host, "namespaces"), tc.pod.Name)
				}
				// Once it is gone (the fake removes a deleted pod at once),
				// the namespace goes.
				if !tc.deleted {
					if err := host.CoreV1().Pods(tc.pod.Namespace).Delete(context.Background(), tc.pod.Name, metav1.DeleteOptions{}); err != nil {
						t.Fatal(err)
					}
				}
				if done, err = removeHostNamespace(context.Background(), host, nsRef, now); err != nil {
					t.Fatal(err)
				}
			}
			if !done || deletes(host, "namespaces") != 1 {
				t.Errorf("done %v after %d namespace deletes", done, deletes(host, "namespaces"))
			}
			if _, err := host.CoreV1().Namespaces().Get(context.Background(), HostNamespace(nsRef), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("namespace left: %v", err)
			}
		})
	}
	// A namespace already gone is done, with nothing to list.
	host := fake.NewClientset()
	if done, err := removeHostNamespace(context.Background(), host, nsRef, now); err != nil || !done {
		t.Errorf("no namespace: %v %v", done, err)
	}
}

func TestTheNamespaceIsTheControlPlanesWhileItRuns(t *testing.T) {
	later := time.Now().Add(time.Minute)
	for _, tc := range []struct {
		name string
		pods []*corev1.Pod
		want bool
	}{
		{"none", nil, false},
		{"a VM's pod", []*corev1.Pod{nsPod("virt-launcher-web-a", "", true, nil)}, false},
		{"a running control-plane pod", []*corev1.Pod{nsPod("apiserver-1", componentControlPlane, true, nil)}, true},
		{"a terminating control-plane pod", []*corev1.Pod{nsPod("etcd-0", componentEtcd, true, &later)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := fake.NewClientset(hostNamespaceObject())
			for _, p := range tc.pods {
				if err := host.Tracker().Add(p); err != nil {
					t.Fatal(err)
				}
			}
			got, err := runsControlPlane(context.Background(), host, nsRef)
			if err != nil || got != tc.want {
				t.Errorf("runsControlPlane = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestControlPlaneDeleteStopsEtcdLastAndTheNamespaceAfterItsPods(t *testing.T) {
	h := newCPHarness(t, ControlPlaneOptions{})
	h.bringUp()
	ctx := context.Background()
	later := time.Now().Add(time.Minute)
	apiserver := nsPod("web-control-plane-a", componentControlPlane, true, nil)
	etcd := nsPod("web-etcd-0", componentEtcd, true, nil)
	for _, p := range []*corev1.Pod{apiserver, etcd} {
		if err := h.host.Tracker().Add(p); err != nil {
			t.Fatal(err)
		}
	}
	deleted := func() (collections []string, namespaces int) {
		for _, a := range h.host.Actions() {
			switch {
			case a.GetVerb() == "delete-collection":
				collections = append(collections, a.GetResource().Resource)
			case a.GetVerb() == "delete" && a.GetResource().Resource == "namespaces":
				namespaces++
			}
		}
		return collections, namespaces
	}
	step := func(what string, wantDone bool, wantCollections string, wantNamespaceDeletes int) {
		t.Helper()
		h.host.ClearActions()
		done, err := h.cp.Delete(ctx, h.ref)
		if err != nil || done != wantDone {
			t.Fatalf("%s: Delete = %v, %v", what, done, err)
		}
		collections, namespaces := deleted()
		if strings.Join(collections, ",") != wantCollections || namespaces != wantNamespaceDeletes {
			t.Errorf("%s: deleted collections %v and %d namespaces, want %s and %d", what, collections, namespaces, wantCollections, wantNamespaceDeletes)
		}
	}
	remove := func(p *corev1.Pod) {
		t.Helper()
		if err := h.host.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The control plane's pod runs: the provider deletes it (the fake
	// removes it at once) and looks again before it touches etcd.
	step("the control plane's pod still runs", false, "deployments", 0)
	if _, err := h.host.CoreV1().Pods(apiserver.Namespace).Get(ctx, apiserver.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the control plane's pod was not deleted: %v", err)
	}
	if _, err := h.host.CoreV1().Pods(etcd.Namespace).Get(ctx, etcd.Name, metav1.GetOptions{}); err != nil {
		t.Fatalf("etcd's pod went with the control plane's: %v", err)
	}
	// etcd terminating: its StatefulSet is deleted, the namespace waits.
	etcd.DeletionTimestamp = &metav1.Time{Time: later}
	if err := h.host.Tracker().Update(corev1.SchemeGroupVersion.WithResource("pods"), etcd, etcd.Namespace); err != nil {
		t.Fatal(err)
	}
	step("etcd stopping", false, "deployments,statefulsets", 0)
	remove(etcd)
	step("every pod gone", true, "deployments,statefulsets", 1)
	if _, err := h.host.CoreV1().Namespaces().Get(ctx, h.ns(), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("host namespace left: %v", err)
	}
}
