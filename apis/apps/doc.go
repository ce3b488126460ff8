// Package apps holds the internal types of the apps.hikube.io API group: the
// form the server works with. Versioned types convert to and from these.
//
// +k8s:deepcopy-gen=package
// +groupName=apps.hikube.io
package apps
