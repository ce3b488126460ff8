// Package v1alpha1 is the v1alpha1 version of the apps.hikube.io API: the wire
// format tenants read and write. Conversions to the internal types are generated.
//
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/hikube/hikube/apis/apps
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=io.hikube.apps.v1alpha1
// +groupName=apps.hikube.io
package v1alpha1
