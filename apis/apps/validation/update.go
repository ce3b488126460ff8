package validation

import (
	"fmt"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/hikube/hikube/apis/apps"
)

// validateNodeGroupsUpdate guards what existing nodes cannot follow: their
// root disks can neither move to another storage class nor shrink. New and
// removed groups are free.
func validateNodeGroupsUpdate(newGroups, oldGroups map[string]apps.NodeGroup, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, name := range slices.Sorted(maps.Keys(newGroups)) {
		oldG, ok := oldGroups[name]
		if !ok {
			continue
		}
		newG := newGroups[name]
		p := fldPath.Key(name)
		if oldG.StorageClass != "" && newG.StorageClass != oldG.StorageClass {
			allErrs = append(allErrs, field.Invalid(p.Child("storageClass"), newG.StorageClass, fmt.Sprintf(
				"is immutable: the nodes' root disks cannot move from %s to %s; keep %s (set it explicitly if it came from "+
					"spec.storageClass), or create a new node group with %s and remove this one",
				oldG.StorageClass, newG.StorageClass, oldG.StorageClass, newG.StorageClass)))
		}
		if oldG.EphemeralStorage != nil && newG.EphemeralStorage != nil && newG.EphemeralStorage.Cmp(*oldG.EphemeralStorage) < 0 {
			allErrs = append(allErrs, field.Invalid(p.Child("ephemeralStorage"), newG.EphemeralStorage.String(), fmt.Sprintf(
				"may not shrink below %s: root disks can grow but not shrink; create a new node group with the smaller disk instead",
				oldG.EphemeralStorage.String())))
		}
	}
	return allErrs
}
