// Package provider is the boundary between the reconciler's core, which
// decides what a cluster needs (versions, replica counts, node names and
// placement), and a provider, which carries it out: local processes and
// simulated nodes (provider/local) or KubeVirt VMs and host workloads
// (provider/kubevirt). A provider decides nothing about sizes or placement.
package provider

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"

	"github.com/hikube/hikube/pkg/clusterpki"
)

// ClusterRef and PKI are owned by pkg/clusterpki, which creates and stores
// a cluster's PKI; the contract names them so that providers keep spelling
// provider.ClusterRef and provider.PKI.
type (
	ClusterRef = clusterpki.ClusterRef
	PKI        = clusterpki.PKI
)

// ControlPlaneSpec is what the control plane must run.
type ControlPlaneSpec struct {
	// Minor is the Kubernetes minor to run, such as "v1.37". The core moves it
	// one minor at a time.
	Minor string
	// Replicas and their datacenters (zone of replica i is Zones[i]).
	Replicas int32
	Zones    []string
	// Preset sizes each replica (nano .. 2xlarge); providers map it to resources.
	Preset string
	PKI    PKI
}

// ControlPlaneStatus is what the provider observed of the control plane.
type ControlPlaneStatus struct {
	// Endpoint is the URL of the tenant cluster's API, reachable by tenants.
	Endpoint string
	// Version is the gitVersion the API server reports, such as "v1.37.2".
	Version string
	// Replicas exist; ReadyReplicas answer /readyz.
	Replicas, ReadyReplicas int32
	// Ready is true when the API serves and the scheduler and controller
	// manager run. When false, Reason (CamelCase) and Message tell why and
	// what to do, e.g. BinariesMissing with the command that builds them.
	Ready           bool
	Reason, Message string
	// Terminal says that the control plane cannot become ready by retrying:
	// an operator must act on what Message says (build the binaries of that
	// minor, say). The core then marks the cluster Failed; anything else not
	// ready, errors included, is retried and never fails the cluster.
	Terminal bool
}

// NodeSpec is one worker node the core wants, fully decided: name, zone,
// labels, taints and capacity.
type NodeSpec struct {
	Name     string
	Group    string
	Zone     string
	Labels   map[string]string
	Taints   []corev1.Taint
	Capacity corev1.ResourceList // cpu, memory, ephemeral-storage, pods, nvidia.com/<model>
	// StorageClass of the root disk; EphemeralStorage is in Capacity.
	StorageClass string
}

// NodeStatus is what the provider observed of a node it manages.
type NodeStatus struct {
	Name, Group, Zone string
	Ready             bool
	// Progress says, in a few words, where a node that is not Ready stands
	// ("waiting for its disk", "booting"); the core counts them in the
	// node group's condition. Empty when the provider cannot tell.
	Progress string
	// Removing says the machine is being deleted: the core neither counts it
	// nor asks for it again.
	Removing bool
}

// Provider carries out the core's decisions. Every method is idempotent:
// called again with the same input it changes nothing, and it converges a
// half-done previous attempt (after a controller crash) instead of failing.
type Provider interface {
	// Name is the provider's name ("local", "kubevirt").
	Name() string

	// EnsureControlPlane makes the control plane match spec (start, adopt,
	// restart, upgrade) and reports what it observes.
	EnsureControlPlane(ctx context.Context, c ClusterRef, spec ControlPlaneSpec) (ControlPlaneStatus, error)

	// AdminConfig returns a client configuration with cluster-admin rights
	// on the tenant cluster, for the core's own work inside it (RBAC
	// bindings, storage classes, reading pods and nodes for the autoscaler).
	AdminConfig(ctx context.Context, c ClusterRef) (*rest.Config, error)

	// EnsureNodes makes the worker nodes of the cluster exactly nodes: it
	// creates the missing ones, updates drifted labels/taints/capacity, and
	// removes (drains, then deletes) nodes it manages that are not listed.
	// It reports every node it manages.
	EnsureNodes(ctx context.Context, c ClusterRef, nodes []NodeSpec) ([]NodeStatus, error)

	// ListNodes reports every worker the provider manages for the cluster,
	// including machines that exist but have not joined the cluster yet:
	// the core counts them, so a node that is still booting is not asked
	// for a second time.
	ListNodes(ctx context.Context, c ClusterRef) ([]NodeStatus, error)

	// Delete removes everything the provider created for the cluster:
	// processes or workloads, nodes or VMs, disks, state. It returns done=false
	// while removal is still in progress.
	Delete(ctx context.Context, c ClusterRef) (done bool, err error)
}

// LabelNodeGroup is on every worker node a provider manages, with the node's
// group: the core lists a cluster's nodes by it and the provider owns what
// carries it.
const LabelNodeGroup = "apps.hikube.io/node-group"

// AnnotationDrainStarted is on a worker Node the provider is draining in
// order to remove it, with the time the drain began (RFC 3339). The core
// counts such a node neither as capacity nor as a node of its group: it is
// already on its way out.
const AnnotationDrainStarted = "apps.hikube.io/drain-started"

// NodeReady says whether a node's Ready condition is True.
func NodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
