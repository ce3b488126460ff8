package apps

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Cluster is a tenant's managed Kubernetes cluster: a control plane run by the
// platform and groups of worker nodes spread over the datacenters.
type Cluster struct {
	metav1.TypeMeta
	// Standard object metadata. The name must be a DNS-1035 label short enough
	// for every object the platform derives from it.
	metav1.ObjectMeta

	// Spec is the cluster the tenant asks for.
	Spec ClusterSpec
	// Status is what the platform observed; written only by the controller.
	Status ClusterStatus
}

// ClusterSpec describes the desired cluster.
type ClusterSpec struct {
	// Version is the Kubernetes minor of the cluster, such as "v1.37". Defaults to
	// the newest supported minor. Upgrades go one minor at a time, never down.
	Version string
	// ControlPlane sizes the managed control plane.
	ControlPlane ControlPlaneSpec
	// StorageClass is the default StorageClass inside the cluster: local,
	// replicated or replicated-async. Defaults to replicated.
	StorageClass string
	// NodeGroups are the groups of worker nodes, keyed by group name.
	NodeGroups map[string]NodeGroup
	// Addons are the platform-managed components installed in the cluster.
	Addons Addons
}

// ControlPlaneSpec sizes the managed control plane.
type ControlPlaneSpec struct {
	// Replicas is the number of control-plane replicas, spread over the
	// datacenters. Defaults to 2.
	Replicas *int32
	// ResourcesPreset sizes each replica: nano, micro, small, medium, large,
	// xlarge or 2xlarge. Defaults to small.
	ResourcesPreset string
}

// NodeGroup is a group of identical worker nodes that the platform scales
// between minReplicas and maxReplicas.
type NodeGroup struct {
	// MinReplicas is the lower bound of the autoscaler. Defaults to 0.
	MinReplicas *int32
	// MaxReplicas is the upper bound of the autoscaler. Defaults to 10.
	MaxReplicas *int32
	// InstanceType names the size of each node, from the instance-type catalog
	// (kubectl get instancetypes), such as s1.large or u1.xlarge. Defaults to s1.medium.
	InstanceType string
	// Resources, when set, overrides the instance type's CPU and memory; both
	// cpu and memory must be given.
	Resources *NodeResources
	// EphemeralStorage is the size of each node's root disk. Defaults to 20Gi.
	EphemeralStorage *resource.Quantity
	// Roles label the nodes node-role.kubernetes.io/<role>; the pods of the
	// add-on of that name land there (ingress-nginx, monitoring, storage).
	Roles []string
	// StorageClass is the class of the nodes' root disks: local, replicated or
	// replicated-async. Defaults to the cluster's storageClass.
	StorageClass string
	// GPUs are passed through to every node of the group, one entry per GPU,
	// named by model from the GPU catalog (kubectl get gpumodels), such as
	// nvidia.com/L40S. GPUs need a non-shared instance family (u1 or m1).
	GPUs []GPU
}

// NodeResources overrides the CPU and memory of an instance type.
type NodeResources struct {
	// CPU is the number of vCPUs of each node.
	CPU resource.Quantity
	// Memory is the memory of each node.
	Memory resource.Quantity
}

// GPU is one GPU passed through to each node of a group.
type GPU struct {
	// Name is the GPU model, by short name (nvidia.com/L40S) or device
	// resource name (nvidia.com/AD102GL_L40S).
	Name string
}

// Addons are the components the platform installs and manages in the cluster.
type Addons struct {
	// CertManager issues certificates inside the cluster.
	CertManager *Addon
	// IngressNginx is the ingress-nginx controller, pinned to the last chart
	// release (4.15.1): the ingress-nginx project was retired upstream in
	// March 2026 and gets no more fixes, security ones included. New clusters
	// should use gatewayAPI (Gateway API with Envoy Gateway) instead.
	IngressNginx *IngressNginxAddon
	// Fluxcd is the GitOps toolkit.
	Fluxcd *Addon
	// MonitoringAgents ship metrics and logs to the platform's monitoring.
	MonitoringAgents *Addon
	// GPUOperator runs the NVIDIA GPU operator; pods need it to use GPUs.
	GPUOperator *Addon
	// Velero backs up the cluster's resources and volumes.
	Velero *Addon
	// GatewayAPI installs the Gateway API CRDs and Envoy Gateway, a maintained
	// Gateway controller: the successor of ingressNginx.
	GatewayAPI *Addon
}

