package clusterspec

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/catalog"
)

// AddonFlagName is the kebab-case name of an add-on key, as flags write it:
// certManager -> cert-manager, gatewayAPI -> gateway-api.
func AddonFlagName(key string) string {
	var b strings.Builder
	runes := []rune(key)
	for i, r := range runes {
		if unicode.IsUpper(r) {
			prevLower := i > 0 && unicode.IsLower(runes[i-1])
			nextLower := i+1 < len(runes) && unicode.IsLower(runes[i+1])
			if i > 0 && (prevLower || nextLower) {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// AddonFlagNames lists every add-on by its flag name, in catalog order.
func AddonFlagNames() []string {
	out := make([]string, 0, len(catalog.Addons))
	for _, k := range catalog.Addons {
		out = append(out, AddonFlagName(k))
	}
	return out
}

// AddonKey resolves an add-on named by flag name (cert-manager) or spec key
// (certManager) to its spec key.
func AddonKey(name string) (string, error) {
	for _, k := range catalog.Addons {
		if name == k || name == AddonFlagName(k) || strings.EqualFold(name, k) {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown add-on %q (one of %s)", name, strings.Join(AddonFlagNames(), ", "))
}

// ParseAddon parses the --addon flag: NAME or NAME=true|false.
func ParseAddon(spec string) (key string, enabled bool, err error) {
	name, value, hasValue := strings.Cut(spec, "=")
	key, err = AddonKey(strings.TrimSpace(name))
	if err != nil {
		return "", false, fmt.Errorf("--addon %q: %v", spec, err)
	}
	enabled = true
	if hasValue {
		enabled, err = strconv.ParseBool(strings.TrimSpace(value))
		if err != nil {
			return "", false, fmt.Errorf("--addon %q: %q is not true or false", spec, value)
		}
	}
	return key, enabled, nil
}

// SetAddon switches an add-on of a typed spec on or off.
func SetAddon(a *v1alpha1.Addons, key string, enabled bool) {
	switch key {
	case "certManager":
		a.CertManager = &v1alpha1.Addon{Enabled: enabled}
	case "ingressNginx":
		if a.IngressNginx == nil {
			a.IngressNginx = &v1alpha1.IngressNginxAddon{}
		}
		a.IngressNginx.Enabled = enabled
	case "fluxcd":
		a.Fluxcd = &v1alpha1.Addon{Enabled: enabled}
	case "monitoringAgents":
		a.MonitoringAgents = &v1alpha1.Addon{Enabled: enabled}
	case "gpuOperator":
		a.GPUOperator = &v1alpha1.Addon{Enabled: enabled}
	case "velero":
		a.Velero = &v1alpha1.Addon{Enabled: enabled}
	case "gatewayAPI":
		a.GatewayAPI = &v1alpha1.Addon{Enabled: enabled}
	}
}

// AddonEnabled reports whether the spec sets an add-on, and to what.
func AddonEnabled(a *v1alpha1.Addons, key string) (enabled, set bool) {
	var x *v1alpha1.Addon
	switch key {
	case "certManager":
		x = a.CertManager
	case "ingressNginx":
		if a.IngressNginx != nil {
			x = &a.IngressNginx.Addon
		}
	case "fluxcd":
		x = a.Fluxcd
	case "monitoringAgents":
		x = a.MonitoringAgents
	case "gpuOperator":
		x = a.GPUOperator
	case "velero":
		x = a.Velero
	case "gatewayAPI":
		x = a.GatewayAPI
	}
	if x == nil {
		return false, false
	}
	return x.Enabled, true
}
