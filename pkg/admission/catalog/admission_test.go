package catalog

import (
	"context"
	"errors"
	"net/http"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/warning"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/v1alpha1/fixtures"
	"github.com/hikube/hikube/pkg/catalog"
)

type recorder []string

func (r *recorder) AddWarning(_, text string) { *r = append(*r, text) }

func attributes(obj, old *apps.Cluster, subresource string) admission.Attributes {
	op := admission.Create
	if old != nil {
		op = admission.Update
	}
	return admission.NewAttributesRecord(obj, old, apps.Kind("Cluster").WithVersion("v1alpha1"), "tenant-acme", "prod",
		apps.Resource("clusters").WithVersion("v1alpha1"), subresource, op, nil, false, &user.DefaultInfo{Name: "alice"})
}

// admit runs the plugin as the server does: mutation, then validation.
func admit(ctx context.Context, a admission.Attributes) error {
	p := New()
	if err := p.Admit(ctx, a, nil); err != nil {
		return err
	}
	return p.Validate(ctx, a, nil)
}

func TestAdmitDefaultsTheNewestVersion(t *testing.T) {
	v := fixtures.SeedProd()
	v.Spec.Version = ""
	c := internal(t, v)
	if err := admit(context.Background(), attributes(c, nil, "")); err != nil {
		t.Fatalf("a cluster without a version is refused: %v", err)
	}
	if c.Spec.Version != catalog.NewestVersion() {
		t.Errorf("version = %q, want the newest offered, %s", c.Spec.Version, catalog.NewestVersion())
	}
	set := internal(t, fixtures.SeedProd())
	if err := admit(context.Background(), attributes(set, nil, "")); err != nil || set.Spec.Version != "v1.33" {
		t.Errorf("a version the tenant chose became %q (%v)", set.Spec.Version, err)
	}
}

func TestValidateRefusesWithFieldErrors(t *testing.T) {
	v := fixtures.SeedProd()
	v.Spec.NodeGroups["ml"] = mlWith("nvidia.com/T4")
	err := admit(context.Background(), attributes(internal(t, v), nil, ""))
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Code != http.StatusUnprocessableEntity {
		t.Fatalf("want 422 Unprocessable Entity, got %v", err)
	}
	causes := status.Status().Details.Causes
	if len(causes) != 1 || causes[0].Field != "spec.nodeGroups[ml].gpus[0].name" || status.Status().Details.Kind != "Cluster" {
		t.Errorf("details = %+v, want one cause on spec.nodeGroups[ml].gpus[0].name of a Cluster", status.Status().Details)
	}
}

func TestValidateUpdateKeepsADroppedVersion(t *testing.T) {
	old := internal(t, fixtures.SeedProd())
	old.Spec.Version = "v1.32"
	upd := old.DeepCopy()
	if err := admit(context.Background(), attributes(upd, old, "")); err != nil {
		t.Errorf("an update keeping a dropped version is refused: %v", err)
	}
	if err := admit(context.Background(), attributes(upd, nil, "")); err == nil {
		t.Error("a create with a version the catalog dropped is accepted")
	}
}

func TestValidateWarnsAboutSizing(t *testing.T) {
	var got recorder
	ctx := warning.WithWarningRecorder(context.Background(), &got)
	if err := admit(ctx, attributes(internal(t, fixtures.SeedProd()), nil, "")); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != ClusterWarnings(internal(t, fixtures.SeedProd()))[0] {
		t.Errorf("warnings = %q, want the GPU sizing advice", got)
	}
}

func TestStatusWritesAreLeftAlone(t *testing.T) {
	v := fixtures.SeedProd()
	v.Spec.Version = ""
	v.Spec.StorageClass = "ceph"
	c := internal(t, v)
	if err := admit(context.Background(), attributes(c, c.DeepCopy(), "status")); err != nil {
		t.Errorf("a status write was judged on its spec: %v", err)
	}
	if c.Spec.Version != "" {
		t.Errorf("a status write was defaulted: version %q", c.Spec.Version)
	}
}
