package kubevirt

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// t0 is when the etcd containers of these tests started.
var t0 = time.Date(2026, 12, 14, 10, 0, 0, 0, time.UTC)

// at sets the provider's clock to t0+d.
func (h *cpHarness) at(d time.Duration) { h.cp.now = func() time.Time { return t0.Add(d) } }

// etcdPods plays the StatefulSet controller and the kubelet: member i's pod
// and claim exist, its etcd container running since startedAt[i], ready
// when ready[i].
func (h *cpHarness) etcdPods(startedAt []time.Time, ready []bool) {
	h.t.Helper()
	ctx := context.Background()
	for i, started := range startedAt {
		name := fmt.Sprintf("web-etcd-%d", i)
		readyCond := corev1.ConditionFalse
		if ready[i] {
			readyCond = corev1.ConditionTrue
		}
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.ns(), UID: types.UID("pod-" + name), Labels: componentLabels(h.ref, componentEtcd)},
			Status: corev1.PodStatus{
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: readyCond}},
				ContainerStatuses: []corev1.ContainerStatus{{Name: containerEtcd, Ready: ready[i],
					State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(started)}}}},
			},
		}
		_ = h.host.CoreV1().Pods(h.ns()).Delete(ctx, name, metav1.DeleteOptions{})
		if _, err := h.host.CoreV1().Pods(h.ns()).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			h.t.Fatal(err)
		}
		claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data-" + name, Namespace: h.ns()}}
		if _, err := h.host.CoreV1().PersistentVolumeClaims(h.ns()).Create(ctx, claim, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			h.t.Fatal(err)
		}
	}
}

// members says, per member, whether its pod and its claim still exist.
func (h *cpHarness) members(n int) (pods, claims []bool) {
	h.t.Helper()
	ctx := context.Background()
	for i := range n {
		name := fmt.Sprintf("web-etcd-%d", i)
		_, err := h.host.CoreV1().Pods(h.ns()).Get(ctx, name, metav1.GetOptions{})
		pods = append(pods, err == nil)
		_, err = h.host.CoreV1().PersistentVolumeClaims(h.ns()).Get(ctx, "data-"+name, metav1.GetOptions{})
		claims = append(claims, err == nil)
	}
	return pods, claims
}

func (h *cpHarness) rebootstrapEvents() []corev1.Event {
	h.t.Helper()
	evs, err := h.host.CoreV1().Events(h.ns()).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []corev1.Event
	for _, e := range evs.Items {
		if e.Reason == ReasonEtcdRebootstrapped {
			out = append(out, e)
		}
	}
	return out
}

func (h *cpHarness) expectMembers(n int, want bool) {
	h.t.Helper()
	pods, claims := h.members(n)
	for i := range n {
		if pods[i] != want || claims[i] != want {
			h.t.Errorf("member %d: pod exists %v, claim exists %v; want %v", i, pods[i], claims[i], want)
		}
	}
}

// createdAtZero is a control plane of replicas made at t0 with a one-minute
// bootstrap bound, its endpoint given: what every case starts from.
func createdAtZero(t *testing.T, replicas int32) *cpHarness {
	h := newCPHarness(t, ControlPlaneOptions{EtcdBootstrapTimeout: time.Minute})
	h.spec.Replicas = replicas
	h.at(0)
	h.ensure()
	h.giveIngress("203.0.113.10")
	h.ensure()
	return h
}

