// Package pki issues the certificates hikube needs: self-signed certificate
// authorities, serving certificates and client certificates signed by them,
// with PEM encoding and load-or-create helpers so that state on disk is reused
// across restarts. It serves the local platform, the hikube-apiserver serving
// certificate and the tenant clusters' PKI alike.
//
// Keys are ECDSA P-256: they are generated in microseconds, which keeps the
// create-to-Ready time of a tenant cluster low, and every Kubernetes component
// accepts them.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"
)

const (
	// DefaultCAValidity is the lifetime of a CA when no NotAfter is given.
	DefaultCAValidity = 10 * 365 * 24 * time.Hour
	// DefaultCertValidity is the lifetime of a leaf certificate when no NotAfter is given.
	DefaultCertValidity = 365 * 24 * time.Hour
	// clockSkew back-dates NotBefore so that a certificate is usable at once
	// by a peer whose clock is slightly behind.
	clockSkew = 5 * time.Minute
)

// KeyPair is a certificate with its private key.
type KeyPair struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// CertConfig describes a certificate to issue.
type CertConfig struct {
	// CommonName is the subject CN; for a client certificate it is the user
	// name Kubernetes authenticates.
	CommonName string
	// Organization is the subject O; for a client certificate these are the
	// groups Kubernetes authenticates.
	Organization []string
	// DNSNames and IPs are the subject alternative names of a serving certificate.
	DNSNames []string
	IPs      []net.IP
	// NotAfter is the end of validity; zero means now + DefaultCertValidity
	// (DefaultCAValidity for a CA).
	NotAfter time.Time
}

// Usage says what a leaf certificate is for.
type Usage int

const (
	// ServerUsage is a TLS serving certificate.
	ServerUsage Usage = iota
	// ClientUsage is a TLS client certificate.
	ClientUsage
	// ServerAndClientUsage serves and authenticates (etcd peers, for example).
	ServerAndClientUsage
)

func (u Usage) extKeyUsages() []x509.ExtKeyUsage {
	switch u {
	case ServerUsage:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	case ClientUsage:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	default:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
}

// NewPrivateKey returns a new ECDSA P-256 key.
func NewPrivateKey() (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating ECDSA P-256 key: %w", err)
	}
	return key, nil
}

// NewCA returns a self-signed certificate authority. Only CommonName,
// Organization and NotAfter of cfg are used.
func NewCA(cfg CertConfig) (*KeyPair, error) {
	if cfg.CommonName == "" {
		return nil, fmt.Errorf("creating CA: common name is required")
	}
	key, err := NewPrivateKey()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cfg.CommonName, Organization: cfg.Organization},
		NotBefore:             now.Add(-clockSkew).UTC(),
		NotAfter:              notAfter(cfg.NotAfter, now, DefaultCAValidity),
		KeyUsage:              x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("self-signing CA %q: %w", cfg.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing CA %q: %w", cfg.CommonName, err)
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}

// Sign issues a leaf certificate for cfg with a new key, signed by ca.
func (ca *KeyPair) Sign(cfg CertConfig, usage Usage) (*KeyPair, error) {
	if cfg.CommonName == "" {
		return nil, fmt.Errorf("signing certificate: common name is required")
	}
	if ca == nil || ca.Cert == nil || ca.Key == nil || !ca.Cert.IsCA {
		return nil, fmt.Errorf("signing certificate %q: signer is not a CA", cfg.CommonName)
	}
	key, err := NewPrivateKey()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	end := notAfter(cfg.NotAfter, now, DefaultCertValidity)
	if end.After(ca.Cert.NotAfter) {
		// A certificate cannot outlive its issuer in any useful way.
		end = ca.Cert.NotAfter
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cfg.CommonName, Organization: cfg.Organization},
		DNSNames:     cfg.DNSNames,
		IPAddresses:  cfg.IPs,
		NotBefore:    now.Add(-clockSkew).UTC(),
		NotAfter:     end,
		KeyUsage:     x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  usage.extKeyUsages(),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("signing certificate %q: %w", cfg.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing certificate %q: %w", cfg.CommonName, err)
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}

// SignServing issues a TLS serving certificate for cfg's DNS names and IPs.
func (ca *KeyPair) SignServing(cfg CertConfig) (*KeyPair, error) {
	return ca.Sign(cfg, ServerUsage)
}

// SignClient issues a client certificate authenticating as user CommonName
// in the groups Organization.
func (ca *KeyPair) SignClient(cfg CertConfig) (*KeyPair, error) {
	return ca.Sign(cfg, ClientUsage)
}

// Verify checks that kp chains to ca for the given usage at time now.
func Verify(ca, kp *KeyPair, usage Usage, now time.Time) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	_, err := kp.Cert.Verify(x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now,
		KeyUsages:   usage.extKeyUsages(),
	})
	if err != nil {
		return fmt.Errorf("verifying %q against CA %q: %w", kp.Cert.Subject.CommonName, ca.Cert.Subject.CommonName, err)
	}
	return nil
}

func notAfter(requested, now time.Time, def time.Duration) time.Time {
	if requested.IsZero() {
		return now.Add(def).UTC()
	}
	return requested.UTC()
}

func newSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generating serial number: %w", err)
	}
	return serial, nil
}
