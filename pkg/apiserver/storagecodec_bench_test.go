package apiserver

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/apis/apps/v1alpha1/fixtures"
)

func storageCodec(b testing.TB, mediaType string) runtime.Codec {
	codec, _, err := StorageCodec(mediaType)
	if err != nil {
		b.Fatal(err)
	}
	return codec
}

// storedCluster is the production cluster as stored: defaulted, with the
// status and managed fields a running cluster has.
func storedCluster(b testing.TB) *apps.Cluster {
	v := fixtures.SeedProd()
	v.Name, v.Namespace, v.UID, v.ResourceVersion = "prod", "tenant", "6f1c2d3e-aaaa-bbbb-cccc-0123456789ab", "12345"
	v.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply,
		APIVersion: "apps.hikube.io/v1alpha1", FieldsType: "FieldsV1",
		FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:version":{},"f:nodeGroups":{"f:web":{},"f:ml":{}}}}`)}}}
	v.Status.Phase = v1alpha1.ClusterReady
	v.Status.Conditions = []metav1.Condition{
		{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Ready", Message: "the cluster serves"},
		{Type: "ControlPlaneReady", Status: metav1.ConditionTrue, Reason: "Ready"},
	}
	Scheme.Default(v)
	var in apps.Cluster
	if err := Scheme.Convert(v, &in, nil); err != nil {
		b.Fatal(err)
	}
	return &in
}

// BenchmarkStorageCodec is the per-object cost of the storage encoding
// (--storage-media-type) on the paths that touch etcd: encode on every
// write, decode on every read from etcd and every watch-cache event.
func BenchmarkStorageCodec(b *testing.B) {
	obj := storedCluster(b)
	for _, mt := range []string{runtime.ContentTypeJSON, runtime.ContentTypeProtobuf} {
		codec := storageCodec(b, mt)
		data, err := runtime.Encode(codec, obj)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("encode/"+mt, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := runtime.Encode(codec, obj); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(data)), "bytes")
		})
		b.Run("decode/"+mt, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := runtime.Decode(codec, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestStorageCodecReadsEitherFormat: whichever format the server writes,
// objects stored in the other one still decode (the storage decoder
// recognizes JSON and protobuf), so --storage-media-type can change on a
// running installation.
func TestStorageCodecReadsEitherFormat(t *testing.T) {
	obj := storedCluster(t)
	for _, written := range []string{runtime.ContentTypeJSON, runtime.ContentTypeProtobuf} {
		data, err := runtime.Encode(storageCodec(t, written), obj)
		if err != nil {
			t.Fatal(err)
		}
		for _, reader := range []string{runtime.ContentTypeJSON, runtime.ContentTypeProtobuf} {
			got, err := runtime.Decode(storageCodec(t, reader), data)
			if err != nil {
				t.Fatalf("written as %s, read by the %s codec: %v", written, reader, err)
			}
			c, ok := got.(*apps.Cluster)
			if !ok || c.Name != obj.Name || len(c.Spec.NodeGroups) != len(obj.Spec.NodeGroups) || c.Status.Phase != obj.Status.Phase {
				t.Errorf("written as %s, read by the %s codec: %T %+v", written, reader, got, got)
			}
		}
	}
}
