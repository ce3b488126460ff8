// Package controlplaneflags builds the command lines of the control-plane
// components hikube runs (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler) from typed structs, so that every component gets its flags
// from one place: the host of the local platform, each local-provider tenant,
// and the container args of a provider's control-plane Deployment. A flag is
// decided here once; callers fill in what differs (ports, paths, whether the
// aggregation layer is on).
//
// The output is deterministic: the same struct gives the same flags in the
// same order, which matters because the local provider restarts a process
// whose command line changed.
package controlplaneflags

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	utilsnet "k8s.io/utils/net"
)

// Defaults hikube uses wherever a KubeAPIServer leaves the field empty.
const (
	// DefaultServiceAccountIssuer is the issuer of service-account tokens.
	DefaultServiceAccountIssuer = "https://kubernetes.default.svc"
	// DefaultServiceClusterIPRange is the Service range of every cluster; its
	// first address (10.96.0.1) is the kubernetes Service, which serving
	// certificates name.
	DefaultServiceClusterIPRange = "10.96.0.0/16"
	// FrontProxyClientCN is the common name of the front-proxy client
	// certificate, the one name requestheader authentication accepts by
	// default.
	FrontProxyClientCN = "front-proxy-client"
)

// DefaultAuthorizationModes authorize kubelets by node and everyone else by
// RBAC.
var DefaultAuthorizationModes = []string{"Node", "RBAC"}

// DefaultKubernetesServiceIP is the kubernetes Service's address in
// DefaultServiceClusterIPRange, which serving certificates name.
var DefaultKubernetesServiceIP = mustServiceIP(DefaultServiceClusterIPRange)

// KubernetesServiceIP is the address kube-apiserver gives the kubernetes
// Service in serviceRange: its first address.
func KubernetesServiceIP(serviceRange string) (net.IP, error) {
	_, ipnet, err := net.ParseCIDR(serviceRange)
	if err != nil {
		return nil, fmt.Errorf("service range %q: %w", serviceRange, err)
	}
	ip, err := utilsnet.GetIndexedIP(ipnet, 1)
	if err != nil {
		return nil, fmt.Errorf("service range %q: %w", serviceRange, err)
	}
	return ip, nil
}

func mustServiceIP(serviceRange string) net.IP {
	ip, err := KubernetesServiceIP(serviceRange)
	if err != nil {
		panic(err)
	}
	return ip
}

// The request headers of the aggregation layer, as kubeadm sets them.
// Aggregated servers (hikube-apiserver included) learn them from the
// kube-system/extension-apiserver-authentication ConfigMap.
const (
	usernameHeader     = "X-Remote-User"
	groupHeader        = "X-Remote-Group"
	extraHeadersPrefix = "X-Remote-Extra-"
)

// KubeAPIServer is what hikube decides about one kube-apiserver. Paths are as
// the apiserver sees them: on this machine, or mounted into its container.
type KubeAPIServer struct {
	// EtcdServers are the etcd client URLs (--etcd-servers). Required.
	EtcdServers []string
	Serving     Serving
	// ClientCAFile verifies client certificates (--client-ca-file). Required.
	ClientCAFile string
	// AuthorizationModes, in order; empty means DefaultAuthorizationModes.
	AuthorizationModes []string
	ServiceAccount     ServiceAccount
	// ServiceClusterIPRange is the Service range; empty means
	// DefaultServiceClusterIPRange.
	ServiceClusterIPRange string
	// EndpointReconcilerType, when set: "none" where the advertised address
	// may not be in an Endpoints object (loopback).
	EndpointReconcilerType string
	// ShutdownDelay, when set, is --shutdown-delay-duration.
	ShutdownDelay *time.Duration
	// Profiling, when set, is --profiling.
	Profiling *bool
	// FrontProxy, when set, turns on the aggregation layer.
	FrontProxy *FrontProxy
	// EnableAggregatorRouting, when set, is --enable-aggregator-routing:
	// false routes to an APIService's Service (which may be an ExternalName)
	// rather than to its Endpoints.
	EnableAggregatorRouting *bool
	// AdmissionPlugins are enabled on top of the apiserver's defaults
	// (--enable-admission-plugins), such as NodeRestriction.
	AdmissionPlugins []string
	// EnableBootstrapTokenAuth lets machines join with kubeadm bootstrap
	// tokens (--enable-bootstrap-token-auth).
	EnableBootstrapTokenAuth bool
	// EtcdTLS, when set, is the client certificate and CA the apiserver
	// reaches etcd with (--etcd-cafile, --etcd-certfile, --etcd-keyfile).
	EtcdTLS *EtcdClientTLS
}

// EtcdClientTLS is how the apiserver authenticates to etcd and verifies it.
type EtcdClientTLS struct {
	CAFile, CertFile, KeyFile string
}

// Serving is where and how the apiserver serves.
type Serving struct {
	// SecurePort is --secure-port. Required.
	SecurePort int
	// BindAddress and AdvertiseAddress, when set.
	BindAddress      string
	AdvertiseAddress string
	// CertDir is where the apiserver would write self-signed certificates;
	// with CertFile and KeyFile set it writes none, but the directory must
	// be writable.
	CertDir string
	// CertFile and KeyFile are the serving certificate and key. Required.
	CertFile string
	KeyFile  string
}

