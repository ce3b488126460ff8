package autoscaler

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Group is one node group as the core sees it.
type Group struct {
	Name     string
	Min, Max int32
	// Template is what a new node of the group looks like.
	Template NodeTemplate
	// Nodes are the group's current nodes (see the package doc).
	Nodes []Node
}

// NodeTemplate is the shape of a new node of a group.
type NodeTemplate struct {
	// Labels include node.kubernetes.io/instance-type,
	// node-role.kubernetes.io/<role> and apps.hikube.io/node-group; the zone
	// label is added per zone from Zones.
	Labels map[string]string
	Taints []corev1.Taint
	// Allocatable is cpu, memory, pods, ephemeral-storage, nvidia.com/<device>.
	Allocatable corev1.ResourceList
	// Zones a new node may land in; the core picks the zone, guided by
	// Decision.Zones. Empty means the template's labels say all there is.
	Zones []string
}

// Node is one existing (or requested) node of a group.
type Node struct {
	Name  string
	Zone  string
	Ready bool
	// EmptySince is when the node last became free of pods other than
	// DaemonSet and mirror pods; zero while it runs such pods.
	EmptySince time.Time
	// Removing says the provider is draining the node to delete it (an
	// earlier scale-down): it is neither capacity nor part of the group's
	// count, and no decision names it again.
	Removing bool
}

// Input is everything a decision depends on.
type Input struct {
	Now    time.Time
	Groups []Group
	// PendingPods are the pods the scheduler marked Unschedulable
	// (PodScheduled=False, reason Unschedulable).
	PendingPods []corev1.Pod
	// ScaleDownGrace is how long a node must stay empty before removal.
	ScaleDownGrace time.Duration
}

// Event reasons of a Decision, CamelCase for Kubernetes events.
const (
	ReasonScaledUp       = "ScaledUp"
	ReasonScaledDown     = "ScaledDown"
	ReasonScaleUpLimited = "ScaleUpLimited"
	ReasonBelowMin       = "BelowMin"
	ReasonAboveMax       = "AboveMax"
)

// Decision is one change (or, for ScaleUpLimited, one warning) for a group.
type Decision struct {
	Group string
	// From is the current node count, To the desired one. They are equal
	// for ScaleUpLimited, whose To is the count after the group's other
	// decision of the same round, if any.
	From, To int32
	// Reason is a sentence for the event message, starting with EventReason
	// and the group: "ScaledUp ml from 1 to 3: 4 pending pods need
	// nvidia.com/AD102GL_L40S".
	Reason string
	// EventReason is one of the Reason* constants. ScaleUpLimited is a
	// warning; the others are normal events.
	EventReason string
	// RemoveNodes, when To < From, names the From-To nodes to remove.
	RemoveNodes []string
	// Zones, when To > From, says how many of the added nodes must land in
	// each zone so that pending pods pinned to zones can run there; the
	// remaining added nodes may land in any of the template's zones.
	Zones map[string]int32
}
