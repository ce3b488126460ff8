package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Cluster is a tenant's managed Kubernetes cluster: a control plane run by the
// platform and groups of worker nodes spread over the datacenters.
type Cluster struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata. The name must be a DNS-1035 label short enough
	// for every object the platform derives from it.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Spec is the cluster the tenant asks for.
	// +optional
	Spec ClusterSpec `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`
	// Status is what the platform observed; written only by the controller.
	// +optional
	Status ClusterStatus `json:"status,omitempty" protobuf:"bytes,3,opt,name=status"`
}

// ClusterSpec describes the desired cluster.
type ClusterSpec struct {
	// Version is the Kubernetes minor of the cluster, such as "v1.37". Defaults to
	// the newest supported minor. Upgrades go one minor at a time, never down.
	// +optional
	Version string `json:"version,omitempty" protobuf:"bytes,1,opt,name=version"`
	// ControlPlane sizes the managed control plane.
	// +optional
	ControlPlane ControlPlaneSpec `json:"controlPlane,omitempty" protobuf:"bytes,2,opt,name=controlPlane"`
	// StorageClass is the default StorageClass inside the cluster: local,
	// replicated or replicated-async. Defaults to replicated.
	// +optional
	StorageClass string `json:"storageClass,omitempty" protobuf:"bytes,3,opt,name=storageClass"`
	// NodeGroups are the groups of worker nodes, keyed by group name.
	// +optional
	NodeGroups map[string]NodeGroup `json:"nodeGroups,omitempty" protobuf:"bytes,4,rep,name=nodeGroups"`
	// Addons are the platform-managed components installed in the cluster.
	// +optional
	Addons Addons `json:"addons,omitempty" protobuf:"bytes,5,opt,name=addons"`
}

// ControlPlaneSpec sizes the managed control plane.
type ControlPlaneSpec struct {
	// Replicas is the number of control-plane replicas, spread over the
	// datacenters. Defaults to 2.
	// +optional
	Replicas *int32 `json:"replicas,omitempty" protobuf:"varint,1,opt,name=replicas"`
	// ResourcesPreset sizes each replica: nano, micro, small, medium, large,
	// xlarge or 2xlarge. Defaults to small.
	// +optional
	ResourcesPreset string `json:"resourcesPreset,omitempty" protobuf:"bytes,2,opt,name=resourcesPreset"`
}

// NodeGroup is a group of identical worker nodes that the platform scales
// between minReplicas and maxReplicas.
type NodeGroup struct {
	// MinReplicas is the lower bound of the autoscaler. Defaults to 0.
	// +optional
	MinReplicas *int32 `json:"minReplicas,omitempty" protobuf:"varint,1,opt,name=minReplicas"`
	// MaxReplicas is the upper bound of the autoscaler. Defaults to 10.
	// +optional
	MaxReplicas *int32 `json:"maxReplicas,omitempty" protobuf:"varint,2,opt,name=maxReplicas"`
	// InstanceType names the size of each node, from the instance-type catalog
	// (kubectl get instancetypes), such as s1.large or u1.xlarge. Defaults to s1.medium.
	// +optional
	InstanceType string `json:"instanceType,omitempty" protobuf:"bytes,3,opt,name=instanceType"`
	// Resources, when set, overrides the instance type's CPU and memory; both
	// cpu and memory must be given.
	// +optional
	Resources *NodeResources `json:"resources,omitempty" protobuf:"bytes,4,opt,name=resources"`
	// EphemeralStorage is the size of each node's root disk. Defaults to 20Gi.
	// +optional
	EphemeralStorage *resource.Quantity `json:"ephemeralStorage,omitempty" protobuf:"bytes,5,opt,name=ephemeralStorage"`
	// Roles label the nodes node-role.kubernetes.io/<role>; the pods of the
	// add-on of that name land there (ingress-nginx, monitoring, storage).
	// +optional
	// +listType=set
	Roles []string `json:"roles,omitempty" protobuf:"bytes,6,rep,name=roles"`
	// StorageClass is the class of the nodes' root disks: local, replicated or
	// replicated-async. Defaults to the cluster's storageClass.
	// +optional
	StorageClass string `json:"storageClass,omitempty" protobuf:"bytes,7,opt,name=storageClass"`
	// GPUs are passed through to every node of the group, one entry per GPU,
	// named by model from the GPU catalog (kubectl get gpumodels), such as
	// nvidia.com/L40S. GPUs need a non-shared instance family (u1 or m1).
	// +optional
	// +listType=atomic
	GPUs []GPU `json:"gpus,omitempty" protobuf:"bytes,8,rep,name=gpus"`
}

