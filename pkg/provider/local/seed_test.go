package local

import (
	"bytes"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRestampRenewsIdentityAndKeepsTheObject(t *testing.T) {
	then := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	in := &rbacv1.ClusterRole{
		TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "system:basic-user", UID: "11111111-2222-3333-4444-555555555555", CreationTimestamp: then,
			Labels:        map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"},
			Annotations:   map[string]string{"rbac.authorization.kubernetes.io/autoupdate": "true"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kube-apiserver", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "rbac.authorization.k8s.io/v1", Time: &then}},
		},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"selfsubjectreviews"}, Verbs: []string{"create"}}},
	}
	var buf bytes.Buffer
	if err := storageCodec.Encode(in, &buf); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	a, err := restamp(buf.Bytes(), now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := restamp(buf.Bytes(), now)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(a, []byte("k8s\x00")) {
		t.Errorf("restamped value %q is not in kube-apiserver's protobuf storage format", a[:min(8, len(a))])
	}
	decode := func(v []byte) *rbacv1.ClusterRole {
		obj, _, err := storageCodec.Decode(v, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return obj.(*rbacv1.ClusterRole)
	}
	outA, outB := decode(a), decode(b)
	if outA.UID == in.UID || outA.UID == outB.UID || outA.UID == "" {
		t.Errorf("UIDs %q and %q of two restamps of %q: want new and distinct", outA.UID, outB.UID, in.UID)
	}
	if !outA.CreationTimestamp.Time.Equal(now) || !outA.ManagedFields[0].Time.Time.Equal(now) {
		t.Errorf("times %s / %s, want %s", outA.CreationTimestamp, outA.ManagedFields[0].Time, now)
	}
	outA.UID, outA.CreationTimestamp, outA.ManagedFields[0].Time = in.UID, in.CreationTimestamp, in.ManagedFields[0].Time
	if !equality.Semantic.DeepEqual(outA, in) {
		t.Errorf("restamp changed more than identity and time:\n got %+v\nwant %+v", outA, in)
	}
}

func TestOnlyTheSeededKindsAreSeedKeys(t *testing.T) {
	for key, want := range map[string]bool{
		"/registry/clusterroles/admin":                                        true,
		"/registry/flowschemas/exempt":                                        true,
		"/registry/namespaces/kube-system":                                    false,
		"/registry/services/specs/default/kubernetes":                         false,
		"/registry/configmaps/kube-system/extension-apiserver-authentication": false,
	} {
		if got := seedKey(key); got != want {
			t.Errorf("seedKey(%q) = %v, want %v", key, got, want)
		}
	}
}
