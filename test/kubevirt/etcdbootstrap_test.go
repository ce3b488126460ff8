package kubevirt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	kv "github.com/hikube/hikube/pkg/provider/kubevirt"
	"github.com/hikube/hikube/test/harness"
)

// TestEtcdKilledInItsFirstSecondIsMadeAfresh reproduces the defect the
// fault matrix found (etcd-io/etcd#2877): a new cluster's etcd container,
// SIGKILLed on the process node the instant its WAL exists, comes back
// without voters and never elects a leader. The provider makes the member
// afresh (claim and pod, with an Event) and the cluster becomes Ready.
func TestEtcdKilledInItsFirstSecondIsMadeAfresh(t *testing.T) {
	c := hostClients(t)
	// The kill races etcd's first steps on a loaded machine: an attempt
	// whose kill came after etcd wrote its membership becomes Ready
	// without the defect, and the next one tries again.
	for attempt := 1; ; attempt++ {
		name := fmt.Sprintf("first-second-%d", attempt)
		if firstSecondKill(t, c, name) {
			return
		}
		if attempt == 3 {
			t.Fatal("in 3 attempts, no kill came between etcd's WAL and its first membership: the defect was not reproduced")
		}
		t.Logf("attempt %d: the kill came after etcd wrote its membership; trying again", attempt)
		env.MustKubectl(t, "admin", "delete", "cluster", name, "-n", tenantA, "--wait=true", "--timeout=3m")
	}
}

// firstSecondKill creates cluster name, kills its etcd at its first WAL,
// waits for the cluster to be Ready and reports whether etcd was made
// afresh on the way.
func firstSecondKill(t *testing.T, c clients, name string) bool {
	t.Helper()
	ns := hostNamespace(name)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	killed := make(chan error, 1)
	go func() { killed <- killEtcdAtFirstWAL(ctx, c, ns, name+"-etcd-0") }()
	createOneWorkerCluster(t, name, "v1.37")
	if err := <-killed; err != nil {
		t.Fatalf("killing etcd at its first WAL: %v", err)
	}
	first, err := c.Core.CoreV1().PersistentVolumeClaims(ns).Get(context.Background(), "data-"+name+"-etcd-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	harness.Eventually(t, 6*time.Minute, "cluster "+name+" Ready after its etcd was killed in its first second", func() bool {
		st := env.Kubectl(t, "admin", "get", "cluster", name, "-n", tenantA, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		return st.Stdout == "True"
	})
	evs, err := c.Core.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{FieldSelector: "reason=" + kv.ReasonEtcdRebootstrapped})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs.Items) == 0 {
		return false
	}
	if ev := evs.Items[0]; ev.Type != corev1.EventTypeWarning || ev.InvolvedObject.Name != name+"-etcd" || !strings.Contains(ev.Message, "etcd never formed") {
		t.Errorf("event %s %s on %s: %q", ev.Type, ev.Reason, ev.InvolvedObject.Name, ev.Message)
	}
	now, err := c.Core.CoreV1().PersistentVolumeClaims(ns).Get(context.Background(), "data-"+name+"-etcd-0", metav1.GetOptions{})
	if err != nil || now.UID == first.UID {
		t.Errorf("etcd's claim was not made afresh: %v (uid %s, first %s)", err, now.UID, first.UID)
	}
	checkOnProcessNodes(t, c, name)
	if _, err := tenant(t, name).CoreV1().ConfigMaps("default").Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "proof"}, Data: map[string]string{"written": "after"},
	}, metav1.CreateOptions{}); err != nil {
		t.Errorf("writing to the tenant after etcd was made afresh: %v", err)
	}
	return true
}

// killEtcdAtFirstWAL SIGKILLs the etcd container of pod the instant its
// WAL directory exists on the member's volume (the process node's hostPath
// directory of its claim): after etcd created its WAL, before it wrote
// its first membership.
func killEtcdAtFirstWAL(ctx context.Context, c clients, ns, pod string) error {
	var volume string
	var uid types.UID
	for volume == "" || uid == "" {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("waiting for %s/%s and its volume: %w", ns, pod, err)
		}
		if volume == "" {
			if pvc, err := c.Core.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-"+pod, metav1.GetOptions{}); err == nil && pvc.Spec.VolumeName != "" {
				if pv, err := c.Core.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{}); err == nil && pv.Spec.HostPath != nil {
					volume = pv.Spec.HostPath.Path
				}
			}
		}
		if uid == "" {
			if p, err := c.Core.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{}); err == nil {
				uid = p.UID
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	wal := filepath.Join(volume, "data", "member", "wal")
	pid := 0
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("waiting for %s (etcd pid %d): %w", wal, pid, err)
		}
		if pid == 0 {
			pid = harness.PodPIDs(env.Platform, uid)["etcd"]
		}
		_, err := os.Stat(wal)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return err
		case pid > 0:
			return syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
