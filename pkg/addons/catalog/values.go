package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	chartutil "helm.sh/helm/v4/pkg/chart/common/util"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

// Values are a release's values before Helm coalesces them with the
// chart's defaults: platform ← the tenant's override ← enforced, merged by
// Helm's rules. A null of the override survives the merge, so that Helm
// then removes the key from the chart's defaults too.
func (r Release) ValuesFor(in Inputs, override map[string]any) map[string]any {
	out := map[string]any{}
	if r.Values != nil {
		out = r.Values(in)
	}
	if override != nil {
		out = chartutil.MergeTables(deepCopy(override), out)
	}
	if r.Enforced != nil {
		out = chartutil.MergeTables(r.Enforced(in), out)
	}
	return out
}

// Override returns the part of an add-on's valuesOverride for one of its
// releases: the whole object for a single-release add-on, the key named
// after the release otherwise.
func (a Addon) Override(spec *v1alpha1.Addon, release string) (map[string]any, error) {
	if spec == nil || spec.ValuesOverride == nil || len(spec.ValuesOverride.Raw) == 0 {
		return nil, nil
	}
	var all map[string]any
	if err := json.Unmarshal(spec.ValuesOverride.Raw, &all); err != nil {
		return nil, fmt.Errorf("valuesOverride of %s is not an object: %w", a.Key, err)
	}
	if len(a.Releases) == 1 {
		return all, nil
	}
	sub, ok := all[release]
	if !ok || sub == nil {
		return nil, nil
	}
	m, ok := sub.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("valuesOverride.%s of %s is not an object", release, a.Key)
	}
	return m, nil
}

// Hash identifies what a release is installed from: chart, version and
// values. It is kept on the release (a label), so that an unchanged spec
// never makes a new revision.
func Hash(chart, version string, values map[string]any) string {
	b, _ := json.Marshal(values) // maps marshal with sorted keys
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", chart, version)
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func deepCopy(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		return m
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return m
	}
	return out
}
