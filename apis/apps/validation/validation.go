// Package validation holds the static checks of the apps.hikube.io API: what a
// Cluster must satisfy on its own, and which transitions an update may make.
// It works on the internal types after defaulting and returns field errors
// (HTTP 422) whose paths and messages say what is allowed. It knows the API
// and its limits only, never what the platform offers: checks against the
// catalog (versions, instance types, GPU models, storage classes) run in the
// HikubeCatalog admission plugin (pkg/admission/catalog) against the catalog
// the server serves, so that a client built with this package never refuses
// what a newer server offers. Checks that need other objects (GPU capacity,
// quotas) belong in admission plugins too.
package validation

import (
	"fmt"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/hikube/hikube/apis/apps"
)

// generatedSuffixLength is what the apiserver appends to metadata.generateName.
const generatedSuffixLength = 5

// ValidateClusterName checks a cluster name (or, with prefix, a generateName):
// a DNS-1035 label short enough that every object derived from it stays a
// valid name. It is usable as an apimachinery ValidateNameFunc.
func ValidateClusterName(name string, prefix bool) []string {
	msgs := apivalidation.NameIsDNS1035Label(name, prefix)
	limit := apps.MaxClusterNameLength
	if prefix {
		limit -= generatedSuffixLength
	}
	if len(name) > limit {
		what := "a cluster name"
		if prefix {
			what = fmt.Sprintf("a generateName prefix (the apiserver adds %d random characters)", generatedSuffixLength)
		}
		msgs = append(msgs, fmt.Sprintf("must be no more than %d characters for %s, so that the names derived from it "+
			"(such as <name>-kube-controller-manager and the node names <name>-<group>-<suffix>) stay within 63 characters",
			limit, what))
	}
	return msgs
}

// ValidateCluster checks a new cluster: its metadata and its spec.
func ValidateCluster(c *apps.Cluster) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMeta(&c.ObjectMeta, true, ValidateClusterName, field.NewPath("metadata"))
	return append(allErrs, validateClusterSpec(&c.Spec, field.NewPath("spec"))...)
}

// ValidateClusterUpdate checks an update of a cluster's spec and metadata: the
// new spec must be valid on its own, and the step from the old one allowed.
func ValidateClusterUpdate(newC, oldC *apps.Cluster) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newC.ObjectMeta, &oldC.ObjectMeta, field.NewPath("metadata"))
	specPath := field.NewPath("spec")
	allErrs = append(allErrs, validateClusterSpec(&newC.Spec, specPath)...)
	allErrs = append(allErrs, validateVersionUpdate(newC.Spec.Version, oldC.Spec.Version, specPath.Child("version"))...)
	return append(allErrs, validateNodeGroupsUpdate(newC.Spec.NodeGroups, oldC.Spec.NodeGroups, specPath.Child("nodeGroups"))...)
}

// validateClusterSpec checks a spec on its own. Whether its version and
// storage classes are offered is for the catalog admission to say.
func validateClusterSpec(s *apps.ClusterSpec, fldPath *field.Path) field.ErrorList {
	allErrs := validateControlPlane(&s.ControlPlane, fldPath.Child("controlPlane"))
	allErrs = append(allErrs, validateNodeGroups(s.NodeGroups, fldPath.Child("nodeGroups"))...)
	return append(allErrs, validateAddons(&s.Addons, fldPath.Child("addons"))...)
}

// validateVersionUpdate allows staying, or going up exactly one minor. The
// rule needs only the numbers: whether the new minor is offered is checked by
// the catalog admission. A version that is not of the form v1.<minor> is
// left to that check too (it is not offered).
func validateVersionUpdate(newV, oldV string, fldPath *field.Path) field.ErrorList {
	newMinor, err := apps.ParseMinor(newV)
	if err != nil {
		return nil
	}
	oldMinor, err := apps.ParseMinor(oldV)
	if err != nil {
		return nil // nothing sensible to compare against
	}
	switch {
	case newMinor < oldMinor:
		return field.ErrorList{field.Invalid(fldPath, newV,
			fmt.Sprintf("downgrades are not supported: %s → %s", oldV, newV))}
	case newMinor > oldMinor+1:
		return field.ErrorList{field.Invalid(fldPath, newV,
			fmt.Sprintf("upgrade one minor at a time: %s → v1.%d first", oldV, oldMinor+1))}
	}
	return nil
}

func validateControlPlane(cp *apps.ControlPlaneSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	replicasPath := fldPath.Child("replicas")
	switch {
	case cp.Replicas == nil:
		allErrs = append(allErrs, field.Required(replicasPath, fmt.Sprintf("must be between 1 and %d", apps.MaxControlPlaneReplicas)))
	case *cp.Replicas < 1 || *cp.Replicas > apps.MaxControlPlaneReplicas:
		allErrs = append(allErrs, field.Invalid(replicasPath, *cp.Replicas,
			fmt.Sprintf("must be between 1 and %d", apps.MaxControlPlaneReplicas)))
	}
	presetPath := fldPath.Child("resourcesPreset")
	switch {
	case cp.ResourcesPreset == "":
		allErrs = append(allErrs, field.Required(presetPath, "must be one of "+quoted(apps.ControlPlanePresets)))
	case !contains(apps.ControlPlanePresets, cp.ResourcesPreset):
		allErrs = append(allErrs, field.NotSupported(presetPath, cp.ResourcesPreset, apps.ControlPlanePresets))
	}
	return allErrs
}

// quoted renders allowed values the way field.NotSupported does.
func quoted(values []string) string {
	s := ""
	for i, v := range values {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%q", v)
	}
	return s
}
