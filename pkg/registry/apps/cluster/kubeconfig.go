package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/validation"
	"github.com/hikube/hikube/pkg/clusterpki"
	"github.com/hikube/hikube/pkg/pki"
)

// Lifetimes of the client certificates the kubeconfig subresources sign:
// those a KubeconfigRequest is validated against.
const (
	DefaultKubeconfigExpiration = time.Duration(validation.DefaultKubeconfigExpirationSeconds) * time.Second
	MinKubeconfigExpiration     = time.Duration(validation.MinKubeconfigExpirationSeconds) * time.Second
	MaxKubeconfigExpiration     = time.Duration(validation.MaxKubeconfigExpirationSeconds) * time.Second
)

// KubeconfigREST serves clusters/kubeconfig and clusters/viewerkubeconfig: a
// kubeconfig for the caller, whose client certificate the cluster's CA signs
// for the caller's own name and groups plus the group that the subresource
// grants (cluster-admin or view inside the tenant cluster). Which one a
// caller may get is plain RBAC on the two subresources, as Gardener does with
// shoots/adminkubeconfig and shoots/viewerkubeconfig; nobody shares a secret.
//
// Two ways in: GET (?expirationSeconds=, clamped) returns the kubeconfig file
// itself, for `kubectl get --raw ... > file`; POST of a KubeconfigRequest
// (validated, 422 outside the allowed lifetimes) returns the request with the
// kubeconfig and its expiry in the status, so a client need not parse the
// certificate to know when to renew it.
type KubeconfigREST struct {
	clusters rest.Getter
	secrets  func(ctx context.Context, name string) (*clusterpkiSecret, error)
	// group is put in the certificate: tenantrbac.GroupAdmins or GroupViewers.
	group string
	now   func() time.Time
}

type clusterpkiSecret struct {
	pki clusterpki.PKI
	uid string
}

// NewKubeconfigREST returns the subresource that grants group; host reads the
// PKI Secrets in hikube-system.
func NewKubeconfigREST(clusters rest.Getter, host kubernetes.Interface, group string) *KubeconfigREST {
	return &KubeconfigREST{
		clusters: clusters,
		group:    group,
		now:      time.Now,
		secrets: func(ctx context.Context, name string) (*clusterpkiSecret, error) {
			s, err := host.CoreV1().Secrets(clusterpki.Namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return nil, err
			}
			p, err := clusterpki.FromSecret(s)
			if err != nil {
				return nil, err
			}
			return &clusterpkiSecret{pki: p, uid: s.Labels[clusterpki.LabelClusterUID]}, nil
		},
	}
}

var (
	_ rest.GetterWithOptions = &KubeconfigREST{}
	_ rest.NamedCreater      = &KubeconfigREST{}
	_ rest.StorageMetadata   = &KubeconfigREST{}
)

// New is what a POST decodes and answers; a GET streams the file instead.
func (r *KubeconfigREST) New() runtime.Object { return &apps.KubeconfigRequest{} }

// Destroy is a no-op.
func (r *KubeconfigREST) Destroy() {}

// NewGetOptions declares ?expirationSeconds=.
func (r *KubeconfigREST) NewGetOptions() (runtime.Object, bool, string) {
	return &apps.KubeconfigOptions{}, false, ""
}

// ProducesMIMETypes tells the OpenAPI what the GET returns; a POST answers
// with the usual API media types.
func (r *KubeconfigREST) ProducesMIMETypes(verb string) []string {
	if verb == "GET" {
		return []string{"application/yaml"}
	}
	return nil
}

// ProducesObject tells the OpenAPI that the GET's answer is not a Kubernetes
// object; a POST answers with the KubeconfigRequest (New).
func (r *KubeconfigREST) ProducesObject(verb string) interface{} {
	if verb == "GET" {
		return ""
	}
	return nil
}

// Get signs a certificate for the caller and returns the kubeconfig.
func (r *KubeconfigREST) Get(ctx context.Context, name string, opts runtime.Object) (runtime.Object, error) {
	o, ok := opts.(*apps.KubeconfigOptions)
	if !ok {
		return nil, fmt.Errorf("unexpected options %T", opts)
	}
	data, _, err := r.issue(ctx, name, clampExpiration(o.ExpirationSeconds))
	if err != nil {
		return nil, err
	}
	return &kubeconfigStream{data: data}, nil
}

// Create answers a KubeconfigRequest for cluster name: the same kubeconfig
// as Get, with its expiry. Nothing is stored.
func (r *KubeconfigREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	req, ok := obj.(*apps.KubeconfigRequest)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("expected a KubeconfigRequest, got %T", obj))
	}
	if errs := validation.ValidateKubeconfigRequest(req); len(errs) > 0 {
		return nil, apierrors.NewInvalid(apps.Kind("KubeconfigRequest"), name, errs)
	}
	if createValidation != nil {
		if err := createValidation(ctx, req.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	lifetime := DefaultKubeconfigExpiration
	if s := req.Spec.ExpirationSeconds; s != nil {
		lifetime = time.Duration(*s) * time.Second
	}
	data, expires, err := r.issue(ctx, name, lifetime)
	if err != nil {
		return nil, err
	}
	// A fresh object: nothing of the request's metadata (such as the managed
	// fields the handler adds) belongs in the answer.
	out := &apps.KubeconfigRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: genericapirequest.NamespaceValue(ctx), CreationTimestamp: metav1.NewTime(r.now())},
		Spec:       *req.Spec.DeepCopy(),
		Status:     apps.KubeconfigRequestStatus{Kubeconfig: data, ExpirationTimestamp: metav1.NewTime(expires)},
	}
	return out, nil
}

