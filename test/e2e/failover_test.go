package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/hikube/hikube/pkg/platform"
	"github.com/hikube/hikube/pkg/process"
)

// leaseHolder is the holder of hikube-controller's leader-election Lease.
func leaseHolder(t *testing.T) string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.RESTConfig(t, "admin"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := cs.CoordinationV1().Leases(platform.Namespace).Get(context.Background(), platform.ControllerName, metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// TestLeaderFailover: two hikube-controllers, as the two replicas of the
// Deployment; kill -9 of the one that leads; the other takes the Lease once
// it expires and a cluster created meanwhile, while nobody led, becomes
// Ready.
func TestLeaderFailover(t *testing.T) {
	hostname, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	// The platform's controller is restarted at the end if it was the one
	// killed (registered first, so it runs after the cluster is deleted).
	platformKilled := false
	var second *process.Process
	t.Cleanup(func() {
		if !platformKilled {
			return
		}
		// SIGTERM: the second releases the Lease for the platform's.
		if err := process.Stop(15*time.Second, second); err != nil {
			t.Errorf("stopping the second controller: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := env.Platform.StartController(ctx); err != nil {
			t.Errorf("starting the platform's controller again: %v", err)
		}
	})

	p := env.Platform
	second, err = process.Start(process.Options{
		Name:   "hikube-controller-2",
		Binary: filepath.Join(env.Root, "_output", "bin", "hikube-controller"),
		Args: []string{
			"--kubeconfig=" + p.KubeconfigPath("hikube-controller"),
			"--provider=local",
			"--state-dir=" + p.ClustersDir(),
			"--bin-dir=" + filepath.Join(env.Root, "_output", "bin"),
			"--metrics-bind-address=127.0.0.1:0",
			"--scale-down-grace=" + scaleDownGrace.String(),
		},
		LogPath: p.LogPath("hikube-controller-2"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !platformKilled {
			if err := process.Stop(15*time.Second, second); err != nil {
				t.Errorf("stopping the second controller: %v", err)
			}
		}
	})
	secondID := fmt.Sprintf("%s_%d", hostname, second.PID())

	var leader string
	eventually(t, time.Minute, "a leader", func() bool {
		leader = leaseHolder(t)
		return leader != ""
	})
	survivor := secondID
	if leader == secondID {
		if err := process.Kill(second); err != nil {
			t.Fatal(err)
		}
		survivor = ""
	} else {
		platformKilled = true
		if err := p.KillController(); err != nil {
			t.Fatal(err)
		}
	}

	applyCluster(t, "alice", small("failover", "v1.37", 1, 2))
	t.Cleanup(func() { deleteCluster(t, "failover") })
	waitReady(t, tenantA, "failover", 3*time.Minute)

	now := leaseHolder(t)
	if now == leader || (survivor != "" && now != survivor) {
		t.Errorf("Lease held by %q after the leader %q was killed; want the other controller (%q when it is the second)", now, leader, survivor)
	}
	if !second.Exited() && leader == secondID {
		t.Errorf("the killed leader (the second controller) is still running")
	}
}
