package kubevirt

import (
	"fmt"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hikube/hikube/pkg/controlplaneflags"
	"github.com/hikube/hikube/pkg/kubeconfig"
	"github.com/hikube/hikube/pkg/pki"
	"github.com/hikube/hikube/pkg/provider"
)

// Secrets of a cluster's host namespace, by what they hold. Each is mounted
// by one kind of pod only, so a pod sees no key it does not use.
const (
	secretEtcdCA        = "etcd-ca"
	secretEtcdCerts     = "etcd-certs"
	secretAPIServer     = "apiserver-certs"
	secretKCM           = "controller-manager"
	secretScheduler     = "scheduler"
	secretAdmin         = "admin-kubeconfig"
	secretCloudProvider = "kccm-kubeconfig"
	secretCSI           = "csi-kubeconfig"

	keyKubeconfig = "kubeconfig"
)

// Identities inside the tenant cluster.
const (
	userControllerManager = "system:kube-controller-manager"
	userScheduler         = "system:kube-scheduler"
	userAdmin             = "hikube:kubevirt-provider"
	groupMasters          = "system:masters"
	userCloudProvider     = "hikube:kubevirt-cloud-controller-manager"
	userCSI               = "hikube:kubevirt-csi-controller"
)

// renewAfter is the part of a certificate's life after which it is issued
// anew; before that, a certificate that still fits is kept, so that an
// Ensure that changes nothing writes nothing.
const renewAfter = 2.0 / 3

// issuer signs the certificates of one Ensure, keeping every existing one
// that still chains to its CA, names what it must and is not near its end.
type issuer struct {
	now      time.Time
	existing map[string]*corev1.Secret
}

func (is issuer) data(secret, key string) []byte {
	if s := is.existing[secret]; s != nil {
		return s.Data[key]
	}
	return nil
}

// fits says whether certPEM/keyPEM can stay: signed by ca for usage, with
// exactly cfg's subject and names, and young enough.
func (is issuer) fits(ca *pki.KeyPair, certPEM, keyPEM []byte, cfg pki.CertConfig, usage pki.Usage) bool {
	if len(certPEM) == 0 || len(keyPEM) == 0 {
		return false
	}
	kp, err := pki.ParseKeyPair(certPEM, keyPEM)
	if err != nil || pki.Verify(ca, kp, usage, is.now) != nil || !pki.Matches(kp.Cert, cfg) {
		return false
	}
	life := kp.Cert.NotAfter.Sub(kp.Cert.NotBefore)
	return is.now.Before(kp.Cert.NotBefore.Add(time.Duration(float64(life) * renewAfter)))
}

// cert returns the certificate and key stored under secret/name.{crt,key}
// when they fit, else new ones.
func (is issuer) cert(ca *pki.KeyPair, secret, name string, cfg pki.CertConfig, usage pki.Usage) (certPEM, keyPEM []byte, err error) {
	certPEM, keyPEM = is.data(secret, name+".crt"), is.data(secret, name+".key")
	if is.fits(ca, certPEM, keyPEM, cfg, usage) {
		return certPEM, keyPEM, nil
	}
	return sign(ca, cfg, usage)
}

func sign(ca *pki.KeyPair, cfg pki.CertConfig, usage pki.Usage) ([]byte, []byte, error) {
	kp, err := ca.Sign(cfg, usage)
	if err != nil {
		return nil, nil, err
	}
	key, err := kp.KeyPEM()
	if err != nil {
		return nil, nil, err
	}
	return kp.CertPEM(), key, nil
}

