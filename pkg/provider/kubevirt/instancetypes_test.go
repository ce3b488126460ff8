package kubevirt

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/hikube/hikube/pkg/catalog"
)

// The shipped manifest is exactly what the catalog renders: a new instance
// type in pkg/catalog without a regenerated file fails here.
func TestShippedInstancetypesAreGenerated(t *testing.T) {
	want, err := InstancetypesManifest()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", "..", "artifacts", "kubevirt", "instancetypes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("artifacts/kubevirt/instancetypes.yaml is out of date: run `go run ./hack/kubevirt-instancetypes > artifacts/kubevirt/instancetypes.yaml`")
	}
}

func TestClusterInstancetypesFollowTheCatalog(t *testing.T) {
	its := ClusterInstancetypes()
	cat := catalog.InstanceTypes()
	if len(its) != len(cat) || len(its) != 20 {
		t.Fatalf("%d instancetypes for %d catalog entries, want 20", len(its), len(cat))
	}
	for i, it := range its {
		c := cat[i]
		if it.Name != c.Name {
			t.Errorf("instancetype %d named %q, want %q", i, it.Name, c.Name)
		}
		if it.Spec.CPU.Guest != uint32(c.CPU) {
			t.Errorf("%s: %d vCPU, want %d", it.Name, it.Spec.CPU.Guest, c.CPU)
		}
		if got, want := it.Spec.Memory.Guest.Value(), int64(c.MemoryGiB)<<30; got != want {
			t.Errorf("%s: memory %d bytes, want %d", it.Name, got, want)
		}
		if it.Labels[labelClass] != c.Family.Name {
			t.Errorf("%s: class label %q, want %q", it.Name, it.Labels[labelClass], c.Family.Name)
		}
	}
	// Spot-check against the published table, independently of the loop.
	byName := map[string]string{}
	for _, it := range its {
		byName[it.Name] = it.Spec.Memory.Guest.String()
	}
	for name, mem := range map[string]string{"s1.small": "2Gi", "u1.xlarge": "16Gi", "m1.8xlarge": "256Gi"} {
		if byName[name] != mem {
			t.Errorf("%s memory = %q, want %s", name, byName[name], mem)
		}
	}
}
