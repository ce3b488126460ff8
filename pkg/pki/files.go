package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"

	"github.com/hikube/hikube/pkg/atomicfile"
)

// renewAt is the fraction of its lifetime after which a certificate on disk is
// no longer reused but issued again, like the kubelet's certificate rotation.
const renewAt = 0.8

// CertPEM returns the PEM encoding of the certificate.
func (kp *KeyPair) CertPEM() []byte {
	return EncodeCertPEM(kp.Cert)
}

// KeyPEM returns the PEM encoding of the private key.
func (kp *KeyPair) KeyPEM() ([]byte, error) {
	data, err := keyutil.MarshalPrivateKeyToPEM(kp.Key)
	if err != nil {
		return nil, fmt.Errorf("encoding private key of %q: %w", kp.Cert.Subject.CommonName, err)
	}
	return data, nil
}

// EncodeCertPEM returns the PEM encoding of certs, in order.
func EncodeCertPEM(certs ...*x509.Certificate) []byte {
	// certutil.EncodeCertificates only fails when pem.Encode fails writing
	// into a bytes.Buffer, which it does not.
	data, err := certutil.EncodeCertificates(certs...)
	if err != nil {
		panic(fmt.Sprintf("encoding certificates: %v", err))
	}
	return data
}

// ParseCertsPEM decodes one or more PEM certificates.
func ParseCertsPEM(data []byte) ([]*x509.Certificate, error) {
	certs, err := certutil.ParseCertsPEM(data)
	if err != nil {
		return nil, fmt.Errorf("parsing PEM certificates: %w", err)
	}
	return certs, nil
}

// ParseKeyPEM decodes a PEM private key (EC, PKCS#1 or PKCS#8).
func ParseKeyPEM(data []byte) (crypto.Signer, error) {
	key, err := keyutil.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("parsing PEM private key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("parsing PEM private key: %T is not a signing key", key)
	}
	return signer, nil
}

// ParseKeyPair decodes a PEM certificate and its PEM key and checks that they
// belong together. Only the first certificate of certPEM is used.
func ParseKeyPair(certPEM, keyPEM []byte) (*KeyPair, error) {
	certs, err := ParseCertsPEM(certPEM)
	if err != nil {
		return nil, err
	}
	key, err := ParseKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	kp := &KeyPair{Cert: certs[0], Key: key}
	pub, ok := kp.Cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return nil, fmt.Errorf("certificate %q does not match its private key", kp.Cert.Subject.CommonName)
	}
	return kp, nil
}

// CertPath and KeyPath are the file names LoadOrCreate* use for name in dir.
func CertPath(dir, name string) string { return filepath.Join(dir, name+".crt") }

// KeyPath is the private key file of name in dir.
func KeyPath(dir, name string) string { return filepath.Join(dir, name+".key") }

// WriteKeyPair writes the certificate (mode 0644) and key (mode 0600), each
// atomically, creating dir with mode 0700 if needed.
func WriteKeyPair(kp *KeyPair, certPath, keyPath string) error {
	keyPEM, err := kp.KeyPEM()
	if err != nil {
		return err
	}
	// The key goes first: a crash between the two writes leaves a pair that
	// does not match, which LoadKeyPair refuses and LoadOrCreate* replace.
	if err := atomicfile.Write(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	return atomicfile.Write(certPath, kp.CertPEM(), 0o644)
}

// LoadKeyPair reads a certificate and key written by WriteKeyPair.
func LoadKeyPair(certPath, keyPath string) (*KeyPair, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("reading certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("reading private key: %w", err)
	}
	kp, err := ParseKeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", certPath, err)
	}
	return kp, nil
}

