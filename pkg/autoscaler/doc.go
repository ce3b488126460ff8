// Package autoscaler decides how many nodes each node group of a tenant
// cluster should have. It is pure: Decide takes the groups, their nodes, the
// unschedulable pods and the current time, and returns one Decision per
// group whose count must change, each with the reason the core writes into an
// event on the Cluster. It reads no clock and calls no API; the core in
// pkg/controller/cluster gathers the input and carries the decisions out
// through a provider.
//
// # Input
//
// Group.Nodes are the group's nodes as the core wants them (the NodeSpecs it
// passes to the provider), with Ready taken from the provider's NodeStatus and
// the node's Ready condition: a node the core asked for but the provider has
// not reported yet is simply not Ready. PendingPods are the pods the tenant's
// scheduler marked PodScheduled=False with reason Unschedulable.
//
// # Rules
//
//   - Bounds first: the desired count starts at the current count clamped into
//     [Min, Max], so a change of minReplicas or maxReplicas applies at once
//     (EventReason BelowMin or AboveMax). Above max, nodes are removed in this
//     order: not Ready first, then empty ones (longest empty first), then the
//     rest by name, descending. The input carries no creation time, so "most
//     recent" cannot be told apart beyond readiness; the last tie-break only
//     makes the choice deterministic.
//   - Nodes on their way out (Node.Removing: the provider drains them after
//     an earlier scale-down) are dropped before anything else: they are not
//     capacity (cordoned), not part of the count, and never named again, so a
//     pod pending during a scale-down gets exactly one new node.
//   - Scale up: the scheduler has already said the pending pods fit no
//     existing Ready node, so every pending pod needs new capacity. Each pod is
//     matched against every group's NodeTemplate with TemplateFits (requests
//     incl. init containers and overhead, cpu, memory, pods, ephemeral storage
//     and every extended resource such as nvidia.com/<device>; NoSchedule and
//     NoExecute taints; nodeSelector and required node affinity against the
//     template's labels, zone by zone). Pods are then packed first-fit
//     decreasing onto new nodes; a pod goes to the fitting group with the
//     least waste (fewest extended resources, then fewest cpu, then least
//     memory, then name) that still has room under Max. Pods pinned to zones
//     only share a new node with pods that can live in a common zone, and
//     Decision.Zones tells the core where the added nodes must land.
//   - Capacity on the way: nodes of the group that exist but are not Ready
//     yet (booting), and nodes being added to reach Min, absorb packed nodes
//     before new ones are counted, so booting nodes are not provisioned twice.
//     A node that never becomes Ready therefore holds back scale-up of its
//     group until the core replaces it.
//   - Limits: when pods still cannot be placed because every group that fits
//     them is at Max, a ScaleUpLimited decision (From == To) is added for the
//     least-waste group of those pods, after that group's count change if any,
//     so the core can emit a warning event. Pods that fit no group at all (too
//     big, untolerated taint, selector no group matches, a DaemonSet pod bound
//     to a node name) are reported nowhere: they stay pending and the
//     scheduler's own event explains them.
//   - Scale down: a node whose EmptySince is set and at least ScaleDownGrace
//     before Now is removable; removable nodes go longest-empty first, never
//     below Min, and never in a round where the group scales up.
//
// # Not modelled
//
// Pod (anti-)affinity and topology spread between pending pods, volume
// topology and PreferNoSchedule taints are ignored, so a round may ask for
// fewer nodes than needed; the pods stay pending and the next round asks
// again. Toleration operators Lt and Gt are treated as not tolerating (the
// comparison-operators feature may be off in the tenant cluster), so such pods
// never cause a phantom node.
package autoscaler
