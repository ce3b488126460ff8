package local

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/hikube/hikube/pkg/atomicfile"
	"github.com/hikube/hikube/pkg/controlplaneflags"
	"github.com/hikube/hikube/pkg/kubeconfig"
	"github.com/hikube/hikube/pkg/pki"
	"github.com/hikube/hikube/pkg/provider"
)

// Identities of the components and of the provider inside a tenant cluster.
const (
	userScheduler  = "system:kube-scheduler"
	userKCM        = "system:kube-controller-manager"
	userKwok       = "hikube:kwok"
	userAdmin      = "hikube:local-provider"
	groupMasters   = "system:masters"
	frontProxyUser = controlplaneflags.FrontProxyClientCN
)

// files are the paths of a cluster's certificates and kubeconfigs.
type files struct{ dir string }

func (f files) pki(name string) string  { return filepath.Join(f.dir, "pki", name) }
func (f files) cert(name string) string { return pki.CertPath(filepath.Join(f.dir, "pki"), name) }
func (f files) key(name string) string  { return pki.KeyPath(filepath.Join(f.dir, "pki"), name) }
func (f files) kubeconfig(who string) string {
	return filepath.Join(f.dir, "kubeconfig", who+".kubeconfig")
}
func (f files) log(proc string) string { return filepath.Join(f.dir, "logs", proc+".log") }
func (f files) etcdData() string       { return filepath.Join(f.dir, "etcd") }

// clientIdentity is a client certificate issued for a component.
type clientIdentity struct {
	file, user string
	groups     []string
}

var clientIdentities = []clientIdentity{
	{file: "admin", user: userAdmin, groups: []string{groupMasters}},
	{file: "kube-scheduler", user: userScheduler},
	{file: "kube-controller-manager", user: userKCM},
	// kwok writes node and pod status for every simulated node; the masters
	// group is the simplest grant that covers it in a local cluster.
	{file: "kwok", user: userKwok, groups: []string{groupMasters}},
}

// servingConfig is the kube-apiserver serving certificate: loopback, and
// the in-cluster names and service IP.
func servingConfig() pki.CertConfig {
	return pki.KubeAPIServerServing([]string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, controlplaneflags.DefaultKubernetesServiceIP)
}

// writeIfChanged writes data unless the file already holds it: certificates
// and kubeconfigs are written on every round.
func writeIfChanged(path string, data []byte, mode os.FileMode) error {
	_, err := atomicfile.WriteIfChanged(path, data, mode)
	return err
}

// ensureCerts writes the cluster's certificates and keys under pki/ (CA
// certificates, service-account keys, serving and client certificates
// signed by the cluster CA) and one kubeconfig per client pointing at
// server. Certificates on disk are reused while they still chain to the CA
// and are not near expiry, so repeated calls change nothing.
func ensureCerts(f files, p provider.PKI, server string) error {
	ca, err := pki.ParseKeyPair(p.CACert, p.CAKey)
	if err != nil {
		return fmt.Errorf("parsing the cluster CA: %w", err)
	}
	if len(p.ServiceAccountKey) == 0 || len(p.ServiceAccountPub) == 0 {
		return fmt.Errorf("the PKI lacks the service-account key pair")
	}
	plain := map[string][]byte{
		"ca.crt": p.CACert, "ca.key": p.CAKey, "sa.key": p.ServiceAccountKey, "sa.pub": p.ServiceAccountPub,
	}
	for name, data := range plain {
		if err := writeIfChanged(f.pki(name), data, 0o600); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	pkiDir := filepath.Join(f.dir, "pki")
	if _, _, err := pki.LoadOrCreateCert(ca, pkiDir, "apiserver", servingConfig(), pki.ServerUsage); err != nil {
		return fmt.Errorf("apiserver serving certificate: %w", err)
	}
	if len(p.FrontProxyCACert) > 0 && len(p.FrontProxyCAKey) > 0 {
		fp, err := pki.ParseKeyPair(p.FrontProxyCACert, p.FrontProxyCAKey)
		if err != nil {
			return fmt.Errorf("parsing the front-proxy CA: %w", err)
		}
		if err := writeIfChanged(f.pki("front-proxy-ca.crt"), p.FrontProxyCACert, 0o600); err != nil {
			return fmt.Errorf("writing the front-proxy CA: %w", err)
		}
		if _, _, err := pki.LoadOrCreateCert(fp, pkiDir, frontProxyUser, pki.CertConfig{CommonName: frontProxyUser}, pki.ClientUsage); err != nil {
			return fmt.Errorf("front-proxy client certificate: %w", err)
		}
	}
	for _, id := range clientIdentities {
		kp, _, err := pki.LoadOrCreateCert(ca, pkiDir, id.file, pki.CertConfig{CommonName: id.user, Organization: id.groups}, pki.ClientUsage)
		if err != nil {
			return fmt.Errorf("client certificate of %s: %w", id.user, err)
		}
		keyPEM, err := kp.KeyPEM()
		if err != nil {
			return fmt.Errorf("encoding the key of %s: %w", id.user, err)
		}
		data, err := kubeconfig.Marshal(kubeconfig.Config{
			ClusterName: "tenant", Server: server, CAData: p.CACert,
			UserName: id.user, ClientCertificateData: kp.CertPEM(), ClientKeyData: keyPEM,
		})
		if err != nil {
			return fmt.Errorf("kubeconfig of %s: %w", id.user, err)
		}
		if err := writeIfChanged(f.kubeconfig(id.file), data, 0o600); err != nil {
			return fmt.Errorf("writing the kubeconfig of %s: %w", id.user, err)
		}
	}
	return nil
}

// hasFrontProxy reports whether ensureCerts wrote the front-proxy material.
func (f files) hasFrontProxy() bool {
	_, err := os.Stat(f.cert(frontProxyUser))
	return err == nil
}
