package v1alpha1

// Condition types of a Cluster (status.conditions). They are part of the API:
// `kubectl wait --for=condition=Ready`, the plugin and tenants' automation
// read them, so the controller and its clients share these names.
const (
	// ConditionReady summarizes the three below: True when the control plane,
	// the node groups and the add-ons are ready for the current generation;
	// otherwise it carries the reason and message of the first one that is not.
	ConditionReady = "Ready"
	// ConditionControlPlaneReady is True when the control plane serves the
	// version the spec asks for.
	ConditionControlPlaneReady = "ControlPlaneReady"
	// ConditionNodeGroupsReady is True when every node group has the nodes the
	// autoscaler decided and all of them are Ready.
	ConditionNodeGroupsReady = "NodeGroupsReady"
	// ConditionAddonsReady is True when every enabled add-on is ready and the
	// disabled ones are gone.
	ConditionAddonsReady = "AddonsReady"
)

// Reasons of the Ready condition.
const (
	// ReasonClusterReady: everything is ready.
	ReasonClusterReady = "ClusterReady"
	// ReasonDeleting: the cluster is being deleted.
	ReasonDeleting = "Deleting"
	// ReasonPending: a condition Ready depends on was not evaluated yet.
	ReasonPending = "Pending"
	// ReasonReconcileError: a step failed although its condition looks ready;
	// the message has the error, and the controller retries.
	ReasonReconcileError = "ReconcileError"
)

// Reasons of the step conditions. A provider may also report its own reason
// for a control plane that is not ready (such as the local provider's
// BinariesMissing); Ready then carries that reason.
const (
	// ReasonProviderError: the provider failed (ControlPlaneReady,
	// NodeGroupsReady); the message has the error. The controller retries:
	// it is never a Failed cluster.
	ReasonProviderError = "ProviderError"
	// ReasonControlPlaneStarting: the control plane is starting (ControlPlaneReady).
	ReasonControlPlaneStarting = "Starting"
	// ReasonControlPlaneRunning: the control plane serves (ControlPlaneReady).
	ReasonControlPlaneRunning = "Running"
	// ReasonNodesNotReady: nodes are missing or not Ready (NodeGroupsReady).
	ReasonNodesNotReady = "NodesNotReady"
	// ReasonNodesReady: every group has its nodes, Ready (NodeGroupsReady).
	ReasonNodesReady = "NodesReady"
	// ReasonAddonsProgressing: add-ons are installing or being removed (AddonsReady).
	ReasonAddonsProgressing = "AddonsProgressing"
	// ReasonAddonsReady: every enabled add-on is ready (AddonsReady).
	ReasonAddonsReady = "AddonsReady"
)