// NodeResources overrides the CPU and memory of an instance type.
type NodeResources struct {
	// CPU is the number of vCPUs of each node.
	CPU resource.Quantity `json:"cpu" protobuf:"bytes,1,opt,name=cpu"`
	// Memory is the memory of each node.
	Memory resource.Quantity `json:"memory" protobuf:"bytes,2,opt,name=memory"`
}

// GPU is one GPU passed through to each node of a group.
type GPU struct {
	// Name is the GPU model, by short name (nvidia.com/L40S) or device
	// resource name (nvidia.com/AD102GL_L40S).
	Name string `json:"name" protobuf:"bytes,1,opt,name=name"`
}

// Addons are the components the platform installs and manages in the cluster.
type Addons struct {
	// CertManager issues certificates inside the cluster.
	// +optional
	CertManager *Addon `json:"certManager,omitempty" protobuf:"bytes,1,opt,name=certManager"`
	// IngressNginx is the ingress-nginx controller, pinned to the last chart
	// release (4.15.1): the ingress-nginx project was retired upstream in
	// March 2026 and gets no more fixes, security ones included. New clusters
	// should use gatewayAPI (Gateway API with Envoy Gateway) instead.
	// +optional
	IngressNginx *IngressNginxAddon `json:"ingressNginx,omitempty" protobuf:"bytes,2,opt,name=ingressNginx"`
	// Fluxcd is the GitOps toolkit.
	// +optional
	Fluxcd *Addon `json:"fluxcd,omitempty" protobuf:"bytes,3,opt,name=fluxcd"`
	// MonitoringAgents ship metrics and logs to the platform's monitoring.
	// +optional
	MonitoringAgents *Addon `json:"monitoringAgents,omitempty" protobuf:"bytes,4,opt,name=monitoringAgents"`
	// GPUOperator runs the NVIDIA GPU operator; pods need it to use GPUs.
	// +optional
	GPUOperator *Addon `json:"gpuOperator,omitempty" protobuf:"bytes,5,opt,name=gpuOperator"`
	// Velero backs up the cluster's resources and volumes.
	// +optional
	Velero *Addon `json:"velero,omitempty" protobuf:"bytes,6,opt,name=velero"`
	// GatewayAPI installs the Gateway API CRDs and Envoy Gateway, a maintained
	// Gateway controller: the successor of ingressNginx.
	// +optional
	GatewayAPI *Addon `json:"gatewayAPI,omitempty" protobuf:"bytes,7,opt,name=gatewayAPI"`
}

// Addon switches a component on or off and overrides its Helm values.
type Addon struct {
	// Enabled installs the add-on when true and removes it when false.
	// +optional
	Enabled bool `json:"enabled" protobuf:"varint,1,opt,name=enabled"`
	// ValuesOverride is merged over the add-on's Helm values with Helm's rules:
	// maps merge key by key, anything else replaces, and null removes a key.
	// Values the platform enforces are applied after it. For an add-on made
	// of several charts (monitoringAgents), its top-level keys are the
	// release names (node-exporter, kube-state-metrics, fluent-bit).
	// +optional
	ValuesOverride *runtime.RawExtension `json:"valuesOverride,omitempty" protobuf:"bytes,2,opt,name=valuesOverride"`
}

