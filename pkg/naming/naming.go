// Package naming derives the names of the objects the platform creates for a
// cluster. The API bounds cluster and node-group names (apis/apps), and this
// package's test checks those bounds leave room for every suffix added here,
// so that every derived name stays a valid Kubernetes name.
package naming

import (
	"fmt"

	"github.com/hikube/hikube/apis/apps"
)

const (
	// MaxClusterNameLength leaves room for the longest suffix the platform adds.
	MaxClusterNameLength = apps.MaxClusterNameLength
	// MaxNodeGroupNameLength leaves room in node names for the cluster name and a random suffix.
	MaxNodeGroupNameLength = apps.MaxNodeGroupNameLength
	// nodeSuffixLength is the random suffix of a node name, with its dash.
	nodeSuffixLength = 6
	// longestComponentSuffix is the longest per-cluster suffix ("-kube-controller-manager" is 24).
	longestComponentSuffix = "-kube-controller-manager"
)

// Component names an object of a cluster's control plane, such as "prod-etcd".
func Component(cluster, component string) string { return cluster + "-" + component }

// NodeName names a worker node of a group: <cluster>-<group>-<suffix>, at most 63 characters.
func NodeName(cluster, group, suffix string) string {
	return fmt.Sprintf("%s-%s-%s", cluster, group, suffix)
}

// HostNamespace names the host namespace that holds a tenant cluster's
// machines: hikube-<tenant namespace>-<cluster>, or, when that passes a
// DNS label's 63 characters, its first 54 and 8 characters of the cluster's
// UID, so that two long names cut alike still differ.
func HostNamespace(tenant, cluster, uid string) string {
	name := "hikube-" + tenant + "-" + cluster
	if len(name) <= 63 {
		return name
	}
	return name[:63-9] + "-" + uid[:min(8, len(uid))]
}

// Longest derived names, checked by the package test against the 63-character DNS label limit.
func longestNodeName() int {
	return MaxClusterNameLength + 1 + MaxNodeGroupNameLength + nodeSuffixLength
}

func longestComponentName() int { return MaxClusterNameLength + len(longestComponentSuffix) }
