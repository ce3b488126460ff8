// Package reserved is the admission plugin that keeps the platform's own
// metadata out of tenants' hands: labels, annotations and finalizers under
// hikube.io/ and apps.hikube.io/ on clusters are written by the platform
// (the controller, cluster administrators), never by a tenant. A tenant who
// removed the controller's finalizer could orphan VMs and disks; one who set
// its labels could confuse quota and placement.
package reserved

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/hikube/hikube/apis/apps"
)

// PluginName is the name of the plugin in --enable-admission-plugins.
const PluginName = "HikubeReservedMetadata"

// Prefixes of reserved keys.
var Prefixes = []string{"hikube.io/", "apps.hikube.io/"}

// PlatformUsers may write reserved metadata besides members of system:masters.
var PlatformUsers = []string{"system:serviceaccount:hikube-system:hikube-controller"}

// Register adds the plugin to the registry of admission plugins.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) { return New(), nil })
}

// Plugin refuses tenant writes of reserved metadata.
type Plugin struct {
	*admission.Handler
}

var _ admission.ValidationInterface = &Plugin{}

// New returns the plugin.
func New() *Plugin { return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update)} }

// Validate compares the reserved metadata before and after the write.
func (p *Plugin) Validate(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetResource().GroupResource() != apps.Resource("clusters") || a.GetSubresource() != "" || platform(a.GetUserInfo()) {
		return nil
	}
	newObj, err := meta.Accessor(a.GetObject())
	if err != nil {
		return nil
	}
	var oldLabels, oldAnnotations map[string]string
	var oldFinalizers []string
	if a.GetOldObject() != nil {
		if old, err := meta.Accessor(a.GetOldObject()); err == nil {
			oldLabels, oldAnnotations, oldFinalizers = old.GetLabels(), old.GetAnnotations(), old.GetFinalizers()
		}
	}
	var changed []string
	changed = append(changed, changedKeys("label", oldLabels, newObj.GetLabels())...)
	changed = append(changed, changedKeys("annotation", oldAnnotations, newObj.GetAnnotations())...)
	changed = append(changed, changedFinalizers(oldFinalizers, newObj.GetFinalizers())...)
	if len(changed) == 0 {
		return nil
	}
	return admission.NewForbidden(a, fmt.Errorf("%s reserved for the platform (prefixes %s) and cannot be set or removed by %q",
		strings.Join(changed, ", "), strings.Join(Prefixes, ", "), a.GetUserInfo().GetName()))
}

func platform(u user.Info) bool {
	if u == nil {
		return false
	}
	return slices.Contains(u.GetGroups(), user.SystemPrivilegedGroup) || slices.Contains(PlatformUsers, u.GetName())
}

func reservedKey(k string) bool {
	for _, p := range Prefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// changedKeys names the reserved keys added, removed or changed.
func changedKeys(kind string, before, after map[string]string) []string {
	var out []string
	for k, v := range after {
		if old, ok := before[k]; reservedKey(k) && (!ok || old != v) {
			out = append(out, kind+" "+k)
		}
	}
	for k := range before {
		if _, ok := after[k]; reservedKey(k) && !ok {
			out = append(out, kind+" "+k)
		}
	}
	sort.Strings(out)
	return out
}

func changedFinalizers(before, after []string) []string {
	var out []string
	for _, f := range after {
		if reservedKey(f) && !slices.Contains(before, f) {
			out = append(out, "finalizer "+f)
		}
	}
	for _, f := range before {
		if reservedKey(f) && !slices.Contains(after, f) {
			out = append(out, "finalizer "+f)
		}
	}
	return out
}