// IngressNginxAddon is the ingress-nginx add-on with its exposure settings.
type IngressNginxAddon struct {
	Addon `json:",inline" protobuf:"bytes,1,opt,name=addon"`
	// ExposeMethod is how ingress traffic reaches the cluster: Proxied (through
	// the platform's shared ingress) or LoadBalancer (a dedicated address).
	// Defaults to Proxied.
	// +optional
	ExposeMethod IngressExposeMethod `json:"exposeMethod,omitempty" protobuf:"bytes,2,opt,name=exposeMethod,casttype=IngressExposeMethod"`
	// Hosts are the host names routed to this cluster's ingress.
	// +optional
	// +listType=set
	Hosts []string `json:"hosts,omitempty" protobuf:"bytes,3,rep,name=hosts"`
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
	// +optional
	Phase ClusterPhase `json:"phase,omitempty" protobuf:"bytes,1,opt,name=phase,casttype=ClusterPhase"`
	// ObservedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty" protobuf:"varint,2,opt,name=observedGeneration"`
	// Endpoint is the URL of the cluster's Kubernetes API.
	// +optional
	Endpoint string `json:"endpoint,omitempty" protobuf:"bytes,3,opt,name=endpoint"`
	// Version is the Kubernetes version the control plane runs.
	// +optional
	Version string `json:"version,omitempty" protobuf:"bytes,4,opt,name=version"`
	// ControlPlane reports the control-plane replicas.
	// +optional
	ControlPlane ControlPlaneStatus `json:"controlPlane,omitempty" protobuf:"bytes,5,opt,name=controlPlane"`
	// NodeGroups reports each node group, keyed by group name.
	// +optional
	NodeGroups map[string]NodeGroupStatus `json:"nodeGroups,omitempty" protobuf:"bytes,6,rep,name=nodeGroups"`
	// Addons reports each add-on, keyed by add-on name.
	// +optional
	Addons map[string]AddonStatus `json:"addons,omitempty" protobuf:"bytes,7,rep,name=addons"`
	// Conditions are Ready, ControlPlaneReady, NodeGroupsReady and AddonsReady.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" protobuf:"bytes,8,rep,name=conditions"`
}

// ControlPlaneStatus reports the control-plane replicas.
type ControlPlaneStatus struct {
	// Replicas is the number of control-plane replicas that exist.
	// +optional
	Replicas int32 `json:"replicas,omitempty" protobuf:"varint,1,opt,name=replicas"`
	// ReadyReplicas is the number of control-plane replicas that serve.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty" protobuf:"varint,2,opt,name=readyReplicas"`
}

// NodeGroupStatus reports one node group.
type NodeGroupStatus struct {
	// DesiredReplicas is the node count the autoscaler asks for.
	// +optional
	DesiredReplicas int32 `json:"desiredReplicas,omitempty" protobuf:"varint,1,opt,name=desiredReplicas"`
	// Replicas is the number of nodes that exist.
	// +optional
	Replicas int32 `json:"replicas,omitempty" protobuf:"varint,2,opt,name=replicas"`
	// ReadyReplicas is the number of nodes that are Ready.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty" protobuf:"varint,3,opt,name=readyReplicas"`
	// Zones maps each datacenter to the number of the group's nodes in it.
	// +optional
	Zones map[string]int32 `json:"zones,omitempty" protobuf:"bytes,4,rep,name=zones"`
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
	// +optional
	State AddonState `json:"state,omitempty" protobuf:"bytes,1,opt,name=state,casttype=AddonState"`
	// Reason is a CamelCase word for the state, such as ChartUnavailable or
	// InstallFailed.
	// +optional
	Reason string `json:"reason,omitempty" protobuf:"bytes,2,opt,name=reason"`
	// Message explains the state when it is not Ready.
	// +optional
	Message string `json:"message,omitempty" protobuf:"bytes,3,opt,name=message"`
	// Releases are the add-on's Helm releases in the cluster.
	// +optional
	// +listType=map
	// +listMapKey=name
	Releases []AddonRelease `json:"releases,omitempty" protobuf:"bytes,4,rep,name=releases"`
}

