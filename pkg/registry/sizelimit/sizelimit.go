// Package sizelimit turns etcd's refusal of an object too large to store into
// the client error it is (413 Request Entity Too Large, with the limit), where
// the storage layer would otherwise answer 500 with a gRPC message.
package sizelimit

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/storage"
)

// Wrap returns s with Create and GuaranteedUpdate answering 413 for objects
// etcd or its client refuse for their size.
func Wrap(s storage.Interface) storage.Interface { return limited{s} }

type limited struct{ storage.Interface }

func (l limited) Create(ctx context.Context, key string, obj, out runtime.Object, ttl uint64) error {
	return translate(l.Interface.Create(ctx, key, obj, out, ttl))
}

func (l limited) GuaranteedUpdate(ctx context.Context, key string, destination runtime.Object, ignoreNotFound bool,
	preconditions *storage.Preconditions, tryUpdate storage.UpdateFunc, cachedExistingObject runtime.Object) error {
	return translate(l.Interface.GuaranteedUpdate(ctx, key, destination, ignoreNotFound, preconditions, tryUpdate, cachedExistingObject))
}

// translate recognises the two ways a too-large write fails: the etcd
// client's gRPC send limit (ResourceExhausted) and the server's
// --max-request-bytes ("etcdserver: request is too large").
func translate(err error) error {
	if err == nil {
		return nil
	}
	var apiErr apierrors.APIStatus
	if errors.As(err, &apiErr) {
		return err
	}
	if s, ok := status.FromError(err); ok && s.Code() == codes.ResourceExhausted || strings.Contains(err.Error(), "request is too large") {
		return apierrors.NewRequestEntityTooLargeError("the object is larger than the storage accepts (about 1.5 MiB); " +
			"keep large data such as Helm values out of the cluster spec")
	}
	return err
}
