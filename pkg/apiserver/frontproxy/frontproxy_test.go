package frontproxy

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/request/headerrequest"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"

	"github.com/hikube/hikube/pkg/pki"
)

// swappableCA is a CA content provider whose bundle the test replaces, as a
// rotated extension-apiserver-authentication ConfigMap would.
type swappableCA struct {
	dynamiccertificates.CAContentProvider
	cur atomic.Pointer[dynamiccertificates.CAContentProvider]
}

func (s *swappableCA) VerifyOptions() (x509.VerifyOptions, bool) {
	return (*s.cur.Load()).VerifyOptions()
}

func (s *swappableCA) set(t *testing.T, ca *pki.KeyPair) {
	t.Helper()
	p, err := dynamiccertificates.NewStaticCAContent("front-proxy-ca", ca.CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	var cp dynamiccertificates.CAContentProvider = p
	s.cur.Store(&cp)
}

func newCA(t *testing.T, cn string) *pki.KeyPair {
	t.Helper()
	ca, err := pki.NewCA(pki.CertConfig{CommonName: cn})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func client(t *testing.T, ca *pki.KeyPair, cn string) *x509.Certificate {
	t.Helper()
	kp, err := ca.SignClient(pki.CertConfig{CommonName: cn})
	if err != nil {
		t.Fatal(err)
	}
	return kp.Cert
}

func request(cert *x509.Certificate, user string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, "https://hikube/apis", nil)
	if cert != nil {
		req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
	}
	if user != "" {
		req.Header.Set("X-Remote-User", user)
		req.Header.Add("X-Remote-Group", "tenant-a-admins")
	}
	return req
}

func newAuthenticator(t *testing.T, ca *pki.KeyPair) (*Authenticator, *swappableCA) {
	t.Helper()
	cas := &swappableCA{}
	cas.set(t, ca)
	a := New(&authenticatorfactory.RequestHeaderConfig{
		UsernameHeaders:     headerrequest.StaticStringSlice{"X-Remote-User"},
		UIDHeaders:          headerrequest.StaticStringSlice{"X-Remote-Uid"},
		GroupHeaders:        headerrequest.StaticStringSlice{"X-Remote-Group"},
		ExtraHeaderPrefixes: headerrequest.StaticStringSlice{"X-Remote-Extra-"},
		CAContentProvider:   cas,
		AllowedClientNames:  headerrequest.StaticStringSlice{"front-proxy-client"},
	})
	return a, cas
}

func TestTheFrontProxyIsAuthenticatedByItsHeaders(t *testing.T) {
	ca := newCA(t, "front-proxy-ca")
	a, _ := newAuthenticator(t, ca)
	proxy := client(t, ca, "front-proxy-client")
	for i := range 3 { // the first verifies, the others find it verified
		req := request(proxy, "alice")
		resp, ok, err := a.AuthenticateRequest(req)
		if err != nil || !ok {
			t.Fatalf("request %d: want alice, got ok=%v err=%v", i, ok, err)
		}
		if resp.User.GetName() != "alice" || len(resp.User.GetGroups()) != 1 || resp.User.GetGroups()[0] != "tenant-a-admins" {
			t.Errorf("request %d: user %q groups %v", i, resp.User.GetName(), resp.User.GetGroups())
		}
		if req.Header.Get("X-Remote-User") != "" {
			t.Errorf("request %d: the identity headers must not reach the handlers", i)
		}
	}
	if len(a.verified) != 1 {
		t.Errorf("want the one connection's certificate remembered, have %d", len(a.verified))
	}
}

func TestOthersAreLeftToTheNextAuthenticators(t *testing.T) {
	ca := newCA(t, "front-proxy-ca")
	a, _ := newAuthenticator(t, ca)
	for name, req := range map[string]*http.Request{
		"no certificate":         request(nil, "alice"),
		"another CA":             request(client(t, newCA(t, "client-ca"), "front-proxy-client"), "alice"),
		"a name not allowed":     request(client(t, ca, "mallory"), "alice"),
		"no user in the headers": request(client(t, ca, "front-proxy-client"), ""),
	} {
		if resp, ok, err := a.AuthenticateRequest(req); ok || err != nil {
			t.Errorf("%s: want (false, nil), got %v %v %v", name, resp, ok, err)
		}
	}
	// Headers alone, on a rejected connection, are not an identity twice either.
	other := client(t, newCA(t, "other"), "front-proxy-client")
	for range 2 {
		if _, ok, _ := a.AuthenticateRequest(request(other, "alice")); ok {
			t.Fatal("a certificate of another CA was accepted")
		}
	}
}

func TestANewCABundleIsVerifiedAgain(t *testing.T) {
	ca := newCA(t, "front-proxy-ca")
	a, cas := newAuthenticator(t, ca)
	proxy := client(t, ca, "front-proxy-client")
	if _, ok, _ := a.AuthenticateRequest(request(proxy, "alice")); !ok {
		t.Fatal("the front proxy was refused")
	}
	cas.set(t, newCA(t, "rotated-front-proxy-ca"))
	if _, ok, _ := a.AuthenticateRequest(request(proxy, "alice")); ok {
		t.Fatal("a certificate of the replaced CA still authenticates")
	}
}

func TestAnExpiredChainIsVerifiedAgain(t *testing.T) {
	ca := newCA(t, "front-proxy-ca")
	a, _ := newAuthenticator(t, ca)
	proxy := client(t, ca, "front-proxy-client")
	if _, ok, _ := a.AuthenticateRequest(request(proxy, "alice")); !ok {
		t.Fatal("the front proxy was refused")
	}
	a.now = func() time.Time { return proxy.NotAfter.Add(time.Second) }
	if a.isVerified(proxy, mustRoots(t, a)) {
		t.Fatal("a verification outlived the certificate")
	}
}

func mustRoots(t *testing.T, a *Authenticator) *x509.CertPool {
	t.Helper()
	opts, ok := a.verifyOptions()
	if !ok {
		t.Fatal("no verify options")
	}
	return opts.Roots
}
