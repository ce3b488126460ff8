package install

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/apitesting/roundtrip"

	"github.com/hikube/hikube/apis/apps/fuzzer"
)

// TestRoundTripTypes protects conversion, defaulting and serialization: every
// type survives internal → v1alpha1 → JSON/YAML → internal unchanged.
func TestRoundTripTypes(t *testing.T) {
	roundtrip.RoundTripTestForAPIGroup(t, Install, fuzzer.Funcs)
}

// TestRoundTripProtobuf does the same through the generated protobuf
// marshalling (generated.pb.go), with fuzzed objects: a field missing from
// generated.proto, or a tag that disagrees with it, loses data here.
func TestRoundTripProtobuf(t *testing.T) {
	roundtrip.RoundTripProtobufTestForAPIGroup(t, Install, fuzzer.Funcs)
}
