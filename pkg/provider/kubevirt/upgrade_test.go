package kubevirt

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// An upgrade moves etcd first when its image changes, then rolls the
// control-plane Deployment; the status names the step until the new
// version answers.
func TestUpgradeRollsEtcdFirstThenTheControlPlane(t *testing.T) {
	h := newCPHarness(t, ControlPlaneOptions{EtcdImages: map[string]string{"v1.37": "registry.k8s.io/etcd:3.7.1-0"}})
	h.bringUp()

	h.spec.Minor = "v1.37"
	st := h.ensure()
	if st.Ready || st.Reason != ReasonUpgradingEtcd || !strings.Contains(st.Message, "step 1 of 2") {
		t.Fatalf("first step: %+v", st)
	}
	if img := h.statefulSet().Spec.Template.Spec.Containers[0].Image; img != "registry.k8s.io/etcd:3.7.1-0" {
		t.Errorf("etcd image %s, want the new one first", img)
	}
	if img := containerOf(h.deployment("web-control-plane"), "kube-apiserver").Image; img != "registry.k8s.io/kube-apiserver:v1.36.3" {
		t.Fatalf("the apiservers moved to %s before etcd rolled out", img)
	}
	// etcd rolls member by member.
	h.etcdStatus(2, false)
	if st := h.ensure(); st.Reason != ReasonUpgradingEtcd || !strings.Contains(st.Message, "2 of 3 members ready") {
		t.Fatalf("while etcd rolls: %+v", st)
	}
	if img := containerOf(h.deployment("web-control-plane"), "kube-apiserver").Image; img != "registry.k8s.io/kube-apiserver:v1.36.3" {
		t.Fatalf("the apiservers moved to %s while etcd rolls", img)
	}
	h.etcdStatus(3, true)
	st = h.ensure()
	d := h.deployment("web-control-plane")
	for _, name := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler"} {
		if img := containerOf(d, name).Image; img != "registry.k8s.io/"+name+":v1.37.2" {
			t.Errorf("%s image %s after etcd rolled out", name, img)
		}
	}
	if d.Annotations[annotationUpgradingFrom] != "v1.36.3" || st.Reason != ReasonUpgrading || !strings.Contains(st.Message, "step 2 of 2") {
		t.Fatalf("second step: %+v, annotations %v", st, d.Annotations)
	}
	if d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 || d.Spec.Strategy.RollingUpdate.MaxSurge.IntValue() != 1 {
		t.Errorf("rolling update %+v: a replica must come before one goes", d.Spec.Strategy.RollingUpdate)
	}
	// The Deployment rolls; the old apiservers still answer meanwhile.
	h.deployStatus(1, 3)
	if st := h.ensure(); st.Ready || st.Reason != ReasonUpgrading || !strings.Contains(st.Message, "1 of 3 updated") {
		t.Fatalf("while the control plane rolls: %+v", st)
	}
	h.deployStatus(3, 3)
	h.version = "v1.37.2"
	st = h.ensure()
	if !st.Ready || st.Version != "v1.37.2" {
		t.Fatalf("after the roll: %+v", st)
	}
	if _, ok := h.deployment("web-control-plane").Annotations[annotationUpgradingFrom]; ok {
		t.Error("the upgrade annotation stayed after the roll")
	}
}

func TestUpgradeWithTheSameEtcdGoesStraightToTheControlPlane(t *testing.T) {
	h := newCPHarness(t, ControlPlaneOptions{})
	h.bringUp()
	h.spec.Minor = "v1.37"
	st := h.ensure()
	if st.Reason != ReasonUpgrading || containerOf(h.deployment("web-control-plane"), "kube-apiserver").Image != "registry.k8s.io/kube-apiserver:v1.37.2" {
		t.Fatalf("status %+v", st)
	}
}

func TestWhatRetryingCannotFixIsTerminal(t *testing.T) {
	h := newCPHarness(t, ControlPlaneOptions{Versions: map[string]string{"v1.38": "v1.38.0"}})
	h.spec.Minor = "v1.33"
	if st := h.ensure(); !st.Terminal || st.Reason != ReasonUnknownVersion || !strings.Contains(st.Message, "--control-plane-versions") {
		t.Errorf("unknown minor: %+v", st)
	}
	h.spec.Minor = "v1.36"
	h.bringUp()
	h.spec.Minor = "v1.38"
	st := h.ensure()
	if !st.Terminal || st.Reason != ReasonUnsupportedUpgrade {
		t.Fatalf("skipping a minor: %+v", st)
	}
	if img := containerOf(h.deployment("web-control-plane"), "kube-apiserver").Image; img != "registry.k8s.io/kube-apiserver:v1.36.3" {
		t.Errorf("a refused upgrade changed the apiservers to %s", img)
	}
	// Anything else not ready is retried: a lost endpoint is not terminal.
	h.spec.Minor = "v1.36"
	svc, _ := h.host.CoreV1().Services(h.ns()).Get(context.Background(), "web-apiserver", metav1.GetOptions{})
	svc.Status.LoadBalancer.Ingress = nil
	if _, err := h.host.CoreV1().Services(h.ns()).UpdateStatus(context.Background(), svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if st := h.ensure(); st.Terminal || st.Reason != ReasonWaitingForEndpoint {
		t.Errorf("without an ingress: %+v", st)
	}
}

func TestPlanMovesOneMinorAtATime(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		running, etcd, target     string
		etcdDone                  bool
		wantVersion, wantReason   string
		wantTerminal, wantUpgrade bool
	}{
		{name: "new", target: "v1.37.2", wantVersion: "v1.37.2"},
		{name: "steady", running: "v1.37.2", etcd: "e1", etcdDone: true, target: "v1.37.2", wantVersion: "v1.37.2"},
		{name: "etcd first", running: "v1.36.3", etcd: "e0", etcdDone: true, target: "v1.37.2", wantVersion: "v1.36.3", wantReason: ReasonUpgradingEtcd, wantUpgrade: true},
		{name: "etcd rolling", running: "v1.36.3", etcd: "e1", etcdDone: false, target: "v1.37.2", wantVersion: "v1.36.3", wantReason: ReasonUpgradingEtcd, wantUpgrade: true},
		{name: "then the rest", running: "v1.36.3", etcd: "e1", etcdDone: true, target: "v1.37.2", wantVersion: "v1.37.2", wantReason: ReasonUpgrading, wantUpgrade: true},
		{name: "etcd alone", running: "v1.37.2", etcd: "e0", etcdDone: true, target: "v1.37.2", wantVersion: "v1.37.2", wantReason: ReasonUpgradingEtcd, wantUpgrade: true},
		{name: "two minors", running: "v1.35.1", etcd: "e1", etcdDone: true, target: "v1.37.2", wantVersion: "v1.35.1", wantReason: ReasonUnsupportedUpgrade, wantTerminal: true},
		{name: "down", running: "v1.37.2", etcd: "e1", etcdDone: true, target: "v1.36.3", wantVersion: "v1.37.2", wantReason: ReasonUnsupportedUpgrade, wantTerminal: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := plan(tc.running, tc.etcd, tc.etcdDone, tc.target, "e1")
			if s.version != tc.wantVersion || s.reason != tc.wantReason || s.terminal != tc.wantTerminal || s.upgrading != tc.wantUpgrade {
				t.Errorf("plan = %+v", s)
			}
		})
	}
}
