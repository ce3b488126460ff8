package catalog

import (
	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

// Datacenters are the zones (topology.kubernetes.io/zone) clusters spread over.
var Datacenters = []string{"geneva", "lucerne", "gland"}

// SupportedVersions are the Kubernetes minors clusters may run, oldest first.
var SupportedVersions = []string{"v1.33", "v1.34", "v1.35", "v1.36", "v1.37"}

// NewestVersion is the default version of a new cluster.
func NewestVersion() string { return SupportedVersions[len(SupportedVersions)-1] }

// IsSupportedVersion says whether v is one of SupportedVersions.
func IsSupportedVersion(v string) bool { return contains(SupportedVersions, v) }

// ParseMinor returns the minor of a "v1.N" version.
func ParseMinor(v string) (int, error) { return apps.ParseMinor(v) }

// ControlPlanePresets size a control-plane replica, smallest first (an
// enumeration of the API).
var ControlPlanePresets = apps.ControlPlanePresets

// StorageClasses are the storage classes offered inside tenant clusters and for root disks.
var StorageClasses = []string{"local", "replicated", "replicated-async"}

// Addons are the add-on keys of spec.addons.
var Addons = []string{"certManager", "ingressNginx", "fluxcd", "monitoringAgents", "gpuOperator", "velero", "gatewayAPI"}

// Defaults of a new cluster and node group: the API's (v1alpha1 applies them),
// named here with the offer they must belong to (the package test checks it).
const (
	DefaultControlPlaneReplicas = v1alpha1.DefaultControlPlaneReplicas
	DefaultControlPlanePreset   = v1alpha1.DefaultControlPlanePreset
	DefaultStorageClass         = v1alpha1.DefaultStorageClass
	DefaultMinReplicas          = v1alpha1.DefaultMinReplicas
	DefaultMaxReplicas          = v1alpha1.DefaultMaxReplicas
	DefaultInstanceType         = v1alpha1.DefaultInstanceType
	DefaultEphemeralStorage     = v1alpha1.DefaultEphemeralStorage
)

// Limits of one cluster, which the API sets.
const (
	MaxControlPlaneReplicas = apps.MaxControlPlaneReplicas
	MaxNodeGroups           = apps.MaxNodeGroups
	MaxReplicasPerGroup     = apps.MaxReplicasPerGroup
	MaxNodesPerCluster      = apps.MaxNodesPerCluster
	MaxEphemeralStorage     = apps.MaxEphemeralStorage
)

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// IsControlPlanePreset says whether p is a control-plane preset.
func IsControlPlanePreset(p string) bool { return contains(ControlPlanePresets, p) }

// IsStorageClass says whether s is an offered storage class.
func IsStorageClass(s string) bool { return contains(StorageClasses, s) }
