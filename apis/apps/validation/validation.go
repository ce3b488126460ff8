// Package validation holds the static checks of the apps.hikube.io API: what a
// Cluster must satisfy on its own, and which transitions an update may make.
// It works on the internal types after defaulting and returns field errors
// (HTTP 422) whose paths and messages say what is allowed. Checks that need
// other objects (GPU capacity, quotas) belong in admission plugins, not here.
package validation

import (
	"fmt"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/naming"
)

// generatedSuffixLength is what the apiserver appends to metadata.generateName.
const generatedSuffixLength = 5

// ValidateClusterName checks a cluster name (or, with prefix, a generateName):
// a DNS-1035 label short enough that every object derived from it stays a
// valid name. It is usable as an apimachinery ValidateNameFunc.
func ValidateClusterName(name string, prefix bool) []string {
	msgs := apivalidation.NameIsDNS1035Label(name, prefix)
	limit := naming.MaxClusterNameLength
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
	return append(allErrs, validateClusterSpec(&c.Spec, nil, field.NewPath("spec"))...)
}

// ValidateClusterUpdate checks an update of a cluster's spec and metadata: the
// new spec must be valid on its own, and the step from the old one allowed.
func ValidateClusterUpdate(newC, oldC *apps.Cluster) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newC.ObjectMeta, &oldC.ObjectMeta, field.NewPath("metadata"))
	specPath := field.NewPath("spec")
	allErrs = append(allErrs, validateClusterSpec(&newC.Spec, &oldC.Spec, specPath)...)
	allErrs = append(allErrs, validateVersionUpdate(newC.Spec.Version, oldC.Spec.Version, specPath.Child("version"))...)
	return append(allErrs, validateNodeGroupsUpdate(newC.Spec.NodeGroups, oldC.Spec.NodeGroups, specPath.Child("nodeGroups"))...)
}

// validateClusterSpec checks a spec on its own. oldSpec is nil on create; on
// update it lets a version the catalog has since dropped stay in place.
func validateClusterSpec(s, oldSpec *apps.ClusterSpec, fldPath *field.Path) field.ErrorList {
	oldVersion := ""
	if oldSpec != nil {
		oldVersion = oldSpec.Version
	}
	allErrs := validateVersion(s.Version, oldVersion, fldPath.Child("version"))
	allErrs = append(allErrs, validateControlPlane(&s.ControlPlane, fldPath.Child("controlPlane"))...)
	allErrs = append(allErrs, validateStorageClass(s.StorageClass, fldPath.Child("storageClass"))...)
	allErrs = append(allErrs, validateNodeGroups(s.NodeGroups, fldPath.Child("nodeGroups"))...)
	return append(allErrs, validateAddons(&s.Addons, fldPath.Child("addons"))...)
}

// validateVersion requires a supported minor. A cluster already running a
// minor the catalog no longer lists may keep it, so that it can still be
// edited (and upgraded) rather than being stuck.
func validateVersion(version, oldVersion string, fldPath *field.Path) field.ErrorList {
	switch {
	case version == "":
		return field.ErrorList{field.Required(fldPath, fmt.Sprintf("a Kubernetes minor such as %q is required", catalog.NewestVersion()))}
	case catalog.IsSupportedVersion(version), version == oldVersion:
		return nil
	default:
		return field.ErrorList{field.NotSupported(fldPath, version, catalog.SupportedVersions)}
	}
}

// validateVersionUpdate allows staying, or going up exactly one minor.
func validateVersionUpdate(newV, oldV string, fldPath *field.Path) field.ErrorList {
	if newV != oldV && !catalog.IsSupportedVersion(newV) {
		return nil // already reported by validateVersion
	}
	newMinor, err := catalog.ParseMinor(newV)
	if err != nil {
		return nil
	}
	oldMinor, err := catalog.ParseMinor(oldV)
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
		allErrs = append(allErrs, field.Required(replicasPath, fmt.Sprintf("must be between 1 and %d", catalog.MaxControlPlaneReplicas)))
	case *cp.Replicas < 1 || *cp.Replicas > catalog.MaxControlPlaneReplicas:
		allErrs = append(allErrs, field.Invalid(replicasPath, *cp.Replicas,
			fmt.Sprintf("must be between 1 and %d", catalog.MaxControlPlaneReplicas)))
	}
	presetPath := fldPath.Child("resourcesPreset")
	switch {
	case cp.ResourcesPreset == "":
		allErrs = append(allErrs, field.Required(presetPath, "must be one of "+quoted(catalog.ControlPlanePresets)))
	case !catalog.IsControlPlanePreset(cp.ResourcesPreset):
		allErrs = append(allErrs, field.NotSupported(presetPath, cp.ResourcesPreset, catalog.ControlPlanePresets))
	}
	return allErrs
}

func validateStorageClass(sc string, fldPath *field.Path) field.ErrorList {
	switch {
	case sc == "":
		return field.ErrorList{field.Required(fldPath, "must be one of "+quoted(catalog.StorageClasses))}
	case !catalog.IsStorageClass(sc):
		return field.ErrorList{field.NotSupported(fldPath, sc, catalog.StorageClasses)}
	}
	return nil
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
