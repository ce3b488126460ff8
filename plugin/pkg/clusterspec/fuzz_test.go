package clusterspec

import (
	"strings"
	"testing"

	"github.com/hikube/hikube/pkg/catalog"
)

// FuzzParseNodeGroup feeds arbitrary --node-group values: the parser never
// panics, an error is one line naming the flag, and what it accepts has a
// name, replica bounds in order and within the API's limits, and GPU
// entries that each name a model.
func FuzzParseNodeGroup(f *testing.F) {
	for _, seed := range []string{
		"name=web,instance-type=s1.large,min=2,max=10,roles=ingress-nginx",
		"name=ml,type=u1.xlarge,min=1,max=5,gpus=nvidia.com/L40S:2,storage-class=replicated",
		"name=x,cpu=8,memory=32Gi,disk=50Gi,roles=a;b,roles=c",
		"name=x,min=5,max=1", "name=x,min=-1", "name=x,max=99999999999", "name=x,gpus=h100:0", "name=x,gpus=:3",
		"=,=", ",,,", "name", "name=a,name=b", "name=x,cpu=8", "name=x,gpus=l40s:9999999999999999999",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		got, err := ParseNodeGroup(spec)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "--node-group ") {
				t.Fatalf("error %q does not name the flag", msg)
			}
			if !strings.Contains(spec, "\n") && strings.Contains(msg, "\n") {
				t.Fatalf("error spans lines: %q", msg)
			}
			return
		}
		if got.Name == "" {
			t.Fatalf("%q accepted without a name", spec)
		}
		g := got.Group
		for _, n := range []*int32{g.MinReplicas, g.MaxReplicas} {
			if n != nil && (*n < 0 || *n > catalog.MaxReplicasPerGroup) {
				t.Fatalf("%q accepted with replicas %d", spec, *n)
			}
		}
		if g.MinReplicas != nil && g.MaxReplicas != nil && *g.MinReplicas > *g.MaxReplicas {
			t.Fatalf("%q accepted with min %d > max %d", spec, *g.MinReplicas, *g.MaxReplicas)
		}
		for _, gpu := range g.GPUs {
			if strings.TrimSpace(gpu.Name) == "" {
				t.Fatalf("%q accepted with a GPU entry without a model", spec)
			}
		}
		if g.Resources != nil && (g.Resources.CPU.Sign() <= 0 || g.Resources.Memory.Sign() <= 0) {
			t.Fatalf("%q accepted with resources %v", spec, g.Resources)
		}
	})
}
