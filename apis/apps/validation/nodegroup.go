package validation

import (
	"fmt"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

var maxEphemeralStorage = resource.MustParse(apps.MaxEphemeralStorage)

func validateNodeGroups(groups map[string]apps.NodeGroup, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(groups) > apps.MaxNodeGroups {
		allErrs = append(allErrs, field.TooMany(fldPath, len(groups), apps.MaxNodeGroups))
	}
	var totalMax int64
	for _, name := range slices.Sorted(maps.Keys(groups)) {
		g := groups[name]
		allErrs = append(allErrs, validateNodeGroup(name, &g, fldPath.Key(name))...)
		if g.MaxReplicas != nil && *g.MaxReplicas > 0 {
			totalMax += int64(*g.MaxReplicas)
		}
	}
	if totalMax > apps.MaxNodesPerCluster {
		allErrs = append(allErrs, field.Invalid(fldPath, totalMax, fmt.Sprintf(
			"the node groups' maxReplicas add up to %d, more than the %d nodes a cluster may have; lower some maxReplicas",
			totalMax, apps.MaxNodesPerCluster)))
	}
	return allErrs
}

func validateNodeGroup(name string, g *apps.NodeGroup, fldPath *field.Path) field.ErrorList {
	allErrs := validateNodeGroupName(name, fldPath)
	allErrs = append(allErrs, validateReplicas(g.MinReplicas, g.MaxReplicas, fldPath)...)
	if g.InstanceType == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("instanceType"),
			"an instance type from `kubectl get instancetypes`, such as "+v1alpha1.DefaultInstanceType))
	}
	if g.Resources != nil {
		allErrs = append(allErrs, validateResources(g.Resources, fldPath.Child("resources"))...)
	}
	allErrs = append(allErrs, validateEphemeralStorage(g.EphemeralStorage, fldPath.Child("ephemeralStorage"))...)
	allErrs = append(allErrs, validateRoles(g.Roles, fldPath.Child("roles"))...)
	// What the instance type, storage class and GPU models name is checked
	// against the catalog by admission; only the GPU count is the API's.
	if len(g.GPUs) > apps.MaxGPUsPerNode {
		allErrs = append(allErrs, field.TooMany(fldPath.Child("gpus"), len(g.GPUs), apps.MaxGPUsPerNode))
	}
	return allErrs
}

func validateNodeGroupName(name string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range utilvalidation.IsDNS1123Label(name) {
		allErrs = append(allErrs, field.Invalid(fldPath, name, msg))
	}
	if len(name) > apps.MaxNodeGroupNameLength {
		allErrs = append(allErrs, field.Invalid(fldPath, name, fmt.Sprintf(
			"node group name must be no more than %d characters, so that node names (<cluster>-<group>-<suffix>) stay within 63 characters",
			apps.MaxNodeGroupNameLength)))
	}
	return allErrs
}

// validateReplicas checks 0 <= minReplicas <= maxReplicas <= MaxReplicasPerGroup.
func validateReplicas(minR, maxR *int32, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	minPath, maxPath := fldPath.Child("minReplicas"), fldPath.Child("maxReplicas")
	if minR == nil {
		allErrs = append(allErrs, field.Required(minPath, "the lower bound of the autoscaler, 0 or more"))
	} else if *minR < 0 {
		allErrs = append(allErrs, field.Invalid(minPath, *minR, "must be greater than or equal to 0"))
	}
	if maxR == nil {
		allErrs = append(allErrs, field.Required(maxPath, fmt.Sprintf("the upper bound of the autoscaler, at most %d", apps.MaxReplicasPerGroup)))
	} else if *maxR < 0 || *maxR > apps.MaxReplicasPerGroup {
		allErrs = append(allErrs, field.Invalid(maxPath, *maxR, fmt.Sprintf("must be between 0 and %d", apps.MaxReplicasPerGroup)))
	}
	if minR != nil && maxR != nil && *minR > *maxR {
		allErrs = append(allErrs, field.Invalid(minPath, *minR, fmt.Sprintf("must be less than or equal to maxReplicas (%d)", *maxR)))
	}
	return allErrs
}

// validateResources requires cpu and memory together (a zero quantity means
// unset), each positive, and whole vCPUs since a VM cannot get a fraction.
func validateResources(r *apps.NodeResources, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	cpuPath, memPath := fldPath.Child("cpu"), fldPath.Child("memory")
	cpuSet, memSet := !r.CPU.IsZero(), !r.Memory.IsZero()
	if cpuSet && !memSet {
		allErrs = append(allErrs, field.Required(memPath, "cpu and memory must be set together"))
	}
	if memSet && !cpuSet {
		allErrs = append(allErrs, field.Required(cpuPath, "cpu and memory must be set together"))
	}
	if cpuSet && r.CPU.Sign() < 0 {
		allErrs = append(allErrs, field.Invalid(cpuPath, r.CPU.String(), "must be greater than 0"))
	} else if cpuSet && r.CPU.MilliValue()%1000 != 0 {
		allErrs = append(allErrs, field.Invalid(cpuPath, r.CPU.String(), "must be a whole number of vCPUs, such as 4"))
	}
	if memSet && r.Memory.Sign() < 0 {
		allErrs = append(allErrs, field.Invalid(memPath, r.Memory.String(), "must be greater than 0"))
	}
	return allErrs
}

func validateEphemeralStorage(q *resource.Quantity, fldPath *field.Path) field.ErrorList {
	switch {
	case q == nil:
		return field.ErrorList{field.Required(fldPath, "the size of each node's root disk, such as "+v1alpha1.DefaultEphemeralStorage)}
	case q.Sign() <= 0:
		return field.ErrorList{field.Invalid(fldPath, q.String(), "must be greater than 0")}
	case q.Cmp(maxEphemeralStorage) > 0:
		return field.ErrorList{field.Invalid(fldPath, q.String(), "must be less than or equal to "+apps.MaxEphemeralStorage)}
	}
	return nil
}

// validateRoles checks each role can be the suffix of the label key
// node-role.kubernetes.io/<role>.
func validateRoles(roles []string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	seen := sets.New[string]()
	for i, role := range roles {
		p := fldPath.Index(i)
		if role == "" {
			allErrs = append(allErrs, field.Required(p, "a role name such as ingress-nginx, monitoring or storage"))
			continue
		}
		for _, msg := range utilvalidation.IsDNS1123Label(role) {
			allErrs = append(allErrs, field.Invalid(p, role, msg+" (it becomes the label node-role.kubernetes.io/<role>)"))
		}
		if seen.Has(role) {
			allErrs = append(allErrs, field.Duplicate(p, role))
		}
		seen.Insert(role)
	}
	return allErrs
}
