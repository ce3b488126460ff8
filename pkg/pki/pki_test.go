package pki

import (
	"bytes"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func mustCA(t *testing.T, cn string) *KeyPair {
	t.Helper()
	ca, err := NewCA(CertConfig{CommonName: cn})
	if err != nil {
		t.Fatalf("NewCA: %v", err)
	}
	return ca
}

func TestIssuedCertificatesChainToTheirCAWithTheRequestedIdentity(t *testing.T) {
	ca := mustCA(t, "test-ca")
	if !ca.Cert.IsCA || ca.Cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Fatalf("CA is not a CA: IsCA=%v KeyUsage=%v", ca.Cert.IsCA, ca.Cert.KeyUsage)
	}
	in1h := time.Now().Add(time.Hour)
	tests := []struct {
		name      string
		cfg       CertConfig
		usage     Usage
		otherUsed Usage // a usage the certificate must NOT verify for
		notAfter  time.Time
	}{
		{
			name:      "serving certificate with DNS and IP SANs",
			cfg:       CertConfig{CommonName: "kube-apiserver", DNSNames: []string{"localhost", "kubernetes.default.svc"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}},
			usage:     ServerUsage,
			otherUsed: ClientUsage,
		},
		{
			name:      "client certificate with user and groups",
			cfg:       CertConfig{CommonName: "alice", Organization: []string{"system:authenticated", "team-a"}},
			usage:     ClientUsage,
			otherUsed: ServerUsage,
		},
		{
			name:      "short-lived client certificate keeps its NotAfter",
			cfg:       CertConfig{CommonName: "bob", NotAfter: in1h},
			usage:     ClientUsage,
			otherUsed: ServerUsage,
			notAfter:  in1h,
		},
		{
			name:      "NotAfter beyond the CA is capped to the CA",
			cfg:       CertConfig{CommonName: "long", NotAfter: ca.Cert.NotAfter.Add(24 * time.Hour)},
			usage:     ServerUsage,
			otherUsed: ClientUsage,
			notAfter:  ca.Cert.NotAfter,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kp, err := ca.Sign(tt.cfg, tt.usage)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if err := Verify(ca, kp, tt.usage, time.Now()); err != nil {
				t.Errorf("chain does not verify: %v", err)
			}
			if err := Verify(ca, kp, tt.otherUsed, time.Now()); err == nil {
				t.Errorf("certificate verifies for a usage it was not issued for")
			}
			if err := Verify(mustCA(t, "other-ca"), kp, tt.usage, time.Now()); err == nil {
				t.Errorf("certificate verifies against a foreign CA")
			}
			if kp.Cert.IsCA {
				t.Errorf("leaf certificate is a CA")
			}
			if got := kp.Cert.Subject.CommonName; got != tt.cfg.CommonName {
				t.Errorf("CN = %q, want %q", got, tt.cfg.CommonName)
			}
			// DER encodes the organizations as a SET, so their order is not kept.
			if got := kp.Cert.Subject.Organization; !sameStrings(got, tt.cfg.Organization) {
				t.Errorf("O = %q, want %q", got, tt.cfg.Organization)
			}
			if got := kp.Cert.DNSNames; !slices.Equal(got, tt.cfg.DNSNames) {
				t.Errorf("DNS SANs = %q, want %q", got, tt.cfg.DNSNames)
			}
			if !Matches(kp.Cert, tt.cfg) {
				t.Errorf("Matches(cert, cfg) = false for the cfg it was issued from")
			}
			for _, dns := range tt.cfg.DNSNames {
				if err := kp.Cert.VerifyHostname(dns); err != nil {
					t.Errorf("VerifyHostname(%s): %v", dns, err)
				}
			}
			for _, ip := range tt.cfg.IPs {
				if err := kp.Cert.VerifyHostname(ip.String()); err != nil {
					t.Errorf("VerifyHostname(%s): %v", ip, err)
				}
			}
			if !tt.notAfter.IsZero() && !kp.Cert.NotAfter.Equal(tt.notAfter.UTC().Truncate(time.Second)) {
				t.Errorf("NotAfter = %v, want %v", kp.Cert.NotAfter, tt.notAfter)
			}
			if err := Verify(ca, kp, tt.usage, kp.Cert.NotAfter.Add(time.Minute)); err == nil {
				t.Errorf("certificate verifies after its NotAfter")
			}
		})
	}
}

