package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/hikube/hikube/plugin/pkg/credcache"
)

// fakeIssuer issues numbered certificates valid for an hour from now().
type fakeIssuer struct {
	calls int
	now   func() time.Time
}

func (f *fakeIssuer) issue(_ context.Context, ns, name string, _ time.Duration, _ bool) (*Issued, error) {
	f.calls++
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: "https://" + name + "." + ns}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{
		ClientCertificateData: []byte(fmt.Sprintf("CERT-%d", f.calls)),
		ClientKeyData:         []byte(fmt.Sprintf("KEY-%d", f.calls)),
	}
	cfg.Contexts["x"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	cfg.CurrentContext = "x"
	return &Issued{Config: cfg, Expires: f.now().Add(time.Hour)}, nil
}

func runCredential(t *testing.T, o *CredentialOptions) clientauthv1.ExecCredential {
	t.Helper()
	streams, out, _ := testStreams("")
	o.IOStreams = streams
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := o.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var cred clientauthv1.ExecCredential
	if err := json.Unmarshal(out.Bytes(), &cred); err != nil || cred.Status == nil {
		t.Fatalf("not an ExecCredential: %v\n%s", err, out)
	}
	return cred
}

// kubectl runs the credential plugin for every command: the certificate is
// issued once and reused until shortly before it expires.
func TestCredentialIsCachedUntilShortlyBeforeExpiry(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	issuer := &fakeIssuer{now: clock}
	streams, _, _ := testStreams("")
	o := NewCredentialOptions(streams)
	o.Name, o.Namespace, o.Issue = "web", "tenant-a", issuer.issue
	o.Cache = &credcache.Cache{Dir: t.TempDir(), Now: clock}
	o.CacheKey = credcache.Key("tenant-a", "web", "https://host", "alice")

	first := runCredential(t, o)
	second := runCredential(t, o)
	if issuer.calls != 1 {
		t.Fatalf("two runs issued %d certificates, want 1", issuer.calls)
	}
	if first.Status.ClientCertificateData != "CERT-1" || second.Status.ClientCertificateData != "CERT-1" || second.Status.ClientKeyData != "KEY-1" {
		t.Errorf("runs printed %q and %q", first.Status.ClientCertificateData, second.Status.ClientCertificateData)
	}
	if want := now.Add(time.Hour - time.Minute); !second.Status.ExpirationTimestamp.Time.Equal(want) {
		t.Errorf("cached credential expires at %s, want %s (a minute before the certificate)", second.Status.ExpirationTimestamp, want)
	}

	now = now.Add(time.Hour - credcache.DefaultRenewBefore)
	if third := runCredential(t, o); issuer.calls != 2 || third.Status.ClientCertificateData != "CERT-2" {
		t.Errorf("near expiry: %d issued, printed %q; want a new certificate", issuer.calls, third.Status.ClientCertificateData)
	}

	o.Cache = nil // --no-cache
	runCredential(t, o)
	if issuer.calls != 3 {
		t.Errorf("without the cache: %d issued, want 3", issuer.calls)
	}
}