// kubeconfig returns a kubeconfig for user (in groups) at server, keeping
// the client certificate of the one stored in secret while it fits.
func (is issuer) kubeconfig(ca *pki.KeyPair, caPEM []byte, secret, server, user string, groups ...string) ([]byte, error) {
	cfg := pki.CertConfig{CommonName: user, Organization: groups}
	var certPEM, keyPEM []byte
	if old := is.data(secret, keyKubeconfig); len(old) > 0 {
		if kc, err := clientcmd.Load(old); err == nil {
			if a := kc.AuthInfos[user]; a != nil {
				certPEM, keyPEM = a.ClientCertificateData, a.ClientKeyData
			}
		}
	}
	if !is.fits(ca, certPEM, keyPEM, cfg, pki.ClientUsage) {
		var err error
		if certPEM, keyPEM, err = sign(ca, cfg, pki.ClientUsage); err != nil {
			return nil, fmt.Errorf("client certificate of %s: %w", user, err)
		}
	}
	return kubeconfig.Marshal(kubeconfig.Config{
		ClusterName: "tenant", Server: server, CAData: caPEM,
		UserName: user, ClientCertificateData: certPEM, ClientKeyData: keyPEM,
	})
}

// etcdCA is the CA of the cluster's etcd: its own, not the cluster CA, so
// that no certificate the platform hands to tenants (signed by the cluster
// CA) can ever authenticate to etcd. Created once and kept in a Secret.
func (is issuer) etcdCA(c provider.ClusterRef) (*pki.KeyPair, error) {
	if kp, err := pki.ParseKeyPair(is.data(secretName(c, secretEtcdCA), "ca.crt"), is.data(secretName(c, secretEtcdCA), "ca.key")); err == nil && kp.Cert.IsCA {
		return kp, nil
	}
	return pki.NewCA(pki.CertConfig{CommonName: "hikube etcd " + c.String()})
}

func secretName(c provider.ClusterRef, what string) string { return namesOf(c).of(what) }

// secretAC is an Opaque Secret of the cluster's host namespace.
func secretAC(c provider.ClusterRef, what string, data map[string][]byte) *corev1ac.SecretApplyConfiguration {
	return corev1ac.Secret(secretName(c, what), HostNamespace(c)).
		WithLabels(componentLabels(c, what)).
		WithType(corev1.SecretTypeOpaque).
		WithData(data)
}

// pkiInput is what the Secrets are made of.
type pkiInput struct {
	c       provider.ClusterRef
	pki     provider.PKI
	members int
	// endpointHost is the endpoint Service's ingress address (IP or
	// name); empty while it has none, when only etcd's Secrets are made.
	endpointHost string
	endpointURL  string
}