func TestSignRefusesInvalidRequests(t *testing.T) {
	ca := mustCA(t, "ca")
	leaf, err := ca.SignClient(CertConfig{CommonName: "leaf"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		signer *KeyPair
		cfg    CertConfig
	}{
		{name: "empty common name", signer: ca, cfg: CertConfig{}},
		{name: "signer is not a CA", signer: leaf, cfg: CertConfig{CommonName: "x"}},
		{name: "nil signer", signer: nil, cfg: CertConfig{CommonName: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.signer.Sign(tt.cfg, ClientUsage); err == nil {
				t.Errorf("Sign succeeded, want an error")
			}
		})
	}
	if _, err := NewCA(CertConfig{}); err == nil {
		t.Errorf("NewCA without a common name succeeded")
	}
}

func TestPEMRoundTripKeepsCertificateAndKey(t *testing.T) {
	ca := mustCA(t, "ca")
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseKeyPair(ca.CertPEM(), keyPEM)
	if err != nil {
		t.Fatalf("ParseKeyPair: %v", err)
	}
	if !got.Cert.Equal(ca.Cert) {
		t.Errorf("certificate changed in the round trip")
	}
	other := mustCA(t, "other")
	if _, err := ParseKeyPair(other.CertPEM(), keyPEM); err == nil {
		t.Errorf("ParseKeyPair accepted a certificate with a foreign key")
	}
	bundle := EncodeCertPEM(ca.Cert, other.Cert)
	certs, err := ParseCertsPEM(bundle)
	if err != nil || len(certs) != 2 {
		t.Fatalf("ParseCertsPEM(bundle) = %d certs, %v; want 2", len(certs), err)
	}
	if _, err := ParseKeyPEM([]byte("not a key")); err == nil {
		t.Errorf("ParseKeyPEM accepted garbage")
	}
}

func TestLoadOrCreateReusesFilesOnDisk(t *testing.T) {
	dir := t.TempDir()
	caCfg := CertConfig{CommonName: "cluster-ca"}
	ca, created, err := LoadOrCreateCA(dir, "ca", caCfg)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreateCA = created %v, %v; want created", created, err)
	}
	if fi, err := os.Stat(KeyPath(dir, "ca")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("CA key mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	ca2, created, err := LoadOrCreateCA(dir, "ca", caCfg)
	if err != nil || created {
		t.Fatalf("second LoadOrCreateCA = created %v, %v; want reuse", created, err)
	}
	if !ca2.Cert.Equal(ca.Cert) {
		t.Fatalf("second LoadOrCreateCA returned a different CA")
	}

	srvCfg := CertConfig{CommonName: "srv", DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}
	srv, created, err := LoadOrCreateCert(ca, dir, "srv", srvCfg, ServerUsage)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreateCert = created %v, %v; want created", created, err)
	}

	tests := []struct {
		name        string
		ca          *KeyPair
		cfg         CertConfig
		usage       Usage
		wantCreated bool
	}{
		{name: "same request reuses the certificate", ca: ca, cfg: srvCfg, usage: ServerUsage},
		{name: "SANs in another order and IP in 16-byte form reuse it", ca: ca, usage: ServerUsage,
			cfg: CertConfig{CommonName: "srv", DNSNames: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}}},
		{name: "a new SAN issues a new certificate", ca: ca, usage: ServerUsage, wantCreated: true,
			cfg: CertConfig{CommonName: "srv", DNSNames: []string{"localhost", "srv.ns.svc"}, IPs: srvCfg.IPs}},
		{name: "another usage issues a new certificate", ca: ca, cfg: srvCfg, usage: ClientUsage, wantCreated: true},
		{name: "another CA issues a new certificate", ca: mustCA(t, "new-ca"), cfg: srvCfg, usage: ServerUsage, wantCreated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Start each case from the original certificate.
			if err := WriteKeyPair(srv, CertPath(dir, "srv"), KeyPath(dir, "srv")); err != nil {
				t.Fatal(err)
			}
			got, created, err := LoadOrCreateCert(tt.ca, dir, "srv", tt.cfg, tt.usage)
			if err != nil {
				t.Fatalf("LoadOrCreateCert: %v", err)
			}
			if created != tt.wantCreated {
				t.Errorf("created = %v, want %v", created, tt.wantCreated)
			}
			if err := Verify(tt.ca, got, tt.usage, time.Now()); err != nil {
				t.Errorf("returned certificate does not verify: %v", err)
			}
			onDisk, err := LoadKeyPair(CertPath(dir, "srv"), KeyPath(dir, "srv"))
			if err != nil || !onDisk.Cert.Equal(got.Cert) {
				t.Errorf("file on disk is not the returned certificate (%v)", err)
			}
		})
	}
}

