package catalog

import (
	"encoding/json"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

// FuzzValuesOverride feeds arbitrary valuesOverride documents to every
// release of every add-on: reading the override never panics, and what the
// platform enforces survives whatever the tenant wrote, since those values
// are what keep the tenant's release inside its isolation.
func FuzzValuesOverride(f *testing.F) {
	for _, seed := range []string{
		`{"replicaCount":3,"webhook":{"nodeSelector":null}}`,
		`{"controller":{"service":{"type":"NodePort"},"hostNetwork":true}}`,
		`{"cert-manager":{"replicaCount":2},"ingress-nginx":null}`,
		`{"a":{"b":{"c":[1,{"d":null}]}}}`, `[]`, `null`, `"x"`, `{"":{"":""}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return // the API refuses it before any add-on sees it
		}
		for _, a := range Addons {
			spec := &v1alpha1.Addon{Enabled: true, ValuesOverride: &runtime.RawExtension{Raw: raw}}
			in := Inputs{Role: a.Role, RoleNodes: true}
			for _, r := range a.Releases {
				override, err := a.Override(spec, r.Name)
				if err != nil {
					continue // reported as the add-on's failure
				}
				vals := r.ValuesFor(in, override)
				if r.Enforced != nil {
					assertContains(t, a.Key+"/"+r.Name, r.Enforced(in), vals)
				}
				if Hash(r.Name, "v1", vals) != Hash(r.Name, "v1", r.ValuesFor(in, override)) {
					t.Fatalf("%s/%s: the same values hash differently", a.Key, r.Name)
				}
			}
		}
	})
}

// assertContains fails when a leaf of want is missing or different in got.
func assertContains(t *testing.T, what string, want, got map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if wm, isMap := w.(map[string]any); isMap {
			gm, _ := g.(map[string]any)
			if !ok || gm == nil {
				t.Fatalf("%s: enforced %q is gone: %v", what, k, got)
			}
			assertContains(t, what+"."+k, wm, gm)
			continue
		}
		if !ok || !reflect.DeepEqual(w, g) {
			t.Fatalf("%s: enforced %q = %v, got %v", what, k, w, g)
		}
	}
}
