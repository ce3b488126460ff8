package sizelimit

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestTooLargeWritesAreTheClientsError(t *testing.T) {
	for name, tc := range map[string]struct {
		err  error
		want int32
	}{
		"client send limit":         {fmt.Errorf("create: %w", status.Error(codes.ResourceExhausted, "trying to send message larger than max")), http.StatusRequestEntityTooLarge},
		"server max-request-bytes":  {errors.New("etcdserver: request is too large"), http.StatusRequestEntityTooLarge},
		"an API error stays itself": {apierrors.NewConflict(schema.GroupResource{Resource: "clusters"}, "a", errors.New("x")), http.StatusConflict},
		"any other error stays":     {status.Error(codes.Unavailable, "etcd down"), 0},
	} {
		t.Run(name, func(t *testing.T) {
			got := translate(tc.err)
			var st apierrors.APIStatus
			switch {
			case tc.want == 0:
				if got != tc.err {
					t.Errorf("translate(%v) = %v, want it unchanged", tc.err, got)
				}
			case !errors.As(got, &st) || st.Status().Code != tc.want:
				t.Errorf("translate(%v) = %v, want HTTP %d", tc.err, got, tc.want)
			}
		})
	}
	if translate(nil) != nil {
		t.Error("translate(nil) is not nil")
	}
}
