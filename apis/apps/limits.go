package apps

import (
	"fmt"
	"strconv"
	"strings"
)

// The size limits of a cluster are part of the API: they bound what a spec may
// say whatever the platform offers, so static validation (and any client)
// checks them without asking the server. pkg/catalog republishes them with the
// offer, so that they are written down once.
const (
	MaxControlPlaneReplicas = 5
	MaxNodeGroups           = 20
	MaxReplicasPerGroup     = 100
	MaxNodesPerCluster      = 300
	MaxEphemeralStorage     = "2Ti"
	// MaxGPUsPerNode bounds the GPUs passed through to one VM.
	MaxGPUsPerNode = 8
	// MaxValuesOverrideBytes bounds an add-on's valuesOverride (JSON), as
	// Kubernetes bounds the annotations of an object: eight add-ons at the
	// limit still leave the cluster well under etcd's object size.
	MaxValuesOverrideBytes = 128 * 1024
)

// Name lengths leave room for what the platform derives from a name:
// "<cluster>-kube-controller-manager" and the node names
// "<cluster>-<group>-<suffix>" must stay DNS labels (pkg/naming derives them
// and checks these bounds against its suffixes).
const (
	// MaxClusterNameLength leaves room for the longest suffix the platform adds.
	MaxClusterNameLength = 36
	// MaxNodeGroupNameLength leaves room in node names for the cluster name and a random suffix.
	MaxNodeGroupNameLength = 20
)

// ControlPlanePresets size a control-plane replica, smallest first. They are
// an enumeration of the API (spec.controlPlane.resourcesPreset).
var ControlPlanePresets = []string{"nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"}

// ParseMinor returns the minor of a "v1.N" version, the form of spec.version.
// Whether a minor is offered is the catalog's business; upgrade rules (one
// minor at a time, never down) need only the numbers.
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
