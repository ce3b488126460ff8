// Package quota is the admission plugin that keeps tenants within their
// ResourceQuota and GPU node groups within the platform's GPU capacity. Both
// checks run on create and on updates that raise usage, count from our own
// store (never from the client), and refuse with a 403 that gives the
// numbers. The Service it shares with the gpumodels catalog also keeps the
// quotas' status.used current for kubectl describe quota.
package quota

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/admission"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/pkg/catalog"
	usage "github.com/hikube/hikube/pkg/quota"
)

// PluginName is the name of the plugin in --enable-admission-plugins.
const PluginName = "HikubeQuota"

// Register adds the plugin to the registry of admission plugins.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) { return New(), nil })
}

// WantsService is implemented by plugins that need the quota Service.
type WantsService interface {
	SetQuotaService(*Service)
}

// Initializer hands the Service to the plugins that want it.
type Initializer struct{ Service *Service }

// Initialize implements admission.PluginInitializer.
func (i Initializer) Initialize(p admission.Interface) {
	if w, ok := p.(WantsService); ok {
		w.SetQuotaService(i.Service)
	}
}

// Plugin enforces tenant quota and GPU capacity on clusters.
type Plugin struct {
	*admission.Handler
	svc *Service
}

var (
	_ admission.ValidationInterface     = &Plugin{}
	_ admission.InitializationValidator = &Plugin{}
	_ WantsService                      = &Plugin{}
)

// New returns the plugin; deletes need no check, they only free.
func New() *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update)}
}

// SetQuotaService implements WantsService.
func (p *Plugin) SetQuotaService(s *Service) { p.svc = s }

// ValidateInitialization fails the server start when the plugin was not wired.
func (p *Plugin) ValidateInitialization() error {
	if p.svc == nil {
		return fmt.Errorf("%s: missing quota service", PluginName)
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
	return p.svc.admit(ctx, a, c, old)
}

// admit checks the keys c raises against its namespace's quotas, then the
// GPU models it raises against the free capacity. Each check holds its lock
// while it counts from a live list of our store plus the reservations in
// flight, and an admitted request reserves its usage until the store shows
// its write (or the reservation expires), so concurrent requests cannot both
// take the last unit.
func (s *Service) admit(ctx context.Context, a admission.Attributes, c, old *apps.Cluster) error {
	newUsage, oldUsage := usage.ClusterUsage(c), corev1.ResourceList{}
	if old != nil {
		oldUsage = usage.ClusterUsage(old)
	}
	increased := usage.Increased(oldUsage, newUsage)
	if len(increased) == 0 {
		return nil
	}
	ns, self := c.Namespace, c.Namespace+"/"+c.Name
	if ns == "" {
		ns = a.GetNamespace()
		self = ns + "/" + c.Name
	}
	reserve := false

	quotas, err := s.quotasFor(ctx, ns, increased)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	if len(quotas) > 0 {
		s.nsLocks.LockKey(ns)
		defer func() { _ = s.nsLocks.UnlockKey(ns) }()
		others, err := s.usageExcept(ctx, ns, self)
		if err != nil {
			return apierrors.NewInternalError(err)
		}
		if msgs := usage.Check(c, quotas, others, increased); len(msgs) > 0 {
			return admission.NewForbidden(a, errors.New(strings.Join(msgs, "; ")))
		}
		reserve = true
	}

	var models []catalog.GPUModel
	for _, key := range increased {
		if m, ok := usage.GPUModelOf(key); ok {
			models = append(models, m)
		}
	}
	if len(models) > 0 {
		s.gpuLock.Lock()
		defer s.gpuLock.Unlock()
		if msgs, err := s.checkCapacity(ctx, self, newUsage, models); err != nil {
			return apierrors.NewInternalError(err)
		} else if len(msgs) > 0 {
			return admission.NewForbidden(a, errors.New(strings.Join(msgs, "; ")))
		}
		reserve = true
	}

	if reserve {
		r := reservation{namespace: ns, name: c.Name, usage: newUsage, expires: time.Now().Add(reservationTTL)}
		if old != nil {
			r.fromRV = old.ResourceVersion
		}
		s.ledger.add(r)
	}
	return nil
}

// quotasFor returns the namespace's ResourceQuotas that limit one of keys,
// read live: a quota counts from the moment its create returns. (A cached
// read lets the first writes after a new quota through unchecked, and
// unreserved, so a burst of creates could overshoot it.) The host client's
// rate limit is raised for this read on the write path.
func (s *Service) quotasFor(ctx context.Context, ns string, keys []corev1.ResourceName) ([]corev1.ResourceQuota, error) {
	list, err := s.host.CoreV1().ResourceQuotas(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading the quotas of %s: %w", ns, err)
	}
	var out []corev1.ResourceQuota
	for _, q := range list.Items {
		if !usage.Applies(&q) {
			continue
		}
		for _, k := range keys {
			if _, ok := q.Spec.Hard[k]; ok {
				out = append(out, q)
				break
			}
		}
	}
	return out, nil
}

// checkCapacity refuses GPU models whose free capacity (over all tenants)
// cannot hold the cluster's new reservation.
func (s *Service) checkCapacity(ctx context.Context, self string, newUsage corev1.ResourceList, models []catalog.GPUModel) ([]string, error) {
	capacity, err := s.capacity(ctx)
	if err != nil {
		return nil, err
	}
	others, err := s.usageExcept(ctx, "", self)
	if err != nil {
		return nil, err
	}
	reserved := usage.Reservations(others)
	var msgs []string
	for _, m := range models {
		q := newUsage[usage.GPUResource(m)]
		requested := q.Value()
		if reserved[m.Name]+requested > capacity.Total(m.Name) {
			msgs = append(msgs, usage.CapacityMessage(m, requested, usage.Allocate(capacity[m.Name], reserved[m.Name])))
		}
	}
	return msgs, nil
}
