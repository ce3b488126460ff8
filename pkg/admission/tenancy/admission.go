// Package tenancy is the admission plugin that keeps clusters inside tenants:
// a cluster may only be created in a namespace labelled hikube.io/tenant.
package tenancy

import (
	"context"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apiserver/pkg/admission"
	genericadmissioninitializer "k8s.io/apiserver/pkg/admission/initializer"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

// PluginName is the name of the plugin in --enable-admission-plugins.
const PluginName = "HikubeTenancy"

// TenantLabel marks a namespace as a tenant of the platform.
const TenantLabel = v1alpha1.LabelTenant

// Register adds the plugin to the registry of admission plugins.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) { return New(), nil })
}

// Plugin refuses clusters outside tenant namespaces.
type Plugin struct {
	*admission.Handler
	namespaces corelisters.NamespaceLister
}

var (
	_ admission.ValidationInterface                                = &Plugin{}
	_ genericadmissioninitializer.WantsExternalKubeInformerFactory = &Plugin{}
	_ admission.InitializationValidator                            = &Plugin{}
)

// New returns the plugin; it checks creates only, since a namespace's
// existing clusters stay valid if its label is later removed.
func New() *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create)}
}

// SetExternalKubeInformerFactory gives the plugin the host cluster's namespaces.
func (p *Plugin) SetExternalKubeInformerFactory(f informers.SharedInformerFactory) {
	inf := f.Core().V1().Namespaces()
	p.namespaces = inf.Lister()
	p.SetReadyFunc(inf.Informer().HasSynced)
}

// ValidateInitialization fails the server start when the plugin was not wired.
func (p *Plugin) ValidateInitialization() error {
	if p.namespaces == nil {
		return fmt.Errorf("%s: missing namespace lister", PluginName)
	}
	return nil
}

// Validate refuses a cluster whose namespace is not a tenant, with the command that fixes it.
func (p *Plugin) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetResource().GroupResource() != apps.Resource("clusters") || a.GetSubresource() != "" {
		return nil
	}
	if !p.WaitForReady() {
		return admission.NewForbidden(a, fmt.Errorf("not yet ready to check tenancy; retry"))
	}
	ns, err := p.namespaces.Get(a.GetNamespace())
	if apierrors.IsNotFound(err) {
		return admission.NewForbidden(a, fmt.Errorf("namespace %q does not exist", a.GetNamespace()))
	}
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("reading namespace %q: %w", a.GetNamespace(), err))
	}
	if _, ok := ns.Labels[TenantLabel]; !ok {
		return admission.NewForbidden(a, fmt.Errorf(
			"namespace %q is not a hikube tenant: clusters live only in namespaces labelled %s (an administrator can run: kubectl label namespace %s %s=%s)",
			ns.Name, TenantLabel, ns.Name, TenantLabel, ns.Name))
	}
	return nil
}
