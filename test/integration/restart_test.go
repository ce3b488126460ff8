package integration

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func resourceQuantity(s string) *resource.Quantity {
	q := resource.MustParse(s)
	return &q
}

// TestKilledAPIServerLosesNothing kills hikube-apiserver with SIGKILL and
// checks that, once it is back, every cluster is there unchanged.
func TestKilledAPIServerLosesNothing(t *testing.T) {
	before := createCluster(t, "alice", tenantA, newCluster("survivor"))
	if err := env.Platform.KillHikubeAPIServer(); err != nil {
		t.Fatalf("killing hikube-apiserver: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := env.Platform.StartHikubeAPIServer(ctx); err != nil {
		t.Fatalf("restarting hikube-apiserver: %v", err)
	}
	after, err := hikubeClient(t, "alice").AppsV1alpha1().Clusters(tenantA).Get(context.Background(), before.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("cluster after restart: %v", err)
	}
	if after.ResourceVersion != before.ResourceVersion || after.UID != before.UID {
		t.Errorf("cluster changed across the restart: rv %s -> %s, uid %s -> %s",
			before.ResourceVersion, after.ResourceVersion, before.UID, after.UID)
	}
}