// buildSecrets returns the Secrets of a cluster: etcd's always, the
// apiserver's and the kubeconfigs once the endpoint is known (the serving
// certificate names it).
func (is issuer) buildSecrets(in pkiInput) ([]*corev1ac.SecretApplyConfiguration, error) {
	c, n := in.c, namesOf(in.c)
	etcdCA, err := is.etcdCA(c)
	if err != nil {
		return nil, fmt.Errorf("etcd CA: %w", err)
	}
	etcdCAKey, err := etcdCA.KeyPEM()
	if err != nil {
		return nil, err
	}
	var memberNames []string
	for i := range in.members {
		memberNames = append(memberNames, n.etcdMember(i), n.etcdMember(i)+".cluster.local")
	}
	etcdNames := pki.CertConfig{CommonName: n.etcd(), DNSNames: append(memberNames, "localhost"), IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}
	srvCert, srvKey, err := is.cert(etcdCA, secretName(c, secretEtcdCerts), "server", etcdNames, pki.ServerAndClientUsage)
	if err != nil {
		return nil, fmt.Errorf("etcd serving certificate: %w", err)
	}
	peerCert, peerKey, err := is.cert(etcdCA, secretName(c, secretEtcdCerts), "peer", etcdNames, pki.ServerAndClientUsage)
	if err != nil {
		return nil, fmt.Errorf("etcd peer certificate: %w", err)
	}
	out := []*corev1ac.SecretApplyConfiguration{
		secretAC(c, secretEtcdCA, map[string][]byte{"ca.crt": etcdCA.CertPEM(), "ca.key": etcdCAKey}),
		secretAC(c, secretEtcdCerts, map[string][]byte{
			"ca.crt": etcdCA.CertPEM(), "server.crt": srvCert, "server.key": srvKey, "peer.crt": peerCert, "peer.key": peerKey,
		}),
	}
	if in.endpointHost == "" {
		return out, nil
	}

	ca, err := pki.ParseKeyPair(in.pki.CACert, in.pki.CAKey)
	if err != nil {
		return nil, fmt.Errorf("parsing the cluster CA: %w", err)
	}
	fp, err := pki.ParseKeyPair(in.pki.FrontProxyCACert, in.pki.FrontProxyCAKey)
	if err != nil {
		return nil, fmt.Errorf("parsing the front-proxy CA: %w", err)
	}
	if len(in.pki.ServiceAccountKey) == 0 || len(in.pki.ServiceAccountPub) == 0 {
		return nil, fmt.Errorf("the PKI lacks the service-account key pair")
	}
	apiSecret := secretName(c, secretAPIServer)
	servCert, servKey, err := is.cert(ca, apiSecret, "apiserver", servingConfig(n, in.endpointHost), pki.ServerUsage)
	if err != nil {
		return nil, fmt.Errorf("apiserver serving certificate: %w", err)
	}
	fpCert, fpKey, err := is.cert(fp, apiSecret, "front-proxy-client", pki.CertConfig{CommonName: controlplaneflags.FrontProxyClientCN}, pki.ClientUsage)
	if err != nil {
		return nil, fmt.Errorf("front-proxy client certificate: %w", err)
	}
	ecCert, ecKey, err := is.cert(etcdCA, apiSecret, "etcd-client", pki.CertConfig{CommonName: "kube-apiserver-etcd-client"}, pki.ClientUsage)
	if err != nil {
		return nil, fmt.Errorf("etcd client certificate: %w", err)
	}
	out = append(out, secretAC(c, secretAPIServer, map[string][]byte{
		"ca.crt": in.pki.CACert, "front-proxy-ca.crt": in.pki.FrontProxyCACert,
		"apiserver.crt": servCert, "apiserver.key": servKey,
		"front-proxy-client.crt": fpCert, "front-proxy-client.key": fpKey,
		"etcd-ca.crt": etcdCA.CertPEM(), "etcd-client.crt": ecCert, "etcd-client.key": ecKey,
		"sa.pub": in.pki.ServiceAccountPub, "sa.key": in.pki.ServiceAccountKey,
	}))

	// The controller manager and the scheduler reach the apiserver of
	// their own pod; everything else goes through the Service.
	local := fmt.Sprintf("https://127.0.0.1:%d", apiserverPort)
	kubeconfigs := []struct {
		secret, server, user string
		groups               []string
	}{
		{secretKCM, local, userControllerManager, nil},
		{secretScheduler, local, userScheduler, nil},
		{secretAdmin, in.endpointURL, userAdmin, []string{groupMasters}},
		{secretCloudProvider, n.inClusterServer(), userCloudProvider, nil},
		{secretCSI, n.inClusterServer(), userCSI, nil},
	}
	for _, k := range kubeconfigs {
		data, err := is.kubeconfig(ca, in.pki.CACert, secretName(c, k.secret), k.server, k.user, k.groups...)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig of %s: %w", k.user, err)
		}
		d := map[string][]byte{keyKubeconfig: data}
		if k.secret == secretKCM {
			// The controller manager signs kubelet certificates and
			// service-account tokens.
			d["ca.crt"], d["ca.key"], d["sa.key"] = in.pki.CACert, in.pki.CAKey, in.pki.ServiceAccountKey
		}
		out = append(out, secretAC(c, k.secret, d))
	}
	return out, nil
}

// servingConfig is the kube-apiserver serving certificate: the endpoint's
// ingress address, the Service's names in the host, loopback (the
// controller manager and scheduler of the same pod) and the tenant's
// kubernetes Service.
func servingConfig(n names, endpointHost string) pki.CertConfig {
	dns := append(n.endpointDNSNames(), "localhost")
	ips := []net.IP{net.IPv4(127, 0, 0, 1)}
	if ip := net.ParseIP(endpointHost); ip != nil {
		ips = append(ips, ip)
	} else {
		dns = append(dns, endpointHost)
	}
	return pki.KubeAPIServerServing(dns, ips, controlplaneflags.DefaultKubernetesServiceIP)
}