// AddonRelease is one Helm release of an add-on.
type AddonRelease struct {
	// Name is the release name.
	Name string `json:"name" protobuf:"bytes,1,opt,name=name"`
	// Namespace is where the release and its workloads live.
	// +optional
	Namespace string `json:"namespace,omitempty" protobuf:"bytes,2,opt,name=namespace"`
	// Chart is the chart's name.
	// +optional
	Chart string `json:"chart,omitempty" protobuf:"bytes,3,opt,name=chart"`
	// ChartVersion is the chart version installed.
	// +optional
	ChartVersion string `json:"chartVersion,omitempty" protobuf:"bytes,4,opt,name=chartVersion"`
	// Revision is the release's current revision.
	// +optional
	Revision int32 `json:"revision,omitempty" protobuf:"varint,5,opt,name=revision"`
	// Status is Helm's status of that revision (deployed, failed,
	// pending-install, ...).
	// +optional
	Status string `json:"status,omitempty" protobuf:"bytes,6,opt,name=status"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ClusterList is a list of Clusters.
type ClusterList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	// Items are the clusters.
	Items []Cluster `json:"items" protobuf:"bytes,2,rep,name=items"`
}

// +genclient
// +genclient:nonNamespaced
// +genclient:onlyVerbs=get,list,watch
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// InstanceType is a size of worker node from the platform's catalog. Read-only.
type InstanceType struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	// Spec is the size of the instance type.
	// +optional
	Spec InstanceTypeSpec `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`
}

// InstanceTypeSpec is the size of an instance type.
type InstanceTypeSpec struct {
	// Family is s1 (standard, 1 vCPU : 2 GiB, shared and burstable), u1
	// (universal, 1:4) or m1 (memory-optimized, 1:8).
	Family string `json:"family" protobuf:"bytes,1,opt,name=family"`
	// Description says what the family is for.
	// +optional
	Description string `json:"description,omitempty" protobuf:"bytes,2,opt,name=description"`
	// CPU is the number of vCPUs.
	CPU resource.Quantity `json:"cpu" protobuf:"bytes,3,opt,name=cpu"`
	// Memory is the memory.
	Memory resource.Quantity `json:"memory" protobuf:"bytes,4,opt,name=memory"`
	// Shared is true for burstable vCPUs shared with other tenants.
	// +optional
	Shared bool `json:"shared,omitempty" protobuf:"varint,5,opt,name=shared"`
	// GPUCapable is true when GPUs may be attached to this instance type.
	// +optional
	GPUCapable bool `json:"gpuCapable,omitempty" protobuf:"varint,6,opt,name=gpuCapable"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// InstanceTypeList is a list of InstanceTypes.
type InstanceTypeList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	// Items are the instance types.
	Items []InstanceType `json:"items" protobuf:"bytes,2,rep,name=items"`
}

// +genclient
// +genclient:nonNamespaced
// +genclient:onlyVerbs=get,list,watch
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// GPUModel is a GPU model the platform offers, such as l40s for
// nvidia.com/L40S. Read-only; its status counts capacity and reservations.
type GPUModel struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	// Spec describes the model.
	// +optional
	Spec GPUModelSpec `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`
	// Status reports capacity and reservations per datacenter.
	// +optional
	Status GPUModelStatus `json:"status,omitempty" protobuf:"bytes,3,opt,name=status"`
}

// GPUModelSpec describes a GPU model.
type GPUModelSpec struct {
	// Vendor is the GPU vendor, such as NVIDIA.
	Vendor string `json:"vendor" protobuf:"bytes,1,opt,name=vendor"`
	// Model is the marketing name, such as "L40S".
	Model string `json:"model" protobuf:"bytes,2,opt,name=model"`
	// ShortName is the name node groups use, such as nvidia.com/L40S.
	ShortName string `json:"shortName" protobuf:"bytes,3,opt,name=shortName"`
	// DeviceResource is the extended resource the nodes advertise, such as
	// nvidia.com/AD102GL_L40S.
	DeviceResource string `json:"deviceResource" protobuf:"bytes,4,opt,name=deviceResource"`
	// Memory is the GPU's memory.
	Memory resource.Quantity `json:"memory" protobuf:"bytes,5,opt,name=memory"`
}

