package v1alpha1

// Condition types of a Cluster (status.conditions). They are part of the API:
// `kubectl wait --for=condition=Ready`, the plugin and tenants' automation
// read them, so the controller and its clients share these names.
const (
	// ConditionReady summarizes ControlPlaneReady and NodeGroupsReady: True
	// when the control plane and the node groups are ready for the current
	// generation; otherwise it carries the reason and message of the first one
	// that is not. Add-ons are not part of it: they have AddonsReady, so that
	// an add-on's install never holds a cluster back.
	ConditionReady = "Ready"
	// ConditionControlPlaneReady is True when the control plane serves the
	// version the spec asks for.
	ConditionControlPlaneReady = "ControlPlaneReady"
	// ConditionNodeGroupsReady is True when every node group has the nodes the
	// autoscaler decided and all of them are Ready.
	ConditionNodeGroupsReady = "NodeGroupsReady"
	// ConditionAddonsReady is True when every enabled add-on is ready and the
	// disabled ones are gone; its reason is that of the first add-on that is
	// not (AddonsProgressing, AddonsFailed).
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

// Reasons of AddonsReady beyond the two above, and of an add-on's own
// status (status.addons[*].reason).
const (
	// ReasonAddonsFailed: at least one add-on failed (AddonsReady).
	ReasonAddonsFailed = "AddonsFailed"
	// ReasonChartUnavailable: the configured chart source has no such chart
	// or version; the message names the reference tried.
	ReasonChartUnavailable = "ChartUnavailable"
	// ReasonInstalling: Helm is installing or upgrading the release.
	ReasonInstalling = "Installing"
	// ReasonInstallFailed: Helm's install, upgrade or rollback failed; the
	// message has Helm's description of the release.
	ReasonInstallFailed = "InstallFailed"
	// ReasonWorkloadsNotAvailable: the release is deployed, but some of its
	// Deployments, DaemonSets or StatefulSets are not available yet.
	ReasonWorkloadsNotAvailable = "WorkloadsNotAvailable"
	// ReasonDeployed: every release is deployed and its workloads available.
	ReasonDeployed = "Deployed"
	// ReasonUninstalling: the add-on was disabled and is being uninstalled.
	ReasonUninstalling = "Uninstalling"
	// ReasonUninstallFailed: Helm's uninstall failed; it is retried.
	ReasonUninstallFailed = "UninstallFailed"
)
