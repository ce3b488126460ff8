// Package catalog is the admission plugin that holds clusters to what the
// platform offers, following Gardener's shoot validator: the API types and
// their static validation (apis/apps/validation) know the API only, and this
// plugin checks versions, instance types, GPU models and storage classes
// against the catalog the server serves (pkg/catalog, the same table as
// `kubectl get instancetypes` and `kubectl get gpumodels`). It also defaults
// what only the catalog knows (the newest minor), and gives the advice that
// needs it (vCPUs per GPU) as warnings.
//
// Its refusals are field errors (HTTP 422) like static validation's, with the
// same paths and messages, so a client cannot tell where a check runs; an
// older client that validates locally never refuses what a newer server offers.
package catalog

import (
	"context"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/warning"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/pkg/catalog"
)

// PluginName is the name of the plugin in --enable-admission-plugins.
const PluginName = "HikubeCatalog"

// Register adds the plugin to the registry of admission plugins.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) { return New(), nil })
}

// Plugin defaults and validates clusters against the catalog.
type Plugin struct {
	*admission.Handler
}

var (
	_ admission.MutationInterface   = &Plugin{}
	_ admission.ValidationInterface = &Plugin{}
)

// New returns the plugin; deletes name nothing of the catalog.
func New() *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update)}
}

// Admit sets spec.version to the newest offered minor when it is empty. It
// runs on every write, dry runs included, before the registry validates, so
// what is stored (or returned by a dry run) is what the controller acts on.
func (p *Plugin) Admit(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	c, _, err := clusters(a)
	if err != nil || c == nil {
		return err
	}
	if c.Spec.Version == "" {
		c.Spec.Version = catalog.NewestVersion()
	}
	return nil
}

// Validate refuses a cluster that names what the catalog does not offer, and
// warns about what an accepted one may regret.
func (p *Plugin) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	c, old, err := clusters(a)
	if err != nil || c == nil {
		return err
	}
	var errs field.ErrorList
	if old == nil {
		errs = ValidateCluster(c)
	} else {
		errs = ValidateClusterUpdate(c, old)
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(apps.Kind("Cluster"), c.Name, errs)
	}
	for _, w := range ClusterWarnings(c) {
		warning.AddWarning(ctx, "", w)
	}
	return nil
}

// clusters returns the cluster written and, on update, the stored one; nil
// for any other resource or a subresource (status writes keep the spec).
func clusters(a admission.Attributes) (c, old *apps.Cluster, err error) {
	if a.GetResource().GroupResource() != apps.Resource("clusters") || a.GetSubresource() != "" {
		return nil, nil, nil
	}
	c, ok := a.GetObject().(*apps.Cluster)
	if !ok {
		return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("expected a cluster, got %T", a.GetObject()))
	}
	if a.GetOperation() == admission.Update {
		if old, ok = a.GetOldObject().(*apps.Cluster); !ok {
			return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("expected a cluster, got %T", a.GetOldObject()))
		}
	}
	return c, old, nil
}
