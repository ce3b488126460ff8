package v1alpha1

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is the API group of hikube's resources.
const GroupName = "apps.hikube.io"

// SchemeGroupVersion is the group version used to register these objects.
var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1alpha1"}

// Resource takes an unqualified resource and returns a group-qualified GroupResource.
func Resource(resource string) schema.GroupResource {
	return SchemeGroupVersion.WithResource(resource).GroupResource()
}

var (
	// SchemeBuilder registers the v1alpha1 types, their defaults and conversions.
	SchemeBuilder      runtime.SchemeBuilder
	localSchemeBuilder = &SchemeBuilder
	// AddToScheme adds the v1alpha1 types to a scheme.
	AddToScheme = localSchemeBuilder.AddToScheme
)

func init() {
	// The generated conversions and defaults register themselves through
	// localSchemeBuilder; only the hand-written parts are added here.
	localSchemeBuilder.Register(addKnownTypes, addDefaultingFuncs, addFieldLabelConversions)
}

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(SchemeGroupVersion,
		&Cluster{}, &ClusterList{},
		&InstanceType{}, &InstanceTypeList{},
		&GPUModel{}, &GPUModelList{},
		&KubeconfigOptions{}, &KubeconfigRequest{},
	)
	metav1.AddToGroupVersion(scheme, SchemeGroupVersion)
	return nil
}

// ClusterFieldSelectors are the fields of a Cluster that list and watch can select on.
var ClusterFieldSelectors = []string{"metadata.name", "metadata.namespace", "status.phase", "spec.version"}

func addFieldLabelConversions(scheme *runtime.Scheme) error {
	return scheme.AddFieldLabelConversionFunc(SchemeGroupVersion.WithKind("Cluster"),
		func(label, value string) (string, string, error) {
			for _, f := range ClusterFieldSelectors {
				if label == f {
					return label, value, nil
				}
			}
			return "", "", fmt.Errorf("field label not supported for Cluster: %s (supported: %v)", label, ClusterFieldSelectors)
		})
}

// LabelTenant marks a namespace as a tenant of the platform: clusters exist
// only in namespaces that carry it.
const LabelTenant = "hikube.io/tenant"