// Addon switches a component on or off and overrides its Helm values.
type Addon struct {
	// Enabled installs the add-on when true and removes it when false.
	Enabled bool
	// ValuesOverride is merged over the add-on's Helm values with Helm's rules:
	// maps merge key by key, anything else replaces, and null removes a key.
	// Values the platform enforces are applied after it. For an add-on made
	// of several charts (monitoringAgents), its top-level keys are the
	// release names (node-exporter, kube-state-metrics, fluent-bit).
	ValuesOverride *runtime.RawExtension
}

// IngressNginxAddon is the ingress-nginx add-on with its exposure settings.
type IngressNginxAddon struct {
	Addon
	// ExposeMethod is how ingress traffic reaches the cluster: Proxied (through
	// the platform's shared ingress) or LoadBalancer (a dedicated address).
	// Defaults to Proxied.
	ExposeMethod IngressExposeMethod
	// Hosts are the host names routed to this cluster's ingress.
	Hosts []string
}

// IngressExposeMethod says how ingress traffic reaches a cluster.
type IngressExposeMethod string

const (
	// ExposeProxied routes traffic through the platform's shared ingress.
	ExposeProxied IngressExposeMethod = "Proxied"
	// ExposeLoadBalancer gives the ingress a dedicated LoadBalancer address.
	ExposeLoadBalancer IngressExposeMethod = "LoadBalancer"
)

// ClusterPhase is a one-word summary of a cluster's state.
type ClusterPhase string

const (
	ClusterPending      ClusterPhase = "Pending"
	ClusterProvisioning ClusterPhase = "Provisioning"
	ClusterReady        ClusterPhase = "Ready"
	ClusterScaling      ClusterPhase = "Scaling"
	ClusterUpgrading    ClusterPhase = "Upgrading"
	ClusterDeleting     ClusterPhase = "Deleting"
	ClusterFailed       ClusterPhase = "Failed"
)

// ClusterStatus is what the platform observed of a cluster.
type ClusterStatus struct {
	// Phase summarizes the cluster's state: Pending, Provisioning, Ready,
	// Scaling, Upgrading, Deleting or Failed.
	Phase ClusterPhase
	// ObservedGeneration is the spec generation this status describes.
	ObservedGeneration int64
	// Endpoint is the URL of the cluster's Kubernetes API.
	Endpoint string
	// Version is the Kubernetes version the control plane runs.
	Version string
	// ControlPlane reports the control-plane replicas.
	ControlPlane ControlPlaneStatus
	// NodeGroups reports each node group, keyed by group name.
	NodeGroups map[string]NodeGroupStatus
	// Addons reports each add-on, keyed by add-on name.
	Addons map[string]AddonStatus
	// Conditions are Ready, ControlPlaneReady, NodeGroupsReady and AddonsReady.
	Conditions []metav1.Condition
}

// ControlPlaneStatus reports the control-plane replicas.
type ControlPlaneStatus struct {
	// Replicas is the number of control-plane replicas that exist.
	Replicas int32
	// ReadyReplicas is the number of control-plane replicas that serve.
	ReadyReplicas int32
}

// NodeGroupStatus reports one node group.
type NodeGroupStatus struct {
	// DesiredReplicas is the node count the autoscaler asks for.
	DesiredReplicas int32
	// Replicas is the number of nodes that exist.
	Replicas int32
	// ReadyReplicas is the number of nodes that are Ready.
	ReadyReplicas int32
	// Zones maps each datacenter to the number of the group's nodes in it.
	Zones map[string]int32
}

// AddonState is the state of an add-on.
type AddonState string

const (
	// AddonInstalling: the release is being installed or upgraded, or its
	// workloads are not available yet.
	AddonInstalling AddonState = "Installing"
	// AddonReady: every release of the add-on is deployed and its workloads
	// are available.
	AddonReady AddonState = "Ready"
	// AddonUninstalling: the add-on was disabled; its releases are being
	// uninstalled and its namespace deleted.
	AddonUninstalling AddonState = "Uninstalling"
	// AddonFailed: Helm failed, or the chart is not available; the reason
	// and message say which. The controller retries.
	AddonFailed AddonState = "Failed"
)

// AddonStatus reports one add-on.
type AddonStatus struct {
	// State is Installing, Ready, Uninstalling or Failed.
	State AddonState
	// Reason is a CamelCase word for the state, such as ChartUnavailable or
	// InstallFailed.
	Reason string
	// Message explains the state when it is not Ready.
	Message string
	// Releases are the add-on's Helm releases in the cluster.
	Releases []AddonRelease
}

