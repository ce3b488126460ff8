package kubevirt

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultVersions are the full Kubernetes versions of the control-plane
// images per minor: the patch releases this platform runs.
var DefaultVersions = map[string]string{
	"v1.36": "v1.36.3",
	"v1.37": "v1.37.2",
}

// EtcdImage is the etcd of every minor hikube runs unless
// ControlPlaneOptions.EtcdImages names another; when a minor's differs from
// the running one, the StatefulSet rolls first (see plan).
const EtcdImage = "registry.k8s.io/etcd:3.7.0-0"

// etcdImageFor is the etcd image for a Kubernetes minor.
func (cp *ControlPlane) etcdImageFor(minor string) string {
	if img, ok := cp.opts.EtcdImages[minor]; ok {
		return img
	}
	return EtcdImage
}

// componentImage is registry.k8s.io/<component>:<version>.
func componentImage(component, version string) string {
	return "registry.k8s.io/" + component + ":" + version
}

// imageVersion is the tag of an image reference ("" without one).
func imageVersion(image string) string {
	if i := strings.LastIndexByte(image, ':'); i >= 0 && !strings.Contains(image[i:], "/") {
		return image[i+1:]
	}
	return ""
}

// minorOf turns v1.37.2 into v1.37.
func minorOf(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return version
	}
	return parts[0] + "." + parts[1]
}

// minorNumber is 37 for v1.37; -1 when it is not a v1.N minor.
func minorNumber(minor string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(minorOf(minor), "v1."))
	if err != nil || !strings.HasPrefix(minor, "v1.") {
		return -1
	}
	return n
}

// step is what one Ensure applies: the versions of the etcd StatefulSet and
// of the control-plane Deployment, and what it says about the upgrade.
type step struct {
	// etcdImage is the image the StatefulSet gets; version the one the
	// Deployment gets.
	etcdImage, version string
	// upgrading is set while the running control plane is not at the
	// target; reason and message then say which step runs.
	upgrading       bool
	reason, message string
	// terminal is a move retrying cannot make (more than one minor).
	terminal bool
}

// Reasons of a control plane that is not Ready.
const (
	ReasonWaitingForEndpoint = "WaitingForEndpoint"
	ReasonEtcdStarting       = "EtcdStarting"
	ReasonStarting           = "Starting"
	ReasonUpgradingEtcd      = "UpgradingEtcd"
	ReasonUpgrading          = "Upgrading"
	ReasonUnknownVersion     = "UnknownVersion"
	ReasonUnsupportedUpgrade = "UnsupportedUpgrade"
)

// plan decides the step of an upgrade from what runs (the Deployment's
// kube-apiserver version and the StatefulSet's image, empty when they do
// not exist yet) to target, the full version of the wanted minor. etcd
// moves first when its image changes; the Deployment follows once every
// member runs the new image and is ready. A control plane moves one minor
// at a time; the core never asks for more.
func plan(runningVersion, runningEtcd string, etcdRolledOut bool, target, wantEtcd string) step {
	if runningVersion == "" {
		return step{etcdImage: wantEtcd, version: target}
	}
	from, to := minorNumber(runningVersion), minorNumber(target)
	if from >= 0 && to >= 0 && (to-from > 1 || to < from) {
		return step{etcdImage: runningEtcd, version: runningVersion, terminal: true, reason: ReasonUnsupportedUpgrade,
			message: fmt.Sprintf("the control plane runs %s and cannot move to %s: one minor up at a time", runningVersion, target)}
	}
	if runningVersion == target {
		if runningEtcd == "" || runningEtcd == wantEtcd {
			return step{etcdImage: wantEtcd, version: target}
		}
		// Only etcd changes (a new image for the same minor).
		return step{etcdImage: wantEtcd, version: target, upgrading: true, reason: ReasonUpgradingEtcd,
			message: fmt.Sprintf("upgrading etcd to %s", imageVersion(wantEtcd))}
	}
	s := step{etcdImage: wantEtcd, version: target, upgrading: true}
	if runningEtcd != "" && (runningEtcd != wantEtcd || !etcdRolledOut) {
		// etcd first: the Deployment keeps its version until the
		// members run the new image and are ready.
		s.version = runningVersion
		s.reason = ReasonUpgradingEtcd
		s.message = fmt.Sprintf("upgrading from %s to %s: step 1 of 2, etcd to %s", runningVersion, target, imageVersion(wantEtcd))
		if runningEtcd == wantEtcd {
			s.message = fmt.Sprintf("upgrading from %s to %s: step 1 of 2, waiting for etcd %s", runningVersion, target, imageVersion(wantEtcd))
		}
		return s
	}
	s.reason = ReasonUpgrading
	s.message = fmt.Sprintf("upgrading from %s to %s: step 2 of 2, rolling the control-plane replicas", runningVersion, target)
	return s
}
