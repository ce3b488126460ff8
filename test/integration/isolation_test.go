package integration

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/hikube/hikube/pkg/pki"
)

// request is one API call of the isolation matrix: method and path relative
// to a namespace's clusters (or the catalogs'), with a body when it writes.
type request struct {
	verb, resource, method, path, body string
}

// matrixRequests are every verb on every resource and subresource of
// apps.hikube.io. Writes are dry runs or aimed at a cluster that does not
// exist, so an allowed call answers 2xx, 404 or 422 and changes nothing;
// only a refusal answers 403.
func matrixRequests(ns string) []request {
	coll := "/apis/apps.hikube.io/v1alpha1/namespaces/" + ns + "/clusters"
	obj := coll + "/matrix-absent"
	cluster := `{"apiVersion":"apps.hikube.io/v1alpha1","kind":"Cluster","metadata":{"name":"matrix-new"},` +
		`"spec":{"nodeGroups":{"web":{"minReplicas":1,"maxReplicas":2,"instanceType":"s1.large"}}}}`
	absent := strings.Replace(cluster, "matrix-new", "matrix-absent", 1)
	kcReq := `{"apiVersion":"apps.hikube.io/v1alpha1","kind":"KubeconfigRequest","metadata":{"name":"matrix-absent"},"spec":{}}`
	patch := `{"metadata":{"labels":{"x":"y"}}}`
	var out []request
	for _, r := range []request{
		{"get", "clusters", "GET", obj, ""},
		{"list", "clusters", "GET", coll, ""},
		{"watch", "clusters", "GET", coll + "?watch=1&timeoutSeconds=1", ""},
		{"create", "clusters", "POST", coll + "?dryRun=All", cluster},
		{"update", "clusters", "PUT", obj + "?dryRun=All", absent},
		{"patch", "clusters", "PATCH", obj + "?dryRun=All", patch},
		{"delete", "clusters", "DELETE", obj + "?dryRun=All", ""},
		{"deletecollection", "clusters", "DELETE", coll + "?dryRun=All&labelSelector=matrix%3Dnone", ""},
		{"get", "clusters/status", "GET", obj + "/status", ""},
		{"update", "clusters/status", "PUT", obj + "/status?dryRun=All", absent},
		{"patch", "clusters/status", "PATCH", obj + "/status?dryRun=All", patch},
		{"get", "clusters/kubeconfig", "GET", obj + "/kubeconfig", ""},
		{"create", "clusters/kubeconfig", "POST", obj + "/kubeconfig", kcReq},
		{"get", "clusters/viewerkubeconfig", "GET", obj + "/viewerkubeconfig", ""},
		{"create", "clusters/viewerkubeconfig", "POST", obj + "/viewerkubeconfig", kcReq},
	} {
		out = append(out, r)
	}
	for _, catalog := range []string{"instancetypes", "gpumodels"} {
		base := "/apis/apps.hikube.io/v1alpha1/" + catalog
		out = append(out,
			request{"get", catalog, "GET", base + "/s1.large", ""},
			request{"list", catalog, "GET", base, ""},
			request{"watch", catalog, "GET", base + "?watch=1&timeoutSeconds=1", ""},
			request{"create", catalog, "POST", base + "?dryRun=All", `{"apiVersion":"apps.hikube.io/v1alpha1","kind":"InstanceType","metadata":{"name":"x"}}`},
			request{"delete", catalog, "DELETE", base + "/s1.large?dryRun=All", ""},
		)
	}
	return out
}

// allowed is what each role may do in its own tenant (the tenant roles in
// the install chart); catalogs are readable by every authenticated user and
// writable by nobody; nothing at all in another tenant.
func allowed(role string, own bool, r request) bool {
	if r.resource == "instancetypes" || r.resource == "gpumodels" {
		return r.verb == "get" || r.verb == "list" || r.verb == "watch"
	}
	if !own || role == "none" {
		return false
	}
	switch r.resource {
	case "clusters":
		return role != "view" || r.verb == "get" || r.verb == "list" || r.verb == "watch"
	case "clusters/status":
		return r.verb == "get"
	case "clusters/kubeconfig":
		return role != "view"
	case "clusters/viewerkubeconfig":
		return true
	}
	return false
}

