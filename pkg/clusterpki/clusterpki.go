// Package clusterpki creates and stores the PKI of a tenant cluster: its CA,
// front-proxy CA and service-account key pair. It lives in a Secret in
// hikube-system, which tenants cannot read; the controller creates it before
// the control plane starts, and hikube-apiserver signs the callers' short-lived
// kubeconfig certificates with the CA it holds.
package clusterpki

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/pkg/pki"
	"github.com/hikube/hikube/pkg/platform"
)

// ClusterRef names a tenant cluster: its host namespace and name, and the
// UID that tells a re-created cluster of the same name apart. It lives here,
// with the PKI it keys, so that the API server (which signs kubeconfigs) and
// the provider contract share it without one importing the other.
type ClusterRef struct {
	Namespace, Name, UID string
}

// String is "<namespace>/<name>", for logs and messages.
func (r ClusterRef) String() string { return r.Namespace + "/" + r.Name }

// PKI is the material of a tenant cluster's control plane, created by the
// core once and kept in a Secret in hikube-system. PEM encoded.
type PKI struct {
	CACert, CAKey                     []byte // cluster CA: serving certs and client certs
	FrontProxyCACert, FrontProxyCAKey []byte
	ServiceAccountKey                 []byte // private key (PKCS#1/PKCS#8 PEM) signing service-account tokens
	ServiceAccountPub                 []byte // its public key
}

// Namespace holds the tenant clusters' PKI Secrets.
const Namespace = platform.Namespace

// Labels on the Secret name the cluster it belongs to.
const (
	LabelClusterNamespace = "apps.hikube.io/cluster-namespace"
	LabelClusterName      = "apps.hikube.io/cluster-name"
	LabelClusterUID       = "apps.hikube.io/cluster-uid"
)

// Secret keys.
const (
	keyCACert         = "ca.crt"
	keyCAKey          = "ca.key"
	keyFrontProxyCert = "front-proxy-ca.crt"
	keyFrontProxyKey  = "front-proxy-ca.key"
	keySAKey          = "sa.key"
	keySAPub          = "sa.pub"
)

// SecretName is "<namespace>.<name>.pki": neither part may hold a dot, so two
// clusters never share a name.
func SecretName(c ClusterRef) string { return c.Namespace + "." + c.Name + ".pki" }

// Generate creates a new PKI for a cluster.
func Generate(c ClusterRef) (PKI, error) {
	ca, err := pki.NewCA(pki.CertConfig{CommonName: "hikube cluster " + c.String()})
	if err != nil {
		return PKI{}, fmt.Errorf("cluster CA of %s: %w", c, err)
	}
	fp, err := pki.NewCA(pki.CertConfig{CommonName: "hikube front-proxy " + c.String()})
	if err != nil {
		return PKI{}, fmt.Errorf("front-proxy CA of %s: %w", c, err)
	}
	sa, err := pki.NewPrivateKey()
	if err != nil {
		return PKI{}, fmt.Errorf("service-account key of %s: %w", c, err)
	}
	caKey, err := ca.KeyPEM()
	if err != nil {
		return PKI{}, err
	}
	fpKey, err := fp.KeyPEM()
	if err != nil {
		return PKI{}, err
	}
	saDER, err := x509.MarshalPKCS8PrivateKey(sa)
	if err != nil {
		return PKI{}, fmt.Errorf("encoding the service-account key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(sa.Public())
	if err != nil {
		return PKI{}, fmt.Errorf("encoding the service-account public key: %w", err)
	}
	return PKI{
		CACert: ca.CertPEM(), CAKey: caKey,
		FrontProxyCACert: fp.CertPEM(), FrontProxyCAKey: fpKey,
		ServiceAccountKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: saDER}),
		ServiceAccountPub: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}),
	}, nil
}

// ToSecret stores p for cluster c.
func ToSecret(c ClusterRef, p PKI) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      SecretName(c),
			Namespace: Namespace,
			Labels: map[string]string{
				LabelClusterNamespace: c.Namespace,
				LabelClusterName:      c.Name,
				LabelClusterUID:       c.UID,
			},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			keyCACert: p.CACert, keyCAKey: p.CAKey,
			keyFrontProxyCert: p.FrontProxyCACert, keyFrontProxyKey: p.FrontProxyCAKey,
			keySAKey: p.ServiceAccountKey, keySAPub: p.ServiceAccountPub,
		},
	}
}

// FromSecret reads a PKI back, checking every part is there.
func FromSecret(s *corev1.Secret) (PKI, error) {
	p := PKI{
		CACert: s.Data[keyCACert], CAKey: s.Data[keyCAKey],
		FrontProxyCACert: s.Data[keyFrontProxyCert], FrontProxyCAKey: s.Data[keyFrontProxyKey],
		ServiceAccountKey: s.Data[keySAKey], ServiceAccountPub: s.Data[keySAPub],
	}
	for k, v := range map[string][]byte{keyCACert: p.CACert, keyCAKey: p.CAKey, keyFrontProxyCert: p.FrontProxyCACert,
		keyFrontProxyKey: p.FrontProxyCAKey, keySAKey: p.ServiceAccountKey, keySAPub: p.ServiceAccountPub} {
		if len(v) == 0 {
			return PKI{}, fmt.Errorf("secret %s/%s lacks %s", s.Namespace, s.Name, k)
		}
	}
	return p, nil
}

// CA parses the cluster CA of p, to sign certificates with it.
func CA(p PKI) (*pki.KeyPair, error) {
	return pki.ParseKeyPair(p.CACert, p.CAKey)
}