// GPUModelStatus reports capacity and reservations per datacenter.
type GPUModelStatus struct {
	// Datacenters report the model in each datacenter.
	// +optional
	// +listType=map
	// +listMapKey=name
	Datacenters []GPUDatacenterStatus `json:"datacenters,omitempty" protobuf:"bytes,1,rep,name=datacenters"`
}

// GPUDatacenterStatus is the capacity of one GPU model in one datacenter.
type GPUDatacenterStatus struct {
	// Name is the datacenter: geneva, lucerne or gland.
	Name string `json:"name" protobuf:"bytes,1,opt,name=name"`
	// Capacity is the number of GPUs installed.
	Capacity int32 `json:"capacity" protobuf:"varint,2,opt,name=capacity"`
	// Reserved is the number of GPUs reserved by node groups (entries × maxReplicas).
	Reserved int32 `json:"reserved" protobuf:"varint,3,opt,name=reserved"`
	// Free is capacity minus reserved.
	Free int32 `json:"free" protobuf:"varint,4,opt,name=free"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// GPUModelList is a list of GPUModels.
type GPUModelList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	// Items are the GPU models.
	Items []GPUModel `json:"items" protobuf:"bytes,2,rep,name=items"`
}

// +k8s:conversion-gen:explicit-from=net/url.Values
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// KubeconfigOptions are the query parameters of the clusters/kubeconfig and
// clusters/viewerkubeconfig subresources.
type KubeconfigOptions struct {
	metav1.TypeMeta `json:",inline"`
	// ExpirationSeconds is the lifetime of the client certificate in the
	// returned kubeconfig. Defaults to 3600; clamped to [600, 86400].
	// +optional
	ExpirationSeconds int64 `json:"expirationSeconds,omitempty" protobuf:"varint,1,opt,name=expirationSeconds"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// KubeconfigRequest asks for a kubeconfig of a cluster: POST it to the
// clusters/kubeconfig (or clusters/viewerkubeconfig) subresource, and the
// answer carries the kubeconfig and when its client certificate expires, so a
// client learns the expiry without parsing the certificate (as Gardener's
// shoots/adminkubeconfig does). Nothing is stored. A GET of the same
// subresource returns the kubeconfig alone, for kubectl get --raw.
type KubeconfigRequest struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	// Spec is what is asked for.
	Spec KubeconfigRequestSpec `json:"spec" protobuf:"bytes,2,opt,name=spec"`
	// Status is the kubeconfig issued; set by the server.
	// +optional
	Status KubeconfigRequestStatus `json:"status,omitempty" protobuf:"bytes,3,opt,name=status"`
}

// KubeconfigRequestSpec is what a KubeconfigRequest asks for.
type KubeconfigRequestSpec struct {
	// ExpirationSeconds is the lifetime of the client certificate, between
	// 600 (10 minutes) and 86400 (24 hours). Defaults to 3600.
	// +optional
	ExpirationSeconds *int64 `json:"expirationSeconds,omitempty" protobuf:"varint,1,opt,name=expirationSeconds"`
}

// KubeconfigRequestStatus is the kubeconfig issued for a KubeconfigRequest.
type KubeconfigRequestStatus struct {
	// Kubeconfig is the kubeconfig file, with a client certificate signed
	// for the caller by the cluster's CA.
	Kubeconfig []byte `json:"kubeconfig" protobuf:"bytes,1,opt,name=kubeconfig"`
	// ExpirationTimestamp is when the client certificate expires.
	ExpirationTimestamp metav1.Time `json:"expirationTimestamp" protobuf:"bytes,2,opt,name=expirationTimestamp"`
}