// A new etcd whose members all run without ever being ready is made afresh
// once the bound has passed, not before, and says so.
func TestAnEtcdThatNeverFormedIsMadeAfreshPastTheBound(t *testing.T) {
	for _, replicas := range []int32{1, 3} {
		t.Run(fmt.Sprintf("%d replicas", replicas), func(t *testing.T) {
			h := createdAtZero(t, replicas)
			if got := h.statefulSet().Annotations[annotationEtcdBootstrap]; got != etcdBootstrapPending {
				t.Fatalf("a new StatefulSet's %s = %q, want %q", annotationEtcdBootstrap, got, etcdBootstrapPending)
			}
			members := int(*h.statefulSet().Spec.Replicas)
			started := make([]time.Time, members)
			for i := range started {
				started[i] = t0.Add(time.Duration(i) * time.Second)
			}
			h.etcdPods(started, make([]bool, members))

			h.at(59 * time.Second) // the first member has run 59 s
			if st := h.ensure(); st.Reason != ReasonEtcdStarting || strings.Contains(st.Message, "afresh") {
				t.Errorf("within the bound: %+v", st)
			}
			h.expectMembers(members, true)

			h.at(2 * time.Minute)
			st := h.ensure()
			h.expectMembers(members, false)
			if st.Ready || st.Reason != ReasonEtcdStarting || !strings.Contains(st.Message, "etcd never formed") {
				t.Errorf("status after the re-bootstrap: %+v", st)
			}
			evs := h.rebootstrapEvents()
			if len(evs) != 1 || evs[0].Type != corev1.EventTypeWarning || evs[0].InvolvedObject.Kind != "StatefulSet" ||
				evs[0].InvolvedObject.Name != "web-etcd" || !strings.Contains(evs[0].Message, "no member became ready within 1m0s") {
				t.Errorf("events: %+v", evs)
			}
			if got := h.statefulSet().Annotations[annotationEtcdBootstrap]; got != etcdBootstrapPending {
				t.Errorf("after the re-bootstrap %s = %q, want it still %q", annotationEtcdBootstrap, got, etcdBootstrapPending)
			}
		})
	}
}

// Of three members, one that is ready, or one that has not run long
// enough, keeps them all: the etcd may still form, or has.
func TestAnEtcdWithOneMemberReadyOrYoungIsUntouched(t *testing.T) {
	for name, tc := range map[string]struct {
		started []time.Duration
		ready   []bool
	}{
		"one member ready":         {[]time.Duration{0, 0, 0}, []bool{false, true, false}},
		"one member restarted":     {[]time.Duration{0, 0, 90 * time.Second}, []bool{false, false, false}},
		"one member not running":   {[]time.Duration{0, 0}, []bool{false, false}},
		"every member within time": {[]time.Duration{50 * time.Second, 50 * time.Second, 50 * time.Second}, []bool{false, false, false}},
	} {
		t.Run(name, func(t *testing.T) {
			h := createdAtZero(t, 3)
			var started []time.Time
			for _, d := range tc.started {
				started = append(started, t0.Add(d))
			}
			h.etcdPods(started, tc.ready)
			h.at(100 * time.Second)
			h.ensure()
			h.expectMembers(len(started), true)
			if evs := h.rebootstrapEvents(); len(evs) != 0 {
				t.Errorf("events: %+v", evs)
			}
		})
	}
}

// An etcd that formed once — a member or a control-plane replica was seen
// ready — is never wiped again, however long its members stay not ready
// afterwards; nor is one whose StatefulSet predates the annotation.
func TestAnEtcdThatFormedOnceIsNeverWiped(t *testing.T) {
	for name, formed := range map[string]func(h *cpHarness){
		"a member was ready": func(h *cpHarness) { h.etcdStatus(1, true) },
		"a control-plane replica was ready": func(h *cpHarness) {
			h.deployStatus(1, 1)
		},
		"the StatefulSet predates the annotation": func(h *cpHarness) {
			s := h.statefulSet()
			delete(s.Annotations, annotationEtcdBootstrap)
			if _, err := h.host.AppsV1().StatefulSets(h.ns()).Update(context.Background(), s, metav1.UpdateOptions{}); err != nil {
				h.t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := createdAtZero(t, 3)
			formed(h)
			h.ensure()
			// Then every member runs, not ready, for an hour.
			h.etcdStatus(0, true)
			h.deployStatus(0, 0)
			h.etcdPods([]time.Time{t0, t0, t0}, []bool{false, false, false})
			h.at(time.Hour)
			h.ensure()
			h.at(2 * time.Hour)
			h.ensure()
			h.expectMembers(3, true)
			if evs := h.rebootstrapEvents(); len(evs) != 0 {
				t.Errorf("events: %+v", evs)
			}
			want := etcdBootstrapFormed
			if name == "the StatefulSet predates the annotation" {
				want = ""
			}
			if got := h.statefulSet().Annotations[annotationEtcdBootstrap]; got != want {
				t.Errorf("%s = %q, want %q", annotationEtcdBootstrap, got, want)
			}
		})
	}
}
