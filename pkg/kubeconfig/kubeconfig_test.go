package kubeconfig

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/hikube/hikube/pkg/pki"
)

func testCredentials(t *testing.T) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	ca, err := pki.NewCA(pki.CertConfig{CommonName: "ca"})
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.SignClient(pki.CertConfig{CommonName: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err = client.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	return ca.CertPEM(), client.CertPEM(), keyPEM
}

func TestWriteFileRoundTripsThroughClientcmd(t *testing.T) {
	caPEM, certPEM, keyPEM := testCredentials(t)
	tests := []struct {
		name string
		cfg  Config
	}{
		{name: "client certificate", cfg: Config{
			ClusterName: "hikube-local", Server: "https://127.0.0.1:6443", CAData: caPEM,
			UserName: "alice", ClientCertificateData: certPEM, ClientKeyData: keyPEM, Namespace: "tenant-a",
		}},
		{name: "bearer token", cfg: Config{
			ClusterName: "hikube-local", Server: "https://localhost:6443", CAData: caPEM,
			UserName: "system:serviceaccount:hikube-system:hikube-apiserver", Token: "t0ken",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dir", "user.kubeconfig")
			if err := WriteFile(path, tt.cfg); err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			fi, err := os.Stat(path)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("kubeconfig mode = %v, %v; want 0600", fi.Mode().Perm(), err)
			}
			loaded, err := clientcmd.LoadFromFile(path)
			if err != nil {
				t.Fatalf("LoadFromFile: %v", err)
			}
			if loaded.CurrentContext != tt.cfg.ContextName() {
				t.Errorf("current context = %q, want %q", loaded.CurrentContext, tt.cfg.ContextName())
			}
			if ns := loaded.Contexts[loaded.CurrentContext].Namespace; ns != tt.cfg.Namespace {
				t.Errorf("namespace = %q, want %q", ns, tt.cfg.Namespace)
			}
			rc, err := LoadRESTConfig(path)
			if err != nil {
				t.Fatalf("LoadRESTConfig: %v", err)
			}
			if rc.Host != tt.cfg.Server || !bytes.Equal(rc.CAData, caPEM) || rc.Insecure {
				t.Errorf("rest config: host %q insecure %v CA kept %v", rc.Host, rc.Insecure, bytes.Equal(rc.CAData, caPEM))
			}
			if !bytes.Equal(rc.CertData, tt.cfg.ClientCertificateData) || !bytes.Equal(rc.KeyData, tt.cfg.ClientKeyData) || rc.BearerToken != tt.cfg.Token {
				t.Errorf("rest config credentials differ from the config")
			}
			direct, err := RESTConfig(tt.cfg)
			if err != nil || direct.Host != rc.Host || direct.BearerToken != rc.BearerToken {
				t.Errorf("RESTConfig differs from the file's (%v)", err)
			}
		})
	}
}

func TestBuildRefusesIncompleteConfigs(t *testing.T) {
	caPEM, certPEM, keyPEM := testCredentials(t)
	valid := Config{ClusterName: "c", Server: "https://127.0.0.1:1", CAData: caPEM, UserName: "u", Token: "t"}
	tests := []struct {
		name    string
		mutate  func(c *Config)
		wantErr string
	}{
		{name: "valid token config", mutate: func(*Config) {}},
		{name: "no CA", mutate: func(c *Config) { c.CAData = nil }, wantErr: "CA data"},
		{name: "http server", mutate: func(c *Config) { c.Server = "http://127.0.0.1:1" }, wantErr: "https"},
		{name: "no cluster name", mutate: func(c *Config) { c.ClusterName = "" }, wantErr: "required"},
		{name: "no credential", mutate: func(c *Config) { c.Token = "" }, wantErr: "required"},
		{name: "certificate without key", mutate: func(c *Config) { c.Token = ""; c.ClientCertificateData = certPEM }, wantErr: "together"},
		{name: "certificate and token", mutate: func(c *Config) { c.ClientCertificateData, c.ClientKeyData = certPEM, keyPEM }, wantErr: "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			tt.mutate(&c)
			_, err := Build(c)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Build: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Build error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
