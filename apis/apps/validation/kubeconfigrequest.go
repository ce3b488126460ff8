package validation

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/hikube/hikube/apis/apps"
)

// The lifetimes a KubeconfigRequest may ask for, in seconds. A GET of the
// kubeconfig subresources clamps ?expirationSeconds= into this range (kubectl
// get --raw users get a working file); a KubeconfigRequest is a typed object
// and is refused outside it instead, so the client knows what it got.
const (
	DefaultKubeconfigExpirationSeconds int64 = 60 * 60
	MinKubeconfigExpirationSeconds     int64 = 10 * 60
	MaxKubeconfigExpirationSeconds     int64 = 24 * 60 * 60
)

// ValidateKubeconfigRequest checks a KubeconfigRequest POSTed to a kubeconfig
// subresource: only its spec is the client's; the status is the server's.
func ValidateKubeconfigRequest(r *apps.KubeconfigRequest) field.ErrorList {
	var errs field.ErrorList
	specPath := field.NewPath("spec")
	if s := r.Spec.ExpirationSeconds; s != nil && (*s < MinKubeconfigExpirationSeconds || *s > MaxKubeconfigExpirationSeconds) {
		errs = append(errs, field.Invalid(specPath.Child("expirationSeconds"), *s,
			fmt.Sprintf("must be between %d (10 minutes) and %d (24 hours); omit it for %d (1 hour)",
				MinKubeconfigExpirationSeconds, MaxKubeconfigExpirationSeconds, DefaultKubeconfigExpirationSeconds)))
	}
	return errs
}
