package kubevirt

import (
	"context"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/hikube/hikube/pkg/naming"
	"github.com/hikube/hikube/pkg/platform"
	"github.com/hikube/hikube/pkg/provider"
)

// ControlPlaneOptions configure the control-plane half.
type ControlPlaneOptions struct {
	// FieldManager owns what server-side apply writes.
	FieldManager string
	// EtcdStorageClass is the host class of the etcd members' volumes.
	EtcdStorageClass string
	// EtcdStorageSize is each member's volume.
	EtcdStorageSize resource.Quantity
	// EndpointServiceType is the type of the Service tenants reach their API
	// through: LoadBalancer in production (its ingress address is the
	// endpoint), ClusterIP where clients are inside the host cluster.
	EndpointServiceType corev1.ServiceType
	// NodeSelector places control-plane and etcd pods on the host nodes
	// meant for them; Tolerations let them onto those nodes.
	NodeSelector map[string]string
	Tolerations  []corev1.Toleration
	// PlatformNamespace holds the platform (hikube-controller), which may
	// reach the control-plane pods directly.
	PlatformNamespace string
	// StorageClasses maps the tenant-facing classes to the host's, for the
	// CSI driver (the same map as NodesOptions.StorageClasses).
	StorageClasses map[string]string
	// Versions maps a Kubernetes minor to the full version of its images;
	// entries override DefaultVersions.
	Versions map[string]string
	// EtcdImages maps a Kubernetes minor to its etcd image where it is not
	// EtcdImage.
	EtcdImages map[string]string
	// EtcdBootstrapTimeout is how long the members of an etcd that never
	// formed may all run without being ready before they are made afresh
	// (etcdbootstrap.go).
	EtcdBootstrapTimeout time.Duration
	// Probe, when set, replaces the /readyz and /version probe through the
	// endpoint (unit tests).
	Probe func(ctx context.Context, cfg *rest.Config) (gitVersion string, err error)
	// TenantClient, when set, replaces kubernetes.NewForConfig for the
	// tenant (unit tests).
	TenantClient func(*rest.Config) (kubernetes.Interface, error)
}

// Defaults of ControlPlaneOptions.
const (
	DefaultEtcdStorageClass = "replicated"
	// LabelControlPlaneNode marks the host nodes control planes run on.
	LabelControlPlaneNode = "node-role.hikube.io/control-plane"
)

// DefaultControlPlaneOptions returns the production defaults.
func DefaultControlPlaneOptions() ControlPlaneOptions {
	return ControlPlaneOptions{
		FieldManager:        platform.ControllerName,
		EtcdStorageClass:    DefaultEtcdStorageClass,
		EtcdStorageSize:     resource.MustParse("10Gi"),
		EndpointServiceType: corev1.ServiceTypeLoadBalancer,
		NodeSelector:        map[string]string{LabelControlPlaneNode: ""},
		Tolerations: []corev1.Toleration{{
			Key: LabelControlPlaneNode, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule,
		}},
		PlatformNamespace:    platform.Namespace,
		EtcdBootstrapTimeout: DefaultEtcdBootstrapTimeout,
	}
}

// ControlPlane runs tenant control planes as workloads of the host cluster,
// in each cluster's host namespace: an etcd StatefulSet, a Deployment of
// kube-apiserver, kube-controller-manager and kube-scheduler, a Service for
// the endpoint, and per cluster the KubeVirt cloud provider and CSI
// controller. It decides nothing about versions, replica counts or zones:
// the core does.
type ControlPlane struct {
	host kubernetes.Interface
	opts ControlPlaneOptions
	now  func() time.Time
}

// NewControlPlane returns the control-plane half; options left empty take
// DefaultControlPlaneOptions' values.
func NewControlPlane(host kubernetes.Interface, opts ControlPlaneOptions) *ControlPlane {
	def := DefaultControlPlaneOptions()
	if opts.FieldManager == "" {
		opts.FieldManager = def.FieldManager
	}
	if opts.EtcdStorageClass == "" {
		opts.EtcdStorageClass = def.EtcdStorageClass
	}
	if opts.EtcdStorageSize.IsZero() {
		opts.EtcdStorageSize = def.EtcdStorageSize
	}
	if opts.EndpointServiceType == "" {
		opts.EndpointServiceType = def.EndpointServiceType
	}
	if opts.NodeSelector == nil {
		opts.NodeSelector = def.NodeSelector
	}
	if opts.Tolerations == nil {
		opts.Tolerations = def.Tolerations
	}
	if opts.PlatformNamespace == "" {
		opts.PlatformNamespace = def.PlatformNamespace
	}
	if opts.EtcdBootstrapTimeout <= 0 {
		opts.EtcdBootstrapTimeout = def.EtcdBootstrapTimeout
	}
	versions := maps.Clone(DefaultVersions)
	maps.Copy(versions, opts.Versions)
	opts.Versions = versions
	if opts.Probe == nil {
		opts.Probe = probeEndpoint
	}
	return &ControlPlane{host: host, opts: opts, now: time.Now}
}

// Name is the provider half's name.
func (cp *ControlPlane) Name() string { return "kubevirt" }

var _ provider.ControlPlanes = (*ControlPlane)(nil)

// Components of a cluster's control plane: the names of their host objects
// (naming.Component) and the value of labelComponent on them.
const (
	componentEtcd          = "etcd"
	componentControlPlane  = "control-plane"
	componentAPIServer     = "apiserver"
	componentCloudProvider = "kccm"
	componentCSI           = "csi-controller"

	containerEtcd              = "etcd"
	containerAPIServer         = "kube-apiserver"
	containerControllerManager = "kube-controller-manager"
	containerScheduler         = "kube-scheduler"

	// labelComponent tells the pods of a cluster's host namespace apart.
	labelComponent = "apps.hikube.io/component"
)

// names are the host objects of one cluster.
type names struct {
	ns, cluster string
}

func namesOf(c provider.ClusterRef) names { return names{ns: HostNamespace(c), cluster: c.Name} }

func (n names) of(component string) string { return naming.Component(n.cluster, component) }
func (n names) etcd() string               { return n.of(componentEtcd) }
func (n names) controlPlane() string       { return n.of(componentControlPlane) }
func (n names) endpoint() string           { return n.of(componentAPIServer) }

// etcdMember is the stable DNS name of member i through the headless
// Service.
func (n names) etcdMember(i int) string {
	return fmt.Sprintf("%s-%d.%s.%s.svc", n.etcd(), i, n.etcd(), n.ns)
}

// endpointDNSNames are the names the endpoint Service has inside the host.
func (n names) endpointDNSNames() []string {
	svc := n.endpoint()
	return []string{svc, svc + "." + n.ns, svc + "." + n.ns + ".svc", svc + "." + n.ns + ".svc.cluster.local"}
}

// inClusterServer is the tenant API as host pods reach it (the cloud
// provider, the CSI controller).
func (n names) inClusterServer() string {
	return fmt.Sprintf("https://%s.%s.svc:%d", n.endpoint(), n.ns, endpointPort)
}

// componentLabels are the labels of a component's objects and, with the
// cluster's, of its pods; selectors use the component label alone (the
// namespace is the cluster's own).
func componentLabels(c provider.ClusterRef, component string) map[string]string {
	l := clusterLabels(c)
	l[labelComponent] = component
	return l
}

func selectorOf(component string) map[string]string {
	return map[string]string{labelComponent: component}
}
