package validation

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/pkg/catalog"
)

// validateGPUs checks a group's GPU entries: each a catalog model, all the
// same model (a VM gets passed-through GPUs of one model), at most
// MaxGPUsPerNode, and only on an instance family that can carry GPUs. it is
// nil when the instance type is missing or unknown (reported elsewhere).
func validateGPUs(gpus []apps.GPU, it *catalog.InstanceType, fldPath *field.Path) field.ErrorList {
	if len(gpus) == 0 {
		return nil
	}
	var allErrs field.ErrorList
	if len(gpus) > catalog.MaxGPUsPerNode {
		allErrs = append(allErrs, field.TooMany(fldPath, len(gpus), catalog.MaxGPUsPerNode))
	}
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
	text := names[0]
	for _, n := range names[1 : len(names)-1] {
		text += ", " + n
	}
	return text + " or " + names[len(names)-1]
}