// LoadOrCreateCA returns the CA stored as dir/name.{crt,key} if it is there,
// valid and not near its end of life; otherwise it creates a new one from cfg
// and stores it. The boolean reports whether a new CA was created, which
// invalidates every certificate it signed before.
func LoadOrCreateCA(dir, name string, cfg CertConfig) (*KeyPair, bool, error) {
	certPath, keyPath := CertPath(dir, name), KeyPath(dir, name)
	// A missing, broken, foreign or ageing pair is replaced; the caller
	// learns it through the boolean.
	if kp, err := LoadKeyPair(certPath, keyPath); err == nil &&
		kp.Cert.IsCA && kp.Cert.Subject.CommonName == cfg.CommonName && fresh(kp.Cert, time.Now()) {
		return kp, false, nil
	}
	kp, err := NewCA(cfg)
	if err != nil {
		return nil, false, err
	}
	if err := WriteKeyPair(kp, certPath, keyPath); err != nil {
		return nil, false, fmt.Errorf("storing CA %s: %w", name, err)
	}
	return kp, true, nil
}

// LoadOrCreateCert returns the certificate stored as dir/name.{crt,key} if it
// chains to ca for usage, has the subject and SANs cfg asks for and is not near
// its end of life; otherwise it issues a new one and stores it. The boolean
// reports whether a new certificate was issued.
func LoadOrCreateCert(ca *KeyPair, dir, name string, cfg CertConfig, usage Usage) (*KeyPair, bool, error) {
	certPath, keyPath := CertPath(dir, name), KeyPath(dir, name)
	now := time.Now()
	if kp, err := LoadKeyPair(certPath, keyPath); err == nil &&
		Verify(ca, kp, usage, now) == nil && Matches(kp.Cert, cfg) && fresh(kp.Cert, now) {
		return kp, false, nil
	}
	kp, err := ca.Sign(cfg, usage)
	if err != nil {
		return nil, false, err
	}
	if err := WriteKeyPair(kp, certPath, keyPath); err != nil {
		return nil, false, fmt.Errorf("storing certificate %s: %w", name, err)
	}
	return kp, true, nil
}

// LoadOrCreateKey returns the PEM private key stored at path, creating an
// ECDSA P-256 key (mode 0600, written atomically) if there is none.
// Service-account signing keys are plain keys without a certificate. A file
// that is there but holds no key is an error, not replaced: tokens signed with
// the key it held would stop verifying.
func LoadOrCreateKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if _, err := ParseKeyPEM(data); err != nil {
			return nil, fmt.Errorf("loading key %s: %w", path, err)
		}
		return data, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("loading key %s: %w", path, err)
	}
	data, err = keyutil.MakeEllipticPrivateKeyPEM()
	if err != nil {
		return nil, fmt.Errorf("generating key %s: %w", path, err)
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return nil, err
	}
	return data, nil
}

// Matches reports whether cert has exactly the subject and SANs of cfg
// (order-insensitive).
func Matches(cert *x509.Certificate, cfg CertConfig) bool {
	if cert.Subject.CommonName != cfg.CommonName {
		return false
	}
	if !sameStrings(cert.Subject.Organization, cfg.Organization) || !sameStrings(cert.DNSNames, cfg.DNSNames) {
		return false
	}
	return sameIPs(cert.IPAddresses, cfg.IPs)
}

func fresh(cert *x509.Certificate, now time.Time) bool {
	life := cert.NotAfter.Sub(cert.NotBefore)
	renew := cert.NotBefore.Add(time.Duration(float64(life) * renewAt))
	return now.After(cert.NotBefore) && now.Before(renew)
}

func sameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func sameIPs(a, b []net.IP) bool {
	if len(a) != len(b) {
		return false
	}
	norm := func(ips []net.IP) [][]byte {
		out := make([][]byte, len(ips))
		for i, ip := range ips {
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			out[i] = ip
		}
		slices.SortFunc(out, bytes.Compare)
		return out
	}
	na, nb := norm(a), norm(b)
	for i := range na {
		if !bytes.Equal(na[i], nb[i]) {
			return false
		}
	}
	return true
}
