package catalog

import (
	"fmt"
	"strconv"
	"strings"
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
func ParseMinor(v string) (int, error) {
	rest, ok := strings.CutPrefix(v, "v1.")
	if !ok {
		return 0, fmt.Errorf("version %q is not of the form v1.<minor>", v)
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("version %q is not of the form v1.<minor>", v)
	}
	return n, nil
}

// ControlPlanePresets size a control-plane replica, smallest first.
var ControlPlanePresets = []string{"nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"}

// StorageClasses are the storage classes offered inside tenant clusters and for root disks.
var StorageClasses = []string{"local", "replicated", "replicated-async"}

// Addons are the add-on keys of spec.addons.
var Addons = []string{"certManager", "ingressNginx", "fluxcd", "monitoringAgents", "gpuOperator", "velero", "gatewayAPI"}

// Defaults of a new cluster and node group.
const (
	DefaultControlPlaneReplicas = 2
	DefaultControlPlanePreset   = "small"
	DefaultStorageClass         = "replicated"
	DefaultMinReplicas          = 0
	DefaultMaxReplicas          = 10
	DefaultInstanceType         = "s1.medium"
	DefaultEphemeralStorage     = "20Gi"
)

// Limits of one cluster.
const (
	MaxControlPlaneReplicas = 5
	MaxNodeGroups           = 20
	MaxReplicasPerGroup     = 100
	MaxNodesPerCluster      = 300
	MaxEphemeralStorage     = "2Ti"
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
