package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/cbor"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/generated/clientset/versioned/scheme"
	"github.com/hikube/hikube/test/harness"
)

// startReplicaAt starts one hikube-apiserver on etcdPrefix, waits until it
// serves, and returns it with a stop function that the test also runs at
// its end.
func startReplicaAt(t *testing.T, prefix string, extraArgs ...string) (*replica, func()) {
	t.Helper()
	bin := filepath.Join(env.Root, "_output", "bin")
	r, err := harness.StartReplica(env.Platform, bin, prefix, fmt.Sprintf("replica-%d", time.Now().UnixNano()), extraArgs...)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		if err := r.Stop(15 * time.Second); err != nil {
			t.Errorf("stopping replica on :%d: %v", r.Port, err)
		}
	}
	t.Cleanup(stop)
	if err := r.WaitServing(context.Background(), 90*time.Second); err != nil {
		t.Fatal(err)
	}
	return r, stop
}

// TestStorageMediaTypeChangeKeepsData: a cluster written by a server storing
// JSON (--storage-media-type=application/json, the format before protobuf
// became the default) is read and updated by a server with the default
// (protobuf), and what that one wrote is read back by a JSON-storing server
// again: changing the storage format needs no migration step.
func TestStorageMediaTypeChangeKeepsData(t *testing.T) {
	ctx := context.Background()
	prefix := fmt.Sprintf("/hikube-storageformat/%d", time.Now().UnixNano())

	jsonServer, stop := startReplicaAt(t, prefix, "--storage-media-type=application/json")
	created, err := jsonServer.Hikube.AppsV1alpha1().Clusters(tenantA).Create(ctx, newCluster("stored-json"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create on the JSON-storing server: %v", err)
	}
	stop()

	pbServer, stop := startReplicaAt(t, prefix)
	clusters := pbServer.Hikube.AppsV1alpha1().Clusters(tenantA)
	got, err := clusters.Get(ctx, created.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get of the JSON-stored cluster on the protobuf-storing server: %v", err)
	}
	if got.UID != created.UID || got.Spec.NodeGroups["workers"].InstanceType != "u1.large" {
		t.Fatalf("JSON-stored cluster read back as uid %s spec %+v", got.UID, got.Spec)
	}
	got.Spec.NodeGroups["workers"] = v1alpha1.NodeGroup{
		MinReplicas: got.Spec.NodeGroups["workers"].MinReplicas, MaxReplicas: got.Spec.NodeGroups["workers"].MaxReplicas,
		InstanceType: "u1.xlarge",
	}
	updated, err := clusters.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update on the protobuf-storing server: %v", err)
	}
	list, err := clusters.List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 || list.Items[0].ResourceVersion != updated.ResourceVersion {
		t.Fatalf("list on the protobuf-storing server: %+v, err=%v", list, err)
	}
	stop()

	jsonServer, _ = startReplicaAt(t, prefix, "--storage-media-type=application/json")
	back, err := jsonServer.Hikube.AppsV1alpha1().Clusters(tenantA).Get(ctx, created.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get of the protobuf-stored cluster on the JSON-storing server: %v", err)
	}
	if back.ResourceVersion != updated.ResourceVersion || back.Spec.NodeGroups["workers"].InstanceType != "u1.xlarge" {
		t.Errorf("protobuf-stored cluster read back at %s with %+v", back.ResourceVersion, back.Spec.NodeGroups)
	}
}

// TestCBORBehindFeatureGate: with --feature-gates=CBORServingAndStorage=true
// hikube-apiserver answers application/cbor for clusters and the catalogs;
// without it (the default, the gate being alpha) it does not offer CBOR.
func TestCBORBehindFeatureGate(t *testing.T) {
	ctx := context.Background()
	prefix := fmt.Sprintf("/hikube-cbor/%d", time.Now().UnixNano())
	r, _ := startReplicaAt(t, prefix, "--feature-gates=CBORServingAndStorage=true")
	created, err := r.Hikube.AppsV1alpha1().Clusters(tenantA).Create(ctx, newCluster("cbor"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rc := r.Hikube.AppsV1alpha1().RESTClient()
	dec := cbor.NewSerializer(scheme.Scheme, scheme.Scheme)
	for _, path := range []string{
		"/apis/apps.hikube.io/v1alpha1/namespaces/" + tenantA + "/clusters/" + created.Name,
		"/apis/apps.hikube.io/v1alpha1/namespaces/" + tenantA + "/clusters",
		"/apis/apps.hikube.io/v1alpha1/instancetypes",
	} {
		var contentType string
		raw, err := rc.Get().AbsPath(path).SetHeader("Accept", runtime.ContentTypeCBOR).Do(ctx).ContentType(&contentType).Raw()
		if err != nil {
			t.Fatalf("GET %s as CBOR: %v", path, err)
		}
		if contentType != runtime.ContentTypeCBOR {
			t.Errorf("GET %s: Content-Type %q, want %s", path, contentType, runtime.ContentTypeCBOR)
		}
		obj, _, err := dec.Decode(raw, nil, nil)
		if err != nil {
			t.Fatalf("GET %s: decoding the CBOR body: %v", path, err)
		}
		switch o := obj.(type) {
		case *v1alpha1.Cluster:
			if o.UID != created.UID {
				t.Errorf("CBOR cluster uid %s, want %s", o.UID, created.UID)
			}
		case *v1alpha1.ClusterList:
			if len(o.Items) != 1 || o.Items[0].Name != created.Name {
				t.Errorf("CBOR cluster list: %d items", len(o.Items))
			}
		case *v1alpha1.InstanceTypeList:
			if len(o.Items) == 0 || o.Items[0].Spec.CPU.IsZero() {
				t.Errorf("CBOR instance types: %+v", o.Items)
			}
		default:
			t.Errorf("GET %s: decoded a %T", path, obj)
		}
	}

	// The platform's own server runs without the gate: no CBOR there.
	var contentType string
	err = hikubeClient(t, "alice").AppsV1alpha1().RESTClient().Get().
		AbsPath("/apis/apps.hikube.io/v1alpha1/namespaces/"+tenantA+"/clusters").
		SetHeader("Accept", runtime.ContentTypeCBOR).Do(ctx).ContentType(&contentType).Error()
	if err == nil && contentType == runtime.ContentTypeCBOR {
		t.Errorf("CBOR served without the feature gate")
	}
}
