package main

import (
	"context"
	"encoding/json"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/pkg/provider/kubevirt"
)

// The host kwok plays virt-controller and CDI with the stages of
// stages.yaml, but unlike those controllers it is not level-triggered: a
// step the API refuses with an error kwok does not count as transient (a 500
// while the host's etcd restarts) is dropped, and the object stays half-way
// until something else changes it, which nothing does. The fault matrix
// (test/chaos) found a VMI left without a phase that way. resync gives the
// simulation the retry the real controllers have: a VM, DataVolume or VMI
// that is not at the end of its stages and has not changed since the
// previous look gets a fresh annotation, and that update makes kwok play its
// stage again.
const (
	resyncPeriod     = 10 * time.Second
	resyncAnnotation = "kubevirt-sim.hikube.io/resync"
)

// simulated are the kinds the stages move, and when each is at the end.
var simulated = []struct {
	gvr  schema.GroupVersionResource
	done func(*unstructured.Unstructured) bool
}{
	{kubevirt.GVRVirtualMachine, statusIs("printableStatus", "Running")},
	{kubevirt.GVRDataVolume, statusIs("phase", "Succeeded")},
	{kubevirt.GVRVirtualMachineInstance, statusIs("phase", "Running")},
}

func statusIs(field, want string) func(*unstructured.Unstructured) bool {
	return func(u *unstructured.Unstructured) bool {
		got, _, _ := unstructured.NestedString(u.Object, "status", field)
		return got == want
	}
}

// stalls remembers, per kind, the resourceVersion of every unfinished object
// at the previous look.
type stalls map[string]string

// stuck returns the objects of items that are unfinished, not being deleted,
// and unchanged since the previous call; it remembers this look's.
func (s stalls) stuck(items []unstructured.Unstructured, done func(*unstructured.Unstructured) bool) []*unstructured.Unstructured {
	seen := map[string]string{}
	var out []*unstructured.Unstructured
	for i := range items {
		u := &items[i]
		if u.GetDeletionTimestamp() != nil || done(u) {
			continue
		}
		key := u.GetNamespace() + "/" + u.GetName() + "/" + string(u.GetUID())
		if s[key] == u.GetResourceVersion() {
			out = append(out, u)
		}
		seen[key] = u.GetResourceVersion()
	}
	clear(s)
	for k, v := range seen {
		s[k] = v
	}
	return out
}

// resync looks every resyncPeriod until ctx ends.
func resync(ctx context.Context, dyn dynamic.Interface) {
	looks := make([]stalls, len(simulated))
	for i := range looks {
		looks[i] = stalls{}
	}
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		for i, kind := range simulated {
			list, err := dyn.Resource(kind.gvr).Namespace("").List(ctx, metav1.ListOptions{})
			if err != nil {
				klog.InfoS("Listing for the resync; next look later", "resource", kind.gvr.Resource, "err", err)
				continue
			}
			for _, u := range looks[i].stuck(list.Items, kind.done) {
				patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
					resyncAnnotation: time.Now().UTC().Format(time.RFC3339Nano)}}})
				if err == nil {
					_, err = dyn.Resource(kind.gvr).Namespace(u.GetNamespace()).Patch(ctx, u.GetName(), types.MergePatchType, patch, metav1.PatchOptions{})
				}
				klog.InfoS("Stalled half-way through the simulated KubeVirt; touched it so that kwok plays its stage again",
					"resource", kind.gvr.Resource, "object", klog.KObj(u), "err", err)
			}
		}
	}, resyncPeriod)
}