// ServiceAccount configures service-account tokens.
type ServiceAccount struct {
	// KeyFile verifies tokens (a public key, or the private key itself).
	// Required.
	KeyFile string
	// SigningKeyFile signs tokens. Required.
	SigningKeyFile string
	// Issuer; empty means DefaultServiceAccountIssuer.
	Issuer string
}

// FrontProxy is the aggregation layer: the apiserver authenticates to
// aggregated servers with the proxy client certificate and accepts requests
// authenticated by request headers from clients signed by ClientCAFile.
type FrontProxy struct {
	// ClientCAFile signs the front-proxy client certificate. Required.
	ClientCAFile string
	// AllowedNames are the accepted common names; empty means
	// FrontProxyClientCN.
	AllowedNames []string
	// ClientCertFile and ClientKeyFile are the proxy client certificate and
	// key. Required.
	ClientCertFile string
	ClientKeyFile  string
}

// Validate reports every required field that is missing.
func (c KubeAPIServer) Validate() error {
	var errs []error
	missing := func(ok bool, what string) {
		if !ok {
			errs = append(errs, fmt.Errorf("kube-apiserver flags: %s is required", what))
		}
	}
	missing(len(c.EtcdServers) > 0, "EtcdServers")
	missing(c.Serving.SecurePort > 0 && c.Serving.SecurePort < 1<<16, "a Serving.SecurePort in 1-65535")
	missing(c.Serving.CertFile != "" && c.Serving.KeyFile != "", "Serving.CertFile and Serving.KeyFile")
	missing(c.ClientCAFile != "", "ClientCAFile")
	missing(c.ServiceAccount.KeyFile != "" && c.ServiceAccount.SigningKeyFile != "", "ServiceAccount.KeyFile and ServiceAccount.SigningKeyFile")
	if e := c.EtcdTLS; e != nil {
		missing(e.CAFile != "" && e.CertFile != "" && e.KeyFile != "", "EtcdTLS.CAFile, EtcdTLS.CertFile and EtcdTLS.KeyFile")
	}
	if fp := c.FrontProxy; fp != nil {
		missing(fp.ClientCAFile != "", "FrontProxy.ClientCAFile")
		missing(fp.ClientCertFile != "" && fp.ClientKeyFile != "", "FrontProxy.ClientCertFile and FrontProxy.ClientKeyFile")
	}
	return errors.Join(errs...)
}

// Flags returns the command line for c as --flag=value arguments, in a fixed
// order; fields left empty are left out (defaults aside). Call Validate first
// where a KubeAPIServer is not built from constants.
func (c KubeAPIServer) Flags() []string {
	var args []string
	add := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name+"="+value)
		}
	}
	add("etcd-servers", strings.Join(c.EtcdServers, ","))
	if c.Serving.SecurePort != 0 {
		add("secure-port", strconv.Itoa(c.Serving.SecurePort))
	}
	add("bind-address", c.Serving.BindAddress)
	add("advertise-address", c.Serving.AdvertiseAddress)
	add("endpoint-reconciler-type", c.EndpointReconcilerType)
	add("cert-dir", c.Serving.CertDir)
	add("tls-cert-file", c.Serving.CertFile)
	add("tls-private-key-file", c.Serving.KeyFile)
	add("client-ca-file", c.ClientCAFile)
	add("authorization-mode", strings.Join(orDefault(c.AuthorizationModes, DefaultAuthorizationModes), ","))
	add("service-account-key-file", c.ServiceAccount.KeyFile)
	add("service-account-signing-key-file", c.ServiceAccount.SigningKeyFile)
	add("service-account-issuer", cmp.Or(c.ServiceAccount.Issuer, DefaultServiceAccountIssuer))
	add("service-cluster-ip-range", cmp.Or(c.ServiceClusterIPRange, DefaultServiceClusterIPRange))
	if c.ShutdownDelay != nil {
		add("shutdown-delay-duration", c.ShutdownDelay.String())
	}
	if c.Profiling != nil {
		add("profiling", strconv.FormatBool(*c.Profiling))
	}
	if fp := c.FrontProxy; fp != nil {
		add("requestheader-client-ca-file", fp.ClientCAFile)
		add("requestheader-allowed-names", strings.Join(orDefault(fp.AllowedNames, []string{FrontProxyClientCN}), ","))
		add("requestheader-username-headers", usernameHeader)
		add("requestheader-group-headers", groupHeader)
		add("requestheader-extra-headers-prefix", extraHeadersPrefix)
		add("proxy-client-cert-file", fp.ClientCertFile)
		add("proxy-client-key-file", fp.ClientKeyFile)
	}
	if c.EnableAggregatorRouting != nil {
		add("enable-aggregator-routing", strconv.FormatBool(*c.EnableAggregatorRouting))
	}
	add("enable-admission-plugins", strings.Join(c.AdmissionPlugins, ","))
	if c.EnableBootstrapTokenAuth {
		add("enable-bootstrap-token-auth", "true")
	}
	// Last, so that the command lines of apiservers without it (the local
	// provider's, whose restarts follow their command line) do not change.
	if e := c.EtcdTLS; e != nil {
		add("etcd-cafile", e.CAFile)
		add("etcd-certfile", e.CertFile)
		add("etcd-keyfile", e.KeyFile)
	}
	return args
}

func orDefault(v, def []string) []string {
	if len(v) == 0 {
		return def
	}
	return v
}
