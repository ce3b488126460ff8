package kubevirt

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/version"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	discoveryclient "k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"github.com/hikube/hikube/pkg/provider"
)

// endpointService is how tenants reach their API: port 443 to the
// apiservers' 6443. Port 6443 is served too, because the apiservers
// advertise the ingress address with their own port in the tenant's
// kubernetes Service, which the tenant's pods use.
func (cp *ControlPlane) endpointService(c provider.ClusterRef) *corev1ac.ServiceApplyConfiguration {
	n := namesOf(c)
	return corev1ac.Service(n.endpoint(), n.ns).
		WithLabels(componentLabels(c, componentAPIServer)).
		WithSpec(corev1ac.ServiceSpec().
			WithType(cp.opts.EndpointServiceType).
			WithSelector(selectorOf(componentControlPlane)).
			WithPorts(
				corev1ac.ServicePort().WithName("https").WithProtocol(corev1.ProtocolTCP).WithPort(endpointPort).WithTargetPort(intstr.FromInt32(apiserverPort)),
				corev1ac.ServicePort().WithName("kubernetes").WithProtocol(corev1.ProtocolTCP).WithPort(apiserverPort).WithTargetPort(intstr.FromInt32(apiserverPort)),
			))
}

// endpointHost is the address tenants reach the Service at: its first
// load-balancer ingress (IP, else host name), or, for a Service that is not
// a LoadBalancer, its name inside the host. Empty while a LoadBalancer has
// no ingress yet.
func endpointHost(svc *corev1.Service) string {
	if svc == nil {
		return ""
	}
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return svc.Name + "." + svc.Namespace + ".svc"
	}
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			return in.IP
		}
		if in.Hostname != "" {
			return in.Hostname
		}
	}
	return ""
}

// endpointURL is https://<host>:443.
func endpointURL(host string) string {
	return "https://" + net.JoinHostPort(host, strconv.Itoa(endpointPort))
}

// probeTimeout bounds each request of a probe: a call stays short, the
// next reconcile asks again.
const probeTimeout = 2 * time.Second

// probeEndpoint asks the tenant API for /readyz and /version through the
// endpoint, with the admin credentials, and returns its gitVersion.
func probeEndpoint(ctx context.Context, cfg *rest.Config) (string, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = probeTimeout
	dc, err := discoveryclient.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return "", fmt.Errorf("client for %s: %w", cfg.Host, err)
	}
	if _, err := dc.RESTClient().Get().AbsPath("/readyz").MaxRetries(0).DoRaw(ctx); err != nil {
		return "", fmt.Errorf("%s/readyz: %w", cfg.Host, err)
	}
	body, err := dc.RESTClient().Get().AbsPath("/version").MaxRetries(0).DoRaw(ctx)
	if err != nil {
		return "", fmt.Errorf("%s/version: %w", cfg.Host, err)
	}
	var v version.Info
	if err := json.Unmarshal(body, &v); err != nil {
		return "", fmt.Errorf("%s/version: %w", cfg.Host, err)
	}
	return v.GitVersion, nil
}
