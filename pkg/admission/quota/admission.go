// Package quota is the admission plugin that keeps tenants within their
// ResourceQuota and GPU node groups within the platform's GPU capacity. It is
// an adapter: the checks, the charges to the shared usage records (the
// quotas' status.used, the GPU usage ConfigMap) and the wording of refusals
// are pkg/quota's Tracker; the plugin hands it the cluster of a create or
// update and turns its refusals into a 403 that gives the numbers. The
// registry gives back what did not land (pkg/registry/apps/cluster), and
// hikube-controller corrects drift (pkg/controller/quotastatus).
package quota

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apiserver/pkg/admission"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/hikube/hikube/apis/apps"
	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
	"github.com/hikube/hikube/pkg/quota"
)

// PluginName is the name of the plugin in --enable-admission-plugins.
const PluginName = "HikubeQuota"

// Register adds the plugin to the registry of admission plugins.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) { return New(), nil })
}

// WantsTracker is implemented by plugins that need the quota Tracker.
type WantsTracker interface {
	SetQuotaTracker(*quota.Tracker)
}

// Initializer hands the Tracker to the plugins that want it.
type Initializer struct{ Tracker *quota.Tracker }

// Initialize implements admission.PluginInitializer.
func (i Initializer) Initialize(p admission.Interface) {
	if w, ok := p.(WantsTracker); ok {
		w.SetQuotaTracker(i.Tracker)
	}
}

// NewTracker wires the Tracker from the generic server configuration: the
// loopback client reaches our store (to seed a usage record), ClientConfig
// and SharedInformerFactory the host, where the records live. Call it from ExtraAdmissionInitializers, so that the informers it
// asks for start with the server's. capacitySource is one of
// quota.CapacitySourceInventory (the default when empty) and
// quota.CapacitySourceNodes.
func NewTracker(c *genericapiserver.RecommendedConfig, capacitySource string) (*quota.Tracker, error) {
	if c.LoopbackClientConfig == nil || c.ClientConfig == nil || c.SharedInformerFactory == nil {
		return nil, fmt.Errorf("quota admission needs the loopback client and the host cluster (--kubeconfig)")
	}
	clusters, err := clientset.NewForConfig(c.LoopbackClientConfig)
	if err != nil {
		return nil, fmt.Errorf("loopback client: %w", err)
	}
	// Admission reads and charges quotas and the GPU usage on the write
	// path: the default client rate limit (5/s) would throttle creates.
	hostCfg := rest.CopyConfig(c.ClientConfig)
	hostCfg.QPS, hostCfg.Burst = 200, 400
	host, err := kubernetes.NewForConfig(hostCfg)
	if err != nil {
		return nil, fmt.Errorf("host client: %w", err)
	}
	var capacity quota.CapacityFunc
	switch capacitySource {
	case quota.CapacitySourceInventory, "":
		capacity = quota.InventoryCapacity(host)
	case quota.CapacitySourceNodes:
		capacity = quota.NodeCapacity(c.SharedInformerFactory.Core().V1().Nodes().Lister())
	default:
		return nil, fmt.Errorf("--gpu-capacity-source=%q: want %s or %s", capacitySource, quota.CapacitySourceInventory, quota.CapacitySourceNodes)
	}
	t := quota.NewTracker(clusters, host, capacity)
	t.SetQuotaLister(c.SharedInformerFactory.Core().V1().ResourceQuotas().Lister())
	return t, nil
}

// Plugin enforces tenant quota and GPU capacity on clusters.
type Plugin struct {
	*admission.Handler
	tracker *quota.Tracker
}

var (
	_ admission.ValidationInterface     = &Plugin{}
	_ admission.InitializationValidator = &Plugin{}
	_ WantsTracker                      = &Plugin{}
)

// New returns the plugin; deletes need no check, they only free.
func New() *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update)}
}

// SetQuotaTracker implements WantsTracker.
func (p *Plugin) SetQuotaTracker(t *quota.Tracker) { p.tracker = t }

// ValidateInitialization fails the server start when the plugin was not wired.
func (p *Plugin) ValidateInitialization() error {
	if p.tracker == nil {
		return fmt.Errorf("%s: missing quota tracker", PluginName)
	}
	return nil
}

// Validate checks a create or update of a cluster.
func (p *Plugin) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetResource().GroupResource() != apps.Resource("clusters") || a.GetSubresource() != "" {
		return nil
	}
	c, ok := a.GetObject().(*apps.Cluster)
	if !ok {
		return apierrors.NewBadRequest(fmt.Sprintf("expected a cluster, got %T", a.GetObject()))
	}
	var old *apps.Cluster
	if a.GetOperation() == admission.Update {
		if old, ok = a.GetOldObject().(*apps.Cluster); !ok {
			return apierrors.NewBadRequest(fmt.Sprintf("expected a cluster, got %T", a.GetOldObject()))
		}
	}
	ns := c.Namespace
	if ns == "" {
		ns = a.GetNamespace()
	}
	refusals, err := p.tracker.Reserve(ctx, ns, c, old, a.IsDryRun())
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	if len(refusals) > 0 {
		return admission.NewForbidden(a, errors.New(strings.Join(refusals, "; ")))
	}
	return nil
}
