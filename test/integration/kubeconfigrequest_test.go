package integration

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/clusterpki"
	"github.com/hikube/hikube/pkg/provider"
)

// TestKubeconfigRequest: a POST of a KubeconfigRequest to clusters/kubeconfig
// answers with the kubeconfig and the expiry of its certificate (which is the
// certificate's own NotAfter); a lifetime outside 10m..24h is a 422 on
// spec.expirationSeconds; GET keeps serving the bare file; RBAC is the same
// as for GET (create on the subresource).
func TestKubeconfigRequest(t *testing.T) {
	ctx := context.Background()
	c := createCluster(t, "alice", tenantA, newCluster("kcreq"))

	// Stand in for the controller, which this platform does not run: an
	// endpoint in the status and the cluster's PKI Secret.
	st := c.DeepCopy()
	st.Status.Endpoint = "https://127.0.0.1:16443"
	if _, err := hikubeClient(t, "admin").AppsV1alpha1().Clusters(tenantA).UpdateStatus(ctx, st, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("writing the endpoint: %v", err)
	}
	ref := provider.ClusterRef{Namespace: tenantA, Name: c.Name, UID: string(c.UID)}
	p, err := clusterpki.Generate(ref)
	if err != nil {
		t.Fatal(err)
	}
	kube := kubernetes.NewForConfigOrDie(restConfig(t, "admin"))
	if _, err := kube.CoreV1().Secrets(clusterpki.Namespace).Create(ctx, clusterpki.ToSecret(ref, p), metav1.CreateOptions{}); err != nil {
		t.Fatalf("storing the PKI: %v", err)
	}
	t.Cleanup(func() {
		_ = kube.CoreV1().Secrets(clusterpki.Namespace).Delete(context.Background(), clusterpki.SecretName(ref), metav1.DeleteOptions{})
	})

	post := func(user, sub string, seconds *int64) (*v1alpha1.KubeconfigRequest, error) {
		in := &v1alpha1.KubeconfigRequest{
			TypeMeta: metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: "KubeconfigRequest"},
			Spec:     v1alpha1.KubeconfigRequestSpec{ExpirationSeconds: seconds},
		}
		out := &v1alpha1.KubeconfigRequest{}
		err := hikubeClient(t, user).AppsV1alpha1().RESTClient().Post().
			Namespace(tenantA).Resource("clusters").Name(c.Name).SubResource(sub).
			Body(in).Do(ctx).Into(out)
		return out, err
	}

	for _, tc := range []struct {
		seconds *int64
		want    time.Duration
	}{
		{ptr.To[int64](7200), 2 * time.Hour},
		{nil, time.Hour},
	} {
		before := time.Now()
		got, err := post("alice", "kubeconfig", tc.seconds)
		if err != nil {
			t.Fatalf("POST KubeconfigRequest (expirationSeconds %v) as alice: %v", ptr.Deref(tc.seconds, 0), err)
		}
		cfg, err := clientcmd.Load(got.Status.Kubeconfig)
		if err != nil {
			t.Fatalf("status.kubeconfig does not load: %v\n%s", err, got.Status.Kubeconfig)
		}
		if cur := cfg.Contexts[cfg.CurrentContext]; cur == nil || cfg.Clusters[cur.Cluster].Server != st.Status.Endpoint {
			t.Errorf("the kubeconfig does not point at the cluster's endpoint:\n%s", got.Status.Kubeconfig)
		}
		cert := clientCert(t, cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo].ClientCertificateData)
		if cert.Subject.CommonName != "alice" {
			t.Errorf("certificate for %q, want alice", cert.Subject.CommonName)
		}
		exp := got.Status.ExpirationTimestamp.Time
		if !exp.Equal(cert.NotAfter.Truncate(time.Second)) {
			t.Errorf("status.expirationTimestamp %s, but the certificate expires at %s", exp, cert.NotAfter)
		}
		if lo, hi := before.Add(tc.want-time.Minute), time.Now().Add(tc.want+time.Minute); exp.Before(lo) || exp.After(hi) {
			t.Errorf("expirationSeconds %v: expires at %s, want about %s from now", ptr.Deref(tc.seconds, 0), exp, tc.want)
		}
		if got.Name != c.Name || got.Namespace != tenantA || len(got.ManagedFields) != 0 {
			t.Errorf("answer metadata: %+v", got.ObjectMeta)
		}
	}

	for _, seconds := range []int64{599, 86401, 0} {
		_, err := post("alice", "kubeconfig", ptr.To(seconds))
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.expirationSeconds") {
			t.Errorf("expirationSeconds %d: %v; want 422 on spec.expirationSeconds", seconds, err)
		}
	}

	if _, err := post("bob", "kubeconfig", nil); !apierrors.IsForbidden(err) {
		t.Errorf("bob (tenant-b) POSTed a KubeconfigRequest in tenant-a: %v", err)
	}
	for _, tc := range []struct{ role, resource, want string }{
		{"view", "clusters/viewerkubeconfig", "yes"},
		{"view", "clusters/kubeconfig", "no"},
		{"admin", "clusters/kubeconfig", "yes"},
	} {
		if got := canI(t, tc.role, "create", tc.resource); got != tc.want {
			t.Errorf("role %s: can-i create %s = %s, want %s", tc.role, tc.resource, got, tc.want)
		}
	}

	// GET is unchanged: the bare file, the lifetime clamped.
	raw := mustKubectl(t, "alice", "get", "--raw", "/apis/apps.hikube.io/v1alpha1/namespaces/tenant-a/clusters/kcreq/kubeconfig?expirationSeconds=60")
	cfg, err := clientcmd.Load([]byte(raw))
	if err != nil {
		t.Fatalf("GET kubeconfig: %v\n%s", err, raw)
	}
	cert := clientCert(t, cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo].ClientCertificateData)
	if life := time.Until(cert.NotAfter); life < 9*time.Minute || life > 11*time.Minute {
		t.Errorf("GET ?expirationSeconds=60: certificate lives %s, want the 10m minimum", life)
	}
}

func clientCert(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("no PEM client certificate in the kubeconfig")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