func TestLoadOrCreateReplacesBrokenOrAgeingFiles(t *testing.T) {
	ca := mustCA(t, "ca")
	cfg := CertConfig{CommonName: "c"}
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
	}{
		{name: "garbage certificate", prepare: func(t *testing.T, dir string) {
			write(t, CertPath(dir, "c"), []byte("garbage"))
			write(t, KeyPath(dir, "c"), []byte("garbage"))
		}},
		{name: "key of another certificate", prepare: func(t *testing.T, dir string) {
			a, _ := ca.SignClient(cfg)
			b, _ := ca.SignClient(cfg)
			bKey, _ := b.KeyPEM()
			write(t, CertPath(dir, "c"), a.CertPEM())
			write(t, KeyPath(dir, "c"), bKey)
		}},
		{name: "certificate past 80% of its life", prepare: func(t *testing.T, dir string) {
			// NotBefore is now-5m; with NotAfter now+1m the certificate
			// is past 80% of its life.
			old, _ := ca.SignClient(CertConfig{CommonName: "c", NotAfter: time.Now().Add(time.Minute)})
			if err := WriteKeyPair(old, CertPath(dir, "c"), KeyPath(dir, "c")); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.prepare(t, dir)
			before, _ := os.ReadFile(CertPath(dir, "c"))
			kp, created, err := LoadOrCreateCert(ca, dir, "c", cfg, ClientUsage)
			if err != nil || !created {
				t.Fatalf("LoadOrCreateCert = created %v, %v; want a new certificate", created, err)
			}
			if bytes.Equal(before, kp.CertPEM()) {
				t.Errorf("certificate on disk was not replaced")
			}
		})
	}
}

func TestLoadOrCreateKeyReusesTheKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "sa.key")
	first, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseKeyPEM(first); err != nil {
		t.Fatalf("generated key does not parse: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v, want 0600", fi.Mode().Perm(), err)
	}
	second, err := LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(first, second) {
		t.Fatalf("second LoadOrCreateKey returned another key (%v)", err)
	}
	// A file that holds no key is refused, never replaced.
	write(t, path, []byte("not a key"))
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Fatal("a corrupt key file was accepted")
	}
	if data, _ := os.ReadFile(path); string(data) != "not a key" {
		t.Errorf("the corrupt key file was replaced by %q", data)
	}
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestKubeAPIServerServingNamesTheKubernetesService(t *testing.T) {
	cfg := KubeAPIServerServing([]string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, net.IPv4(10, 96, 0, 1))
	want := CertConfig{
		CommonName: "kube-apiserver",
		DNSNames:   []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		IPs:        []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(10, 96, 0, 1)},
	}
	ca, err := NewCA(CertConfig{CommonName: "ca"})
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.Sign(cfg, ServerUsage)
	if err != nil {
		t.Fatal(err)
	}
	if !Matches(kp.Cert, want) {
		t.Errorf("certificate names %v %v, want %v %v", kp.Cert.DNSNames, kp.Cert.IPAddresses, want.DNSNames, want.IPs)
	}
}
