package validation

import (
	"encoding/json"
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/hikube/hikube/apis/apps"
)

var exposeMethods = []apps.IngressExposeMethod{apps.ExposeProxied, apps.ExposeLoadBalancer}

// addonEntry pairs an add-on with its key under spec.addons.
type addonEntry struct {
	key   string
	addon *apps.Addon
}

// addonEntries lists the add-ons that are set, under their spec.addons keys
// (the keys of catalog.Addons).
func addonEntries(a *apps.Addons) []addonEntry {
	var ingress *apps.Addon
	if a.IngressNginx != nil {
		ingress = &a.IngressNginx.Addon
	}
	all := []addonEntry{
		{"certManager", a.CertManager}, {"ingressNginx", ingress}, {"fluxcd", a.Fluxcd},
		{"monitoringAgents", a.MonitoringAgents}, {"gpuOperator", a.GPUOperator},
		{"velero", a.Velero}, {"gatewayAPI", a.GatewayAPI},
	}
	var set []addonEntry
	for _, e := range all {
		if e.addon != nil {
			set = append(set, e)
		}
	}
	return set
}

func validateAddons(a *apps.Addons, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, e := range addonEntries(a) {
		allErrs = append(allErrs, validateValuesOverride(e.addon, fldPath.Child(e.key).Child("valuesOverride"))...)
	}
	if a.IngressNginx != nil {
		allErrs = append(allErrs, validateIngressNginx(a.IngressNginx, fldPath.Child("ingressNginx"))...)
	}
	return allErrs
}

// validateValuesOverride requires a JSON object: the override is merged over
// the add-on's Helm values, which are a map.
func validateValuesOverride(a *apps.Addon, fldPath *field.Path) field.ErrorList {
	if a.ValuesOverride == nil || len(a.ValuesOverride.Raw) == 0 {
		return nil
	}
	raw := a.ValuesOverride.Raw
	if len(raw) > apps.MaxValuesOverrideBytes {
		return field.ErrorList{field.TooLong(fldPath, "", apps.MaxValuesOverrideBytes)}
	}
	var values map[string]interface{}
	if err := json.Unmarshal(raw, &values); err != nil {
		return field.ErrorList{field.Invalid(fldPath, abbreviate(string(raw)),
			`must be an object of Helm values, such as {"controller": {"replicaCount": 2}}`)}
	}
	return nil
}

func abbreviate(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	return s[:limit-3] + "..."
}

func validateIngressNginx(in *apps.IngressNginxAddon, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	methodPath := fldPath.Child("exposeMethod")
	switch {
	case in.ExposeMethod == "":
		allErrs = append(allErrs, field.Required(methodPath, `must be "Proxied" or "LoadBalancer"`))
	case !contains(exposeMethods, in.ExposeMethod):
		allErrs = append(allErrs, field.NotSupported(methodPath, in.ExposeMethod, exposeMethods))
	}
	seen := sets.New[string]()
	for i, host := range in.Hosts {
		p := fldPath.Child("hosts").Index(i)
		allErrs = append(allErrs, validateHost(host, p)...)
		if host != "" && seen.Has(host) {
			allErrs = append(allErrs, field.Duplicate(p, host))
		}
		seen.Insert(host)
	}
	return allErrs
}

// validateHost accepts a DNS-1123 subdomain, or one with a leading "*." wildcard.
func validateHost(host string, fldPath *field.Path) field.ErrorList {
	if host == "" {
		return field.ErrorList{field.Required(fldPath, "a host name such as app.example.com or *.example.com")}
	}
	var msgs []string
	if strings.HasPrefix(host, "*") {
		msgs = utilvalidation.IsWildcardDNS1123Subdomain(host)
	} else {
		msgs = utilvalidation.IsDNS1123Subdomain(host)
	}
	var allErrs field.ErrorList
	for _, msg := range msgs {
		allErrs = append(allErrs, field.Invalid(fldPath, host, msg))
	}
	return allErrs
}
