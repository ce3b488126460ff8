// Package kubeconfig builds and writes kubeconfig files for one server and one
// user, authenticated either by a client certificate or by a bearer token. The
// local platform writes its users' files with it, and the tenant clusters'
// kubeconfigs are built the same way.
package kubeconfig

import (
	"fmt"
	"net/url"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/hikube/hikube/pkg/atomicfile"
)

// Config is what a single-context kubeconfig holds.
type Config struct {
	// ClusterName names the cluster entry and, joined with the user, the
	// context ("<user>@<cluster>").
	ClusterName string
	// Server is the https URL of the API server.
	Server string
	// CAData is the PEM bundle that verifies the server's certificate.
	CAData []byte
	// UserName names the user entry (and is the CN of the client certificate
	// by convention, though nothing checks it).
	UserName string
	// ClientCertificateData and ClientKeyData are the PEM client certificate
	// and key; set both, or Token.
	ClientCertificateData []byte
	ClientKeyData         []byte
	// Token is a bearer token; set it or the client certificate, not both.
	Token string
	// Namespace is the context's default namespace; empty means "default".
	Namespace string
}

// Validate reports what is missing or contradictory in c.
func (c Config) Validate() error {
	switch {
	case c.ClusterName == "" || c.UserName == "":
		return fmt.Errorf("kubeconfig: cluster name and user name are required")
	case len(c.CAData) == 0:
		// A kubeconfig without a CA would need insecure-skip-tls-verify.
		return fmt.Errorf("kubeconfig for %s: CA data is required", c.UserName)
	}
	u, err := url.Parse(c.Server)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("kubeconfig for %s: server %q is not an https URL", c.UserName, c.Server)
	}
	hasCert := len(c.ClientCertificateData) > 0 || len(c.ClientKeyData) > 0
	switch {
	case hasCert && (len(c.ClientCertificateData) == 0 || len(c.ClientKeyData) == 0):
		return fmt.Errorf("kubeconfig for %s: client certificate and key go together", c.UserName)
	case hasCert && c.Token != "":
		return fmt.Errorf("kubeconfig for %s: set a client certificate or a token, not both", c.UserName)
	case !hasCert && c.Token == "":
		return fmt.Errorf("kubeconfig for %s: a client certificate or a token is required", c.UserName)
	}
	return nil
}

// ContextName is the name of the single context of c.
func (c Config) ContextName() string { return c.UserName + "@" + c.ClusterName }

// Build returns the kubeconfig for c, with its context as current context.
func Build(c Config) (*clientcmdapi.Config, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	cfg := clientcmdapi.NewConfig()
	cluster := clientcmdapi.NewCluster()
	cluster.Server = c.Server
	cluster.CertificateAuthorityData = c.CAData
	cfg.Clusters[c.ClusterName] = cluster

	user := clientcmdapi.NewAuthInfo()
	user.ClientCertificateData = c.ClientCertificateData
	user.ClientKeyData = c.ClientKeyData
	user.Token = c.Token
	cfg.AuthInfos[c.UserName] = user

	ctx := clientcmdapi.NewContext()
	ctx.Cluster = c.ClusterName
	ctx.AuthInfo = c.UserName
	ctx.Namespace = c.Namespace
	cfg.Contexts[c.ContextName()] = ctx
	cfg.CurrentContext = c.ContextName()
	return cfg, nil
}

// Marshal returns the YAML kubeconfig for c.
func Marshal(c Config) ([]byte, error) {
	cfg, err := Build(c)
	if err != nil {
		return nil, err
	}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("encoding kubeconfig for %s: %w", c.UserName, err)
	}
	return data, nil
}

// WriteFile writes the kubeconfig for c to path with mode 0600 (it holds
// credentials), atomically, creating the directory if needed.
func WriteFile(path string, c Config) error {
	data, err := Marshal(c)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("kubeconfig for %s: %w", c.UserName, err)
	}
	return nil
}

// RESTConfig returns the client configuration for c without a file.
func RESTConfig(c Config) (*rest.Config, error) {
	cfg, err := Build(c)
	if err != nil {
		return nil, err
	}
	rc, err := clientcmd.NewDefaultClientConfig(*cfg, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("client config for %s: %w", c.UserName, err)
	}
	return rc, nil
}

// LoadRESTConfig reads a kubeconfig file and returns its current context's
// client configuration.
func LoadRESTConfig(path string) (*rest.Config, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig %s: %w", path, err)
	}
	return rc, nil
}
