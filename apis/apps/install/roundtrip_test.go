package install

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/apitesting/roundtrip"

	"github.com/hikube/hikube/apis/apps/fuzzer"
)

// TestRoundTripTypes protects conversion, defaulting and serialization: every
// type survives internal → v1alpha1 → JSON/protobuf-less codecs → internal unchanged.
func TestRoundTripTypes(t *testing.T) {
	roundtrip.RoundTripTestForAPIGroup(t, Install, fuzzer.Funcs)
}