// TestIsolationMatrix checks every verb × resource × role × tenant against
// the running platform: users bound to admin, edit or view in tenant-a, and
// one bound to nothing, call tenant-a (own) and tenant-b (other).
func TestIsolationMatrix(t *testing.T) {
	roles := []string{"admin", "edit", "view", "none"}
	for _, role := range roles {
		if role != "none" {
			binding := "matrix-" + role
			mustKubectl(t, "admin", "create", "rolebinding", binding, "-n", tenantA, "--clusterrole", role, "--user", "matrix-"+role)
			t.Cleanup(func() { kubectlAs(t, "admin", "delete", "rolebinding", binding, "-n", tenantA) })
		}
	}
	// RBAC bindings reach the authorizer's cache within moments.
	eventually(t, 30*time.Second, "the matrix bindings to take effect", func() bool {
		return strings.TrimSpace(kubectlAs(t, "admin", "auth", "can-i", "list", "clusters.apps.hikube.io", "-n", tenantA, "--as", "matrix-view").Stdout) == "yes"
	})

	checked := 0
	for _, role := range roles {
		cfg := rest.CopyConfig(env.RESTConfig(t, "admin"))
		cfg.Impersonate = rest.ImpersonationConfig{UserName: "matrix-" + role, Groups: []string{"system:authenticated"}}
		client := httpClient(t, cfg)
		for _, tenant := range []struct {
			ns  string
			own bool
		}{{tenantA, true}, {tenantB, false}} {
			for _, r := range matrixRequests(tenant.ns) {
				want := allowed(role, tenant.own, r)
				code, body := call(t, client, cfg.Host, r)
				checked++
				switch {
				case code >= 500:
					t.Errorf("%s %s %s in %s: %d: %s", role, r.verb, r.resource, tenant.ns, code, body)
				case want && (code == http.StatusForbidden || code == http.StatusUnauthorized):
					t.Errorf("%s may %s %s in %s (own %v) but got %d: %s", role, r.verb, r.resource, tenant.ns, tenant.own, code, body)
				case !want && code != http.StatusForbidden:
					t.Errorf("%s may not %s %s in %s (own %v) but got %d: %s", role, r.verb, r.resource, tenant.ns, tenant.own, code, body)
				}
			}
		}
	}
	t.Logf("%d calls checked", checked)
}

// TestTenantsCannotReachHostNamespaces: a tenant admin has no access to
// hikube-system (the clusters' PKI, the GPU inventory) or to the host
// namespaces where control planes and VMs live.
func TestTenantsCannotReachHostNamespaces(t *testing.T) {
	for _, ns := range []string{"hikube-system", "hikube-tenant-a-web", "kube-system"} {
		for _, args := range [][]string{
			{"get", "secrets", "-n", ns},
			{"get", "pods", "-n", ns},
			{"get", "configmaps", "-n", ns},
			{"create", "configmap", "intruder", "-n", ns, "--dry-run=server"},
			{"get", "virtualmachines.kubevirt.io", "-n", ns},
		} {
			r := kubectlAs(t, "alice", args...)
			if r.Err == nil || !strings.Contains(r.Stderr, "Forbidden") && !strings.Contains(r.Stderr, "forbidden") &&
				!strings.Contains(r.Stderr, "the server doesn't have a resource type") {
				t.Errorf("alice %v: want forbidden, got err=%v\n%s%s", args, r.Err, r.Stdout, r.Stderr)
			}
		}
	}
}

// TestExpiredClientCertificateIsRefused: a certificate signed by the host's
// client CA but expired is refused with 401, not honoured.
func TestExpiredClientCertificateIsRefused(t *testing.T) {
	dir := filepath.Join(env.Platform.Home(), "pki")
	ca, err := pki.LoadKeyPair(pki.CertPath(dir, "ca"), pki.KeyPath(dir, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "alice"},
		NotBefore:    time.Now().Add(-48 * time.Hour),
		NotAfter:     time.Now().Add(-24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &rest.Config{Host: env.RESTConfig(t, "admin").Host, TLSClientConfig: rest.TLSClientConfig{
		CAData:   env.RESTConfig(t, "admin").CAData,
		CertData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyData:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}}
	code, body := call(t, httpClient(t, cfg), cfg.Host, request{method: "GET", path: "/apis/apps.hikube.io/v1alpha1/namespaces/tenant-a/clusters"})
	if code != http.StatusUnauthorized {
		t.Errorf("expired certificate of alice: %d, want 401: %s", code, body)
	}
}

func httpClient(t *testing.T, cfg *rest.Config) *http.Client {
	t.Helper()
	tr, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func call(t *testing.T, client *http.Client, host string, r request) (int, string) {
	t.Helper()
	req, err := http.NewRequest(r.method, strings.TrimSuffix(host, "/")+r.path, bytes.NewBufferString(r.body))
	if err != nil {
		t.Fatal(err)
	}
	switch r.method {
	case "PATCH":
		req.Header.Set("Content-Type", "application/merge-patch+json")
	default:
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return resp.StatusCode, fmt.Sprintf("%.300s", body)
}
