package quota

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	kubefake "k8s.io/client-go/kubernetes/fake"

	"github.com/hikube/hikube/apis/apps"
	hikubefake "github.com/hikube/hikube/pkg/generated/clientset/versioned/fake"
	"github.com/hikube/hikube/pkg/quota"
)

func attributes(c *apps.Cluster, subresource string) admission.Attributes {
	return admission.NewAttributesRecord(c, nil, apps.Kind("Cluster").WithVersion("v1alpha1"), "tenant-a", c.Name,
		apps.Resource("clusters").WithVersion("v1alpha1"), subresource, admission.Create, nil, false, &user.DefaultInfo{Name: "alice"})
}

// TestRefusalsAreForbiddenWithTheNumbers: the plugin turns the tracker's
// refusals into a 403 and leaves subresources alone.
func TestRefusalsAreForbiddenWithTheNumbers(t *testing.T) {
	noClusters := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "limits", Namespace: "tenant-a"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{quota.ResourceClusters: resource.MustParse("0")}},
	}
	p := New()
	if err := p.ValidateInitialization(); err == nil {
		t.Error("a plugin without its tracker passed initialization")
	}
	Initializer{Tracker: quota.NewTracker(hikubefake.NewClientset(), kubefake.NewClientset(noClusters), nil)}.Initialize(p)
	if err := p.ValidateInitialization(); err != nil {
		t.Fatal(err)
	}
	c := &apps.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "web"}}
	err := p.Validate(context.Background(), attributes(c, ""), nil)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "exceeds quota: clusters requested 1, used 0, limit 0 in tenant-a") {
		t.Errorf("err = %v, want 403 exceeds quota with the numbers", err)
	}
	if err := p.Validate(context.Background(), attributes(c, "status"), nil); err != nil {
		t.Errorf("a status write was checked against quota: %v", err)
	}
}