// AddonRelease is one Helm release of an add-on.
type AddonRelease struct {
	// Name is the release name.
	Name string
	// Namespace is where the release and its workloads live.
	Namespace string
	// Chart is the chart's name.
	Chart string
	// ChartVersion is the chart version installed.
	ChartVersion string
	// Revision is the release's current revision.
	Revision int32
	// Status is Helm's status of that revision (deployed, failed,
	// pending-install, ...).
	Status string
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ClusterList is a list of Clusters.
type ClusterList struct {
	metav1.TypeMeta
	metav1.ListMeta
	// Items are the clusters.
	Items []Cluster
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// InstanceType is a size of worker node from the platform's catalog. Read-only.
type InstanceType struct {
	metav1.TypeMeta
	metav1.ObjectMeta
	// Spec is the size of the instance type.
	Spec InstanceTypeSpec
}

// InstanceTypeSpec is the size of an instance type.
type InstanceTypeSpec struct {
	// Family is s1 (standard, 1 vCPU : 2 GiB, shared and burstable), u1
	// (universal, 1:4) or m1 (memory-optimized, 1:8).
	Family string
	// Description says what the family is for.
	Description string
	// CPU is the number of vCPUs.
	CPU resource.Quantity
	// Memory is the memory.
	Memory resource.Quantity
	// Shared is true for burstable vCPUs shared with other tenants.
	Shared bool
	// GPUCapable is true when GPUs may be attached to this instance type.
	GPUCapable bool
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// InstanceTypeList is a list of InstanceTypes.
type InstanceTypeList struct {
	metav1.TypeMeta
	metav1.ListMeta
	// Items are the instance types.
	Items []InstanceType
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// GPUModel is a GPU model the platform offers, such as l40s for
// nvidia.com/L40S. Read-only; its status counts capacity and reservations.
type GPUModel struct {
	metav1.TypeMeta
	metav1.ObjectMeta
	// Spec describes the model.
	Spec GPUModelSpec
	// Status reports capacity and reservations per datacenter.
	Status GPUModelStatus
}

// GPUModelSpec describes a GPU model.
type GPUModelSpec struct {
	// Vendor is the GPU vendor, such as NVIDIA.
	Vendor string
	// Model is the marketing name, such as "L40S".
	Model string
	// ShortName is the name node groups use, such as nvidia.com/L40S.
	ShortName string
	// DeviceResource is the extended resource the nodes advertise, such as
	// nvidia.com/AD102GL_L40S.
	DeviceResource string
	// Memory is the GPU's memory.
	Memory resource.Quantity
}

// GPUModelStatus reports capacity and reservations per datacenter.
type GPUModelStatus struct {
	// Datacenters report the model in each datacenter.
	Datacenters []GPUDatacenterStatus
}

// GPUDatacenterStatus is the capacity of one GPU model in one datacenter.
type GPUDatacenterStatus struct {
	// Name is the datacenter: geneva, lucerne or gland.
	Name string
	// Capacity is the number of GPUs installed.
	Capacity int32
	// Reserved is the number of GPUs reserved by node groups (entries × maxReplicas).
	Reserved int32
	// Free is capacity minus reserved.
	Free int32
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// GPUModelList is a list of GPUModels.
type GPUModelList struct {
	metav1.TypeMeta
	metav1.ListMeta
	// Items are the GPU models.
	Items []GPUModel
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// KubeconfigOptions are the query parameters of the kubeconfig subresources.
type KubeconfigOptions struct {
	metav1.TypeMeta
	// ExpirationSeconds is the lifetime of the client certificate.
	ExpirationSeconds int64
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// KubeconfigRequest asks the kubeconfig subresources for a kubeconfig and
// carries it back with its expiry.
type KubeconfigRequest struct {
	metav1.TypeMeta
	metav1.ObjectMeta
	Spec   KubeconfigRequestSpec
	Status KubeconfigRequestStatus
}

// KubeconfigRequestSpec is what a KubeconfigRequest asks for.
type KubeconfigRequestSpec struct {
	// ExpirationSeconds is the lifetime of the client certificate; nil for
	// the default.
	ExpirationSeconds *int64
}

// KubeconfigRequestStatus is the kubeconfig issued for a KubeconfigRequest.
type KubeconfigRequestStatus struct {
	// Kubeconfig is the kubeconfig file.
	Kubeconfig []byte
	// ExpirationTimestamp is when its client certificate expires.
	ExpirationTimestamp metav1.Time
}
