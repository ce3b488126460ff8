package catalog

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/pkg/catalog"
)

// ValidateCluster checks what a new cluster names against the catalog: its
// version, storage classes, instance types and GPU models, and that GPUs sit
// on an instance family that can carry them. Shape errors (required fields,
// limits) are apis/apps/validation's, which runs first.
func ValidateCluster(c *apps.Cluster) field.ErrorList {
	return validateClusterSpec(&c.Spec, "", field.NewPath("spec"))
}

// ValidateClusterUpdate is ValidateCluster for an update: a cluster already
// running a minor the catalog no longer lists may keep it, so that it can
// still be edited (and upgraded) rather than being stuck.
func ValidateClusterUpdate(newC, oldC *apps.Cluster) field.ErrorList {
	return validateClusterSpec(&newC.Spec, oldC.Spec.Version, field.NewPath("spec"))
}

func validateClusterSpec(s *apps.ClusterSpec, oldVersion string, fldPath *field.Path) field.ErrorList {
	allErrs := validateVersion(s.Version, oldVersion, fldPath.Child("version"))
	allErrs = append(allErrs, validateStorageClass(s.StorageClass, fldPath.Child("storageClass"))...)
	groupsPath := fldPath.Child("nodeGroups")
	for _, name := range slices.Sorted(maps.Keys(s.NodeGroups)) {
		g := s.NodeGroups[name]
		allErrs = append(allErrs, validateNodeGroup(&g, groupsPath.Key(name))...)
	}
	return allErrs
}

// validateVersion requires an offered minor, or the one the cluster runs.
// Admit defaults it, so an empty version means the defaulting did not run.
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

func validateStorageClass(sc string, fldPath *field.Path) field.ErrorList {
	switch {
	case sc == "":
		return field.ErrorList{field.Required(fldPath, "must be one of "+quoted(catalog.StorageClasses))}
	case !catalog.IsStorageClass(sc):
		return field.ErrorList{field.NotSupported(fldPath, sc, catalog.StorageClasses)}
	}
	return nil
}

func validateNodeGroup(g *apps.NodeGroup, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	var it *catalog.InstanceType
	// An empty instance type is a shape error, reported by static validation.
	if g.InstanceType != "" {
		found, ok := catalog.LookupInstanceType(g.InstanceType)
		if ok {
			it = &found
		} else {
			allErrs = append(allErrs, field.NotSupported(fldPath.Child("instanceType"), g.InstanceType, instanceTypeNames()))
		}
	}
	allErrs = append(allErrs, validateStorageClass(g.StorageClass, fldPath.Child("storageClass"))...)
	return append(allErrs, validateGPUs(g.GPUs, it, fldPath.Child("gpus"))...)
}

// instanceTypeNames lists the catalog in its own order (family by family,
// smallest first), which reads better in a message than alphabetical order.
func instanceTypeNames() []string {
	var names []string
	for _, it := range catalog.InstanceTypes() {
		names = append(names, it.Name)
	}
	return names
}

// validateGPUs checks a group's GPU entries: each a catalog model, all the
// same model (a VM gets passed-through GPUs of one model), and only on an
// instance family that can carry GPUs. it is nil when the instance type is
// missing or unknown (reported elsewhere). The count per node is an API
// limit, checked by static validation.
func validateGPUs(gpus []apps.GPU, it *catalog.InstanceType, fldPath *field.Path) field.ErrorList {
	if len(gpus) == 0 {
		return nil
	}
	var allErrs field.ErrorList
	if it != nil && !it.Family.GPUCapable() {
		allErrs = append(allErrs, field.Forbidden(fldPath, fmt.Sprintf(
			"instance type %s is in the shared %s family, which cannot carry GPUs; use an instance type of the %s family",
			it.Name, it.Family.Name, gpuFamiliesText())))
	}
	first := -1
	var firstModel catalog.GPUModel
	for i, gpu := range gpus {
		namePath := fldPath.Index(i).Child("name")
		if gpu.Name == "" {
			// Required is a shape error, but its message names the catalog's models.
			allErrs = append(allErrs, field.Required(namePath, "a GPU model such as "+catalog.GPUNames()[0]))
			continue
		}
		m, ok := catalog.LookupGPU(gpu.Name)
		if !ok {
			allErrs = append(allErrs, field.NotSupported(namePath, gpu.Name, catalog.GPUNames()))
			continue
		}
		if first < 0 {
			first, firstModel = i, m
			continue
		}
		if m.Name != firstModel.Name {
			allErrs = append(allErrs, field.Invalid(namePath, gpu.Name, fmt.Sprintf(
				"all GPUs of a node group must be the same model (a VM gets one model), and gpus[%d] is %s; put %s in another node group",
				first, firstModel.ShortName, m.ShortName)))
		}
	}
	return allErrs
}

// gpuFamiliesText turns "u1, m1" into "u1 or m1" for a sentence.
func gpuFamiliesText() string {
	var names []string
	for _, f := range catalog.Families {
		if f.GPUCapable() {
			names = append(names, f.Name)
		}
	}
	switch len(names) {
	case 0:
		return "(none)"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// quoted renders allowed values the way field.NotSupported does.
func quoted(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
