// Package frontproxy authenticates the requests kube-apiserver's aggregation
// layer proxies to hikube-apiserver: request-header authentication (the user
// in X-Remote-User/X-Remote-Group, trusted because the connection presents
// the front-proxy client certificate), with the certificate chain verified
// once per connection instead of once per request.
//
// k8s.io/apiserver's request-header authenticator verifies the peer
// certificate on every request: an ECDSA signature check that was about a
// tenth of hikube-apiserver's CPU on a GET (docs/benchmarks.md). The
// aggregator keeps one HTTP/2 connection to us, so the certificate is the same
// object request after request; what was verified against the same roots
// need not be verified again until the chain expires.
package frontproxy

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/request/headerrequest"
)

// maxEntries bounds the verified certificates kept; past it the cache starts
// over (a new connection costs one verification again).
const maxEntries = 1024

// Authenticator is request-header authentication with a per-connection cache
// of the front proxy's certificate verification.
type Authenticator struct {
	verifyOptions func() (x509.VerifyOptions, bool)
	allowedNames  headerrequest.StringSliceProvider
	headers       authenticator.Request
	now           func() time.Time

	mu sync.Mutex
	// verified maps the leaf certificate object of a connection (the same
	// pointer for every request on it) to what it was verified against.
	verified map[*x509.Certificate]verification
}

type verification struct {
	roots    *x509.CertPool // the roots of that verification: a new CA bundle is a new pool
	notAfter time.Time      // the end of the verified chain's validity
}

// New returns the authenticator for the request-header configuration the
// generic server built (from flags or from kube-system's
// extension-apiserver-authentication ConfigMap, reloaded as it changes).
func New(c *authenticatorfactory.RequestHeaderConfig) *Authenticator {
	return &Authenticator{
		verifyOptions: c.CAContentProvider.VerifyOptions,
		allowedNames:  c.AllowedClientNames,
		headers:       headerrequest.NewDynamic(c.UsernameHeaders, c.UIDHeaders, c.GroupHeaders, c.ExtraHeaderPrefixes),
		now:           time.Now,
		verified:      map[*x509.Certificate]verification{},
	}
}

// AuthenticateRequest authenticates a request of the front proxy; any other
// request is left to the next authenticators (false, no error), which then
// give the usual answer.
func (a *Authenticator) AuthenticateRequest(req *http.Request) (*authenticator.Response, bool, error) {
	if req.TLS == nil || len(req.TLS.PeerCertificates) == 0 {
		return nil, false, nil
	}
	opts, ok := a.verifyOptions()
	if !ok {
		return nil, false, nil
	}
	leaf := req.TLS.PeerCertificates[0]
	if !a.isVerified(leaf, opts.Roots) {
		if opts.Intermediates == nil && len(req.TLS.PeerCertificates) > 1 {
			opts.Intermediates = x509.NewCertPool()
			for _, c := range req.TLS.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
		}
		chains, err := leaf.Verify(opts)
		if err != nil {
			return nil, false, nil
		}
		a.remember(leaf, opts.Roots, chains)
	}
	if err := a.verifySubject(leaf); err != nil {
		return nil, false, nil
	}
	return a.headers.AuthenticateRequest(req)
}

func (a *Authenticator) isVerified(leaf *x509.Certificate, roots *x509.CertPool) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	v, ok := a.verified[leaf]
	return ok && v.roots == roots && a.now().Before(v.notAfter)
}

func (a *Authenticator) remember(leaf *x509.Certificate, roots *x509.CertPool, chains [][]*x509.Certificate) {
	if roots == nil || len(chains) == 0 {
		return // verified against the system roots: not cached
	}
	end := leaf.NotAfter
	for _, c := range chains[0] {
		if c.NotAfter.Before(end) {
			end = c.NotAfter
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.verified) >= maxEntries {
		clear(a.verified)
	}
	a.verified[leaf] = verification{roots: roots, notAfter: end}
}

// verifySubject applies --requestheader-allowed-names (checked on every
// request: the list can change without the certificate changing).
func (a *Authenticator) verifySubject(leaf *x509.Certificate) error {
	allowed := a.allowedNames.Value()
	if len(allowed) == 0 || slices.Contains(allowed, leaf.Subject.CommonName) {
		return nil
	}
	return fmt.Errorf("x509: subject with cn=%s is not in the allowed list", leaf.Subject.CommonName)
}