// issue signs a certificate of the given lifetime for the caller and returns
// the kubeconfig of cluster name and when the certificate expires.
func (r *KubeconfigREST) issue(ctx context.Context, name string, lifetime time.Duration) ([]byte, time.Time, error) {
	user, ok := genericapirequest.UserFrom(ctx)
	if !ok || user.GetName() == "" {
		return nil, time.Time{}, apierrors.NewUnauthorized("no user in the request")
	}
	obj, err := r.clusters.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, time.Time{}, err
	}
	cl := obj.(*apps.Cluster)
	if cl.Status.Endpoint == "" {
		return nil, time.Time{}, apierrors.NewConflict(apps.Resource("clusters"), name, fmt.Errorf(
			"the cluster has no endpoint yet; wait for it: kubectl wait --for=condition=Ready cluster/%s -n %s", name, cl.Namespace))
	}
	ref := clusterpki.ClusterRef{Namespace: cl.Namespace, Name: cl.Name, UID: string(cl.UID)}
	sec, err := r.secrets(ctx, clusterpki.SecretName(ref))
	if err != nil || sec.uid != ref.UID {
		klog.FromContext(ctx).Error(err, "No PKI for the cluster", "cluster", klog.KObj(cl))
		return nil, time.Time{}, apierrors.NewServiceUnavailable(fmt.Sprintf("the credentials of cluster %s are not ready yet; retry shortly", name))
	}
	data, expires, err := r.kubeconfig(cl, sec.pki, user.GetName(), user.GetGroups(), lifetime)
	if err != nil {
		return nil, time.Time{}, apierrors.NewInternalError(err)
	}
	klog.FromContext(ctx).V(2).Info("Signed a tenant kubeconfig", "cluster", klog.KObj(cl), "user", user.GetName(), "group", r.group, "expires", expires)
	return data, expires, nil
}

func clampExpiration(seconds int64) time.Duration {
	// Compared in seconds: converting first would overflow for a huge
	// ?expirationSeconds= and sign for the minimum instead of the maximum.
	switch {
	case seconds <= 0:
		return DefaultKubeconfigExpiration
	case seconds < validation.MinKubeconfigExpirationSeconds:
		return MinKubeconfigExpiration
	case seconds > validation.MaxKubeconfigExpirationSeconds:
		return MaxKubeconfigExpiration
	}
	return time.Duration(seconds) * time.Second
}

// certGroups keeps the caller's own groups, minus the system ones that mean
// something else inside the tenant cluster, plus the granted group.
func certGroups(groups []string, granted string) []string {
	out := []string{granted}
	for _, g := range groups {
		if !strings.HasPrefix(g, "system:") && g != granted && !strings.HasPrefix(g, "hikube:cluster-") {
			out = append(out, g)
		}
	}
	return out
}

// kubeconfig builds the file: names unique per cluster (<namespace>-<name>),
// so kubeconfigs of several clusters merge without collisions.
func (r *KubeconfigREST) kubeconfig(cl *apps.Cluster, p clusterpki.PKI, user string, groups []string, lifetime time.Duration) ([]byte, time.Time, error) {
	ca, err := clusterpki.CA(p)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("reading the CA of %s/%s: %w", cl.Namespace, cl.Name, err)
	}
	expires := r.now().Add(lifetime)
	leaf, err := ca.SignClient(pki.CertConfig{CommonName: user, Organization: certGroups(groups, r.group), NotAfter: expires})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("signing a client certificate: %w", err)
	}
	key, err := leaf.KeyPEM()
	if err != nil {
		return nil, time.Time{}, err
	}
	id := cl.Namespace + "-" + cl.Name
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[id] = &clientcmdapi.Cluster{Server: cl.Status.Endpoint, CertificateAuthorityData: p.CACert}
	cfg.AuthInfos[id] = &clientcmdapi.AuthInfo{ClientCertificateData: leaf.CertPEM(), ClientKeyData: key}
	cfg.Contexts[id] = &clientcmdapi.Context{Cluster: id, AuthInfo: id, Namespace: "default"}
	cfg.CurrentContext = id
	data, err := clientcmd.Write(*cfg)
	return data, expires, err
}

// kubeconfigStream is the answer: streamed as YAML, so that
// `kubectl get --raw .../kubeconfig > file` gives a usable kubeconfig.
type kubeconfigStream struct {
	data []byte
}

var _ rest.ResourceStreamer = &kubeconfigStream{}

func (s *kubeconfigStream) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

func (s *kubeconfigStream) DeepCopyObject() runtime.Object {
	return &kubeconfigStream{data: bytes.Clone(s.data)}
}

func (s *kubeconfigStream) InputStream(context.Context, string, string) (io.ReadCloser, bool, string, error) {
	return io.NopCloser(bytes.NewReader(s.data)), false, "application/yaml", nil
}
