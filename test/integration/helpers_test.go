package integration

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/test/harness"
)

const tenantA, tenantB = "tenant-a", "tenant-b"

// newCluster is a small valid cluster with one node group.
func newCluster(name string) *v1alpha1.Cluster {
	return &v1alpha1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.ClusterSpec{
			Version: "v1.36",
			NodeGroups: map[string]v1alpha1.NodeGroup{
				"workers": {MinReplicas: ptr.To[int32](1), MaxReplicas: ptr.To[int32](3), InstanceType: "u1.large"},
			},
		},
	}
}

// createCluster creates a cluster as user and deletes it when the test ends.
func createCluster(t *testing.T, user, ns string, c *v1alpha1.Cluster) *v1alpha1.Cluster {
	t.Helper()
	cs := hikubeClient(t, user).AppsV1alpha1().Clusters(ns)
	created, err := cs.Create(context.Background(), c, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating cluster %s/%s as %s: %v", ns, c.Name, user, err)
	}
	t.Cleanup(func() { deleteCluster(t, ns, c.Name) })
	return created
}

// deleteCluster deletes a cluster as admin and waits until it is gone.
func deleteCluster(t *testing.T, ns, name string) {
	t.Helper()
	cs := hikubeClient(t, "admin").AppsV1alpha1().Clusters(ns)
	err := cs.Delete(context.Background(), name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("deleting cluster %s/%s: %v", ns, name, err)
	}
}

// assertNotStored fails when a cluster exists.
func assertNotStored(t *testing.T, ns, name string) {
	t.Helper()
	_, err := hikubeClient(t, "admin").AppsV1alpha1().Clusters(ns).Get(context.Background(), name, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("cluster %s/%s: want NotFound (nothing stored), got err=%v", ns, name, err)
	}
}

var (
	eventually   = harness.Eventually
	consistently = harness.Consistently
)
