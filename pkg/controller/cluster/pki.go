package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/hikube/hikube/pkg/clusterpki"
)

// pkiReconciler creates the cluster's CA, front-proxy CA and service-account
// key once, in a Secret in hikube-system that tenants cannot read, and loads
// it for the control plane.
type pkiReconciler struct {
	secrets corev1client.SecretsGetter
	// generate makes a new PKI (clusterpki.Generate).
	generate func(clusterpki.ClusterRef) (clusterpki.PKI, error)
	// now, when set, enables the cache of loaded PKIs.
	now func() time.Time

	mu sync.Mutex
	// loaded are the PKIs read lately, by cluster UID: a cluster's PKI never
	// changes, so a Ready cluster's pass need not read its Secret every time.
	loaded map[string]loadedPKI
}

type loadedPKI struct {
	ref clusterpki.ClusterRef
	pki clusterpki.PKI
	at  time.Time
}

// pkiReread is how long a loaded PKI is used before its Secret is read
// again (and re-created, were it gone).
const pkiReread = 10 * time.Minute

// forget drops the loaded PKIs of every cluster named ns/name.
func (r *pkiReconciler) forget(ns, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for uid, l := range r.loaded {
		if l.ref.Namespace == ns && l.ref.Name == name {
			delete(r.loaded, uid)
		}
	}
}

func (r *pkiReconciler) reconcile(ctx context.Context, s *state) (reconcileStatus, error) {
	if r.now != nil {
		r.mu.Lock()
		l, ok := r.loaded[s.ref.UID]
		r.mu.Unlock()
		if ok && r.now().Sub(l.at) < pkiReread {
			s.pki = l.pki
			return reconcileContinue, nil
		}
	}
	st, err := r.load(ctx, s)
	if err == nil && r.now != nil {
		r.mu.Lock()
		if r.loaded == nil {
			r.loaded = map[string]loadedPKI{}
		}
		r.loaded[s.ref.UID] = loadedPKI{ref: s.ref, pki: s.pki, at: r.now()}
		r.mu.Unlock()
	}
	return st, err
}

// load reads the cluster's PKI Secret, creating it first when missing.
func (r *pkiReconciler) load(ctx context.Context, s *state) (reconcileStatus, error) {
	secrets := r.secrets.Secrets(clusterpki.Namespace)
	name := clusterpki.SecretName(s.ref)
	sec, err := secrets.Get(ctx, name, metav1.GetOptions{})
	if err == nil && sec.Labels[clusterpki.LabelClusterUID] != s.ref.UID {
		// Left by an earlier cluster of the same name that was not cleaned
		// up: never hand its CA to a new cluster.
		if err := secrets.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &sec.UID}}); err != nil && !apierrors.IsNotFound(err) {
			return reconcileStop, fmt.Errorf("removing the stale PKI secret %s: %w", name, err)
		}
		err = apierrors.NewNotFound(sec.GroupVersionKind().GroupVersion().WithResource("secrets").GroupResource(), name)
	}
	if apierrors.IsNotFound(err) {
		p, genErr := r.generate(s.ref)
		if genErr != nil {
			return reconcileStop, genErr
		}
		sec, err = secrets.Create(ctx, clusterpki.ToSecret(s.ref, p), metav1.CreateOptions{FieldManager: fieldManager})
		if apierrors.IsAlreadyExists(err) {
			sec, err = secrets.Get(ctx, name, metav1.GetOptions{})
		}
	}
	if err != nil {
		return reconcileStop, fmt.Errorf("PKI secret %s/%s: %w", clusterpki.Namespace, name, err)
	}
	s.pki, err = clusterpki.FromSecret(sec)
	if err != nil {
		return reconcileStop, err
	}
	return reconcileContinue, nil
}
