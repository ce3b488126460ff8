package cluster

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps"
)

// A KubeconfigRequest outside the allowed lifetimes is a 422 on its field,
// before the cluster or the caller is even looked at.
func TestKubeconfigRequestLifetimeIsValidatedFirst(t *testing.T) {
	r := &KubeconfigREST{} // no clusters, no secrets: reaching them would panic
	for _, seconds := range []int64{0, 599, 86401} {
		_, err := r.Create(context.Background(), "web", &apps.KubeconfigRequest{
			Spec: apps.KubeconfigRequestSpec{ExpirationSeconds: ptr.To(seconds)},
		}, nil, &metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) {
			t.Errorf("expirationSeconds %d: %v, want 422", seconds, err)
			continue
		}
		causes := err.(apierrors.APIStatus).Status().Details.Causes
		if len(causes) != 1 || causes[0].Field != "spec.expirationSeconds" {
			t.Errorf("expirationSeconds %d: causes %+v", seconds, causes)
		}
	}
	// A valid request goes on to the caller, who is missing here.
	if _, err := r.Create(context.Background(), "web", &apps.KubeconfigRequest{}, nil, &metav1.CreateOptions{}); !apierrors.IsUnauthorized(err) {
		t.Errorf("no user: %v, want 401", err)
	}
}

func TestKubeconfigGETKeepsClamping(t *testing.T) {
	for seconds, want := range map[int64]int64{0: 3600, 60: 600, 7200: 7200, 100000: 86400} {
		if got := int64(clampExpiration(seconds).Seconds()); got != want {
			t.Errorf("clampExpiration(%d) = %ds, want %ds", seconds, got, want)
		}
	}
}
