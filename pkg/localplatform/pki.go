package localplatform

import (
	"fmt"
	"net"
	"path/filepath"

	"github.com/hikube/hikube/pkg/controlplaneflags"
	"github.com/hikube/hikube/pkg/pki"
	"github.com/hikube/hikube/pkg/platform"
)

// Names of the hikube-apiserver Service; its serving certificate must be valid
// for the name the aggregator verifies: <service>.<namespace>.svc.
const (
	hikubeNamespace   = platform.Namespace
	hikubeServiceName = "hikube-apiserver"
	hikubeSAName      = "hikube-apiserver"
	apiServiceName    = "v1alpha1.apps.hikube.io"
	frontProxyClient  = controlplaneflags.FrontProxyClientCN
)

// platformPKI is every certificate of the platform, under Home/pki.
type platformPKI struct {
	dir          string
	clusterCA    *pki.KeyPair // kube-apiserver serving and client certificates
	frontProxyCA *pki.KeyPair
	hikubeCA     *pki.KeyPair // the APIService caBundle
	saKeyPath    string
}

func (k *platformPKI) cert(name string) string { return pki.CertPath(k.dir, name) }
func (k *platformPKI) key(name string) string  { return pki.KeyPath(k.dir, name) }

// clientUsers are the users Start writes kubeconfigs for, with their groups.
var clientUsers = []struct {
	name   string
	groups []string
}{
	{name: "admin", groups: []string{"system:masters"}},
	{name: "alice"},
	{name: "bob"},
}

type leafSpec struct {
	name  string
	ca    *pki.KeyPair
	cfg   pki.CertConfig
	usage pki.Usage
}

// ensurePKI loads the platform's certificates from dir, creating what is
// missing, expired or no longer signed by its CA.
func ensurePKI(dir string) (*platformPKI, error) {
	k := &platformPKI{dir: dir, saKeyPath: filepath.Join(dir, "sa.key")}
	cas := []struct {
		name string
		cn   string
		into **pki.KeyPair
	}{
		{name: "ca", cn: "hikube-local-cluster-ca", into: &k.clusterCA},
		{name: "front-proxy-ca", cn: "hikube-local-front-proxy-ca", into: &k.frontProxyCA},
		{name: "hikube-ca", cn: "hikube-local-apiserver-ca", into: &k.hikubeCA},
	}
	for _, ca := range cas {
		kp, _, err := pki.LoadOrCreateCA(dir, ca.name, pki.CertConfig{CommonName: ca.cn})
		if err != nil {
			return nil, fmt.Errorf("CA %s: %w", ca.name, err)
		}
		*ca.into = kp
	}

	loopback := []net.IP{net.IPv4(127, 0, 0, 1)}
	leaves := []leafSpec{
		{name: "kube-apiserver", ca: k.clusterCA, usage: pki.ServerUsage,
			cfg: pki.KubeAPIServerServing([]string{"localhost"}, loopback, controlplaneflags.DefaultKubernetesServiceIP)},
		{name: frontProxyClient, ca: k.frontProxyCA, usage: pki.ClientUsage, cfg: pki.CertConfig{CommonName: frontProxyClient}},
		{name: "hikube-apiserver", ca: k.hikubeCA, usage: pki.ServerUsage, cfg: pki.CertConfig{
			CommonName: "hikube-apiserver",
			DNSNames:   []string{"localhost", hikubeServiceName + "." + hikubeNamespace + ".svc", hikubeServiceName + "." + hikubeNamespace + ".svc.cluster.local"},
			IPs:        loopback,
		}},
	}
	leaves = append(leaves, leafSpec{name: procKCM, ca: k.clusterCA, usage: pki.ClientUsage, cfg: pki.CertConfig{CommonName: kcmUser}},
		leafSpec{name: procScheduler, ca: k.clusterCA, usage: pki.ClientUsage, cfg: pki.CertConfig{CommonName: schedulerUser}})
	for _, u := range clientUsers {
		leaves = append(leaves, leafSpec{name: u.name, ca: k.clusterCA, usage: pki.ClientUsage, cfg: pki.CertConfig{CommonName: u.name, Organization: u.groups}})
	}
	for _, l := range leaves {
		if _, _, err := pki.LoadOrCreateCert(l.ca, dir, l.name, l.cfg, l.usage); err != nil {
			return nil, fmt.Errorf("certificate %s: %w", l.name, err)
		}
	}
	if _, err := pki.LoadOrCreateKey(k.saKeyPath); err != nil {
		return nil, fmt.Errorf("service-account signing key: %w", err)
	}
	return k, nil
}
