package exitcode

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var clusters = schema.GroupResource{Group: "apps.hikube.io", Resource: "clusters"}

func TestCodesOfAPIErrors(t *testing.T) {
	invalid := apierrors.NewInvalid(schema.GroupKind{Group: "apps.hikube.io", Kind: "Cluster"}, "web",
		field.ErrorList{field.Invalid(field.NewPath("spec", "nodeGroups").Key("web").Child("minReplicas"), 20, "must be less than or equal to maxReplicas (10)")})
	for name, tc := range map[string]struct {
		err  error
		code int
	}{
		"nil":             {nil, OK},
		"not found":       {apierrors.NewNotFound(clusters, "web"), NotFound},
		"wrapped 404":     {fmt.Errorf("reading: %w", apierrors.NewNotFound(clusters, "web")), NotFound},
		"forbidden":       {apierrors.NewForbidden(clusters, "web", errors.New("RBAC")), Forbidden},
		"unauthorized":    {apierrors.NewUnauthorized("who"), Forbidden},
		"already exists":  {apierrors.NewAlreadyExists(clusters, "web"), Conflict},
		"conflict":        {apierrors.NewConflict(clusters, "web", errors.New("changed")), Conflict},
		"invalid":         {invalid, Invalid},
		"server timeout":  {apierrors.NewTimeoutError("slow", 1), Timeout},
		"deadline":        {context.DeadlineExceeded, Timeout},
		"usage":           {UsageErrorf("bad"), Usage},
		"coded wins":      {Wrap(Timeout, apierrors.NewNotFound(clusters, "web")), Timeout},
		"anything else":   {errors.New("boom"), Failure},
		"internal server": {apierrors.NewInternalError(errors.New("x")), Failure},
	} {
		if got := Code(tc.err); got != tc.code {
			t.Errorf("%s: Code = %d, want %d", name, got, tc.code)
		}
	}
	msg := Message(invalid)
	if !strings.Contains(msg, "spec.nodeGroups[web].minReplicas") || strings.Contains(msg, "\n") {
		t.Errorf("field error message %q lacks the field path or spans lines", msg)
	}
}
