package validation

import (
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"maps"
	"slices"

	"github.com/hikube/hikube/apis/apps"
)

var (
	clusterPhases = []apps.ClusterPhase{
		apps.ClusterPending, apps.ClusterProvisioning, apps.ClusterReady, apps.ClusterScaling,
		apps.ClusterUpgrading, apps.ClusterDeleting, apps.ClusterFailed,
	}
	addonStates = []apps.AddonState{apps.AddonInstalling, apps.AddonReady, apps.AddonUninstalling, apps.AddonFailed}
)

// ValidateClusterStatusUpdate checks a write to clusters/status. The spec is
// not checked: the status strategy keeps the old spec.
func ValidateClusterStatusUpdate(newC, oldC *apps.Cluster) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newC.ObjectMeta, &oldC.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validateClusterStatus(&newC.Status, field.NewPath("status"))...)
}

func validateClusterStatus(s *apps.ClusterStatus, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if s.Phase != "" && !contains(clusterPhases, s.Phase) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("phase"), s.Phase, clusterPhases))
	}
	allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(s.ObservedGeneration, fldPath.Child("observedGeneration"))...)
	cpPath := fldPath.Child("controlPlane")
	allErrs = append(allErrs, nonNegative(s.ControlPlane.Replicas, cpPath.Child("replicas"))...)
	allErrs = append(allErrs, nonNegative(s.ControlPlane.ReadyReplicas, cpPath.Child("readyReplicas"))...)
	for _, name := range slices.Sorted(maps.Keys(s.NodeGroups)) {
		allErrs = append(allErrs, validateNodeGroupStatus(s.NodeGroups[name], fldPath.Child("nodeGroups").Key(name))...)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Addons)) {
		st := s.Addons[name].State
		if st != "" && !contains(addonStates, st) {
			allErrs = append(allErrs, field.NotSupported(fldPath.Child("addons").Key(name).Child("state"), st, addonStates))
		}
	}
	return append(allErrs, metav1validation.ValidateConditions(s.Conditions, fldPath.Child("conditions"))...)
}

func validateNodeGroupStatus(g apps.NodeGroupStatus, fldPath *field.Path) field.ErrorList {
	allErrs := nonNegative(g.DesiredReplicas, fldPath.Child("desiredReplicas"))
	allErrs = append(allErrs, nonNegative(g.Replicas, fldPath.Child("replicas"))...)
	allErrs = append(allErrs, nonNegative(g.ReadyReplicas, fldPath.Child("readyReplicas"))...)
	for _, zone := range slices.Sorted(maps.Keys(g.Zones)) {
		allErrs = append(allErrs, nonNegative(g.Zones[zone], fldPath.Child("zones").Key(zone))...)
	}
	return allErrs
}

func nonNegative(v int32, fldPath *field.Path) field.ErrorList {
	return apivalidation.ValidateNonnegativeField(int64(v), fldPath)
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
