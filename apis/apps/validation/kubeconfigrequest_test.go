package validation

import (
	"testing"

	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps"
)

func TestValidateKubeconfigRequest(t *testing.T) {
	for _, tc := range []struct {
		seconds *int64
		ok      bool
	}{
		{nil, true},
		{ptr.To[int64](600), true},
		{ptr.To[int64](86400), true},
		{ptr.To[int64](599), false},
		{ptr.To[int64](86401), false},
		{ptr.To[int64](0), false},
		{ptr.To[int64](-1), false},
	} {
		errs := ValidateKubeconfigRequest(&apps.KubeconfigRequest{Spec: apps.KubeconfigRequestSpec{ExpirationSeconds: tc.seconds}})
		if tc.ok != (len(errs) == 0) {
			t.Errorf("expirationSeconds %v: %v", ptr.Deref(tc.seconds, -999), errs)
		}
		for _, e := range errs {
			if e.Field != "spec.expirationSeconds" {
				t.Errorf("error on %s, want spec.expirationSeconds", e.Field)
			}
		}
	}
}
