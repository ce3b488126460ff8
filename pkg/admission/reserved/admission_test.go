package reserved

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/hikube/hikube/apis/apps"
)

func cluster(labels map[string]string, finalizers ...string) *apps.Cluster {
	return &apps.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "t", Labels: labels, Finalizers: finalizers}}
}

func TestReservedMetadata(t *testing.T) {
	alice := &user.DefaultInfo{Name: "alice", Groups: []string{"system:authenticated"}}
	controller := &user.DefaultInfo{Name: PlatformUsers[0]}
	admin := &user.DefaultInfo{Name: "admin", Groups: []string{user.SystemPrivilegedGroup}}
	for _, tc := range []struct {
		name     string
		who      user.Info
		old, new *apps.Cluster
		op       admission.Operation
		refused  string
	}{
		{"tenant labels of her own are fine", alice, nil, cluster(map[string]string{"team": "a"}), admission.Create, ""},
		{"tenant cannot set a reserved label", alice, nil, cluster(map[string]string{"apps.hikube.io/tier": "gold"}), admission.Create, "label apps.hikube.io/tier"},
		{"tenant cannot remove the controller's finalizer", alice, cluster(nil, "apps.hikube.io/cluster"), cluster(nil), admission.Update, "finalizer apps.hikube.io/cluster"},
		{"tenant cannot change a reserved label", alice, cluster(map[string]string{"hikube.io/x": "1"}), cluster(map[string]string{"hikube.io/x": "2"}), admission.Update, "label hikube.io/x"},
		{"unchanged reserved metadata passes", alice, cluster(map[string]string{"hikube.io/x": "1"}, "apps.hikube.io/cluster"), cluster(map[string]string{"hikube.io/x": "1", "team": "a"}, "apps.hikube.io/cluster"), admission.Update, ""},
		{"the controller manages its finalizer", controller, nil, cluster(nil, "apps.hikube.io/cluster"), admission.Update, ""},
		{"cluster administrators may", admin, nil, cluster(map[string]string{"apps.hikube.io/tier": "gold"}), admission.Create, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attrs := admission.NewAttributesRecord(tc.new, nil, apps.Kind("Cluster").WithVersion("v1alpha1"), "t", "c",
				apps.Resource("clusters").WithVersion("v1alpha1"), "", tc.op, nil, false, tc.who)
			if tc.old != nil {
				attrs = admission.NewAttributesRecord(tc.new, tc.old, apps.Kind("Cluster").WithVersion("v1alpha1"), "t", "c",
					apps.Resource("clusters").WithVersion("v1alpha1"), "", tc.op, nil, false, tc.who)
			}
			err := New().Validate(context.Background(), attrs, nil)
			switch {
			case tc.refused == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
				t.Errorf("error = %v, want a refusal naming %q", err, tc.refused)
			}
		})
	}
}
