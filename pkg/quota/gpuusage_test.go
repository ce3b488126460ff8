package quota

import (
	"context"
	"testing"

	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps"
	hikubefake "github.com/hikube/hikube/pkg/generated/clientset/versioned/fake"
)

// TestGPUAdmissionListsNoClustersOnceTheRecordExists: GPU-capacity admission
// costs the same with 10 or 10,000 clusters. Only the first GPU request,
// which creates the shared usage record, seeds it from the store; every
// later one reads and writes the record alone.
func TestGPUAdmissionListsNoClustersOnceTheRecordExists(t *testing.T) {
	hikube := hikubefake.NewClientset()
	host := kubefake.NewClientset()
	capacity := Capacity{"l40s": {"geneva": 100}}
	tr := NewTracker(hikube, host, func(context.Context) (Capacity, error) { return capacity, nil })
	ml := func(name string) *apps.Cluster {
		return named(name, cluster(map[string]apps.NodeGroup{"ml": {MaxReplicas: ptr.To[int32](1), InstanceType: "u1.2xlarge", GPUs: gpus("nvidia.com/L40S", 1)}}))
	}
	clusterLists := func() int {
		n := 0
		for _, a := range hikube.Actions() {
			if a.GetVerb() == "list" {
				n++
			}
		}
		return n
	}
	ctx := context.Background()
	if refusals, err := tr.Reserve(ctx, "tenant-a", ml("first"), nil, false); err != nil || len(refusals) != 0 {
		t.Fatalf("first GPU cluster: %v, %v", refusals, err)
	}
	if clusterLists() != 1 {
		t.Fatalf("%d cluster lists for the first GPU request, want the one seeding the record", clusterLists())
	}
	for _, name := range []string{"second", "third", "fourth"} {
		if refusals, err := tr.Reserve(ctx, "tenant-b", ml(name), nil, false); err != nil || len(refusals) != 0 {
			t.Fatalf("%s GPU cluster: %v, %v", name, refusals, err)
		}
	}
	if clusterLists() != 1 {
		t.Errorf("%d cluster lists after four GPU requests, want still 1", clusterLists())
	}
	status, err := tr.GPUStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if geneva := status["l40s"][0]; geneva.Reserved != 4 {
		t.Errorf("reserved %d L40S, want 4", geneva.Reserved)
	}
}
