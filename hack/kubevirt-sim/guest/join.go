package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/certificate/csr"
	"k8s.io/client-go/util/retry"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	"k8s.io/cluster-bootstrap/token/jws"

	"github.com/hikube/hikube/pkg/provider/kubevirt"
)

// machine is what the guest knows of the hardware KubeVirt gave it.
type machine struct {
	capacity corev1.ResourceList
}

// join does what `kubeadm join` and the kubelet's TLS bootstrap do with the
// user data, and nothing more: a wrong token, CA pin, endpoint or missing
// RBAC in the tenant fails here as it would on a real node.
func join(ctx context.Context, j kubevirt.Join, hw machine, running func() bool) (kubernetes.Interface, error) {
	server := "https://" + j.APIServerEndpoint

	// 1. Discovery: cluster-info, read anonymously without trusting the
	//    server yet, then trusted because the token signed it (the
	//    bootstrapsigner's JWS) and its CA matches the pin.
	ca, err := discover(ctx, server, j)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}

	// 2. TLS bootstrap with the token: a CSR for system:node:<name>, signed
	//    once the tenant's csrapproving controller approved it.
	boot, err := kubernetes.NewForConfig(&rest.Config{Host: server, BearerToken: j.Token.String(), TLSClientConfig: rest.TLSClientConfig{CAData: ca}, Timeout: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	csrPEM, err := certutil.MakeCSR(key, &pkix.Name{CommonName: "system:node:" + j.NodeName, Organization: []string{"system:nodes"}}, nil, nil)
	if err != nil {
		return nil, err
	}
	name, uid, err := csr.RequestCertificateWithContext(ctx, boot, csrPEM, "", certificatesv1.KubeAPIServerClientKubeletSignerName, nil,
		[]certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}, key)
	if err != nil {
		return nil, fmt.Errorf("requesting the node's client certificate: %w", err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	certPEM, err := csr.WaitForCertificate(waitCtx, boot, name, uid)
	if err != nil {
		return nil, fmt.Errorf("waiting for CSR %s to be approved and signed: %w", name, err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})

	// 3. Register as the node, with its own credentials, unless the VM
	//    stopped while it waited: a stopped machine registers nothing.
	if !running() {
		return nil, fmt.Errorf("the VM stopped before its node could register")
	}
	node, err := kubernetes.NewForConfig(&rest.Config{Host: server, TLSClientConfig: rest.TLSClientConfig{CAData: ca, CertData: certPEM, KeyData: keyPEM}, Timeout: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	if err := register(ctx, node, j, hw); err != nil {
		return nil, fmt.Errorf("registering node %s: %w", j.NodeName, err)
	}
	return node, nil
}

func discover(ctx context.Context, server string, j kubevirt.Join) ([]byte, error) {
	insecure, err := kubernetes.NewForConfig(&rest.Config{
		// Anonymous, as kubeadm: no credential is sent before the server
		// is trusted.
		Host: server, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, Timeout: 30 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	ci, err := insecure.CoreV1().ConfigMaps(metav1.NamespacePublic).Get(ctx, bootstrapapi.ConfigMapClusterInfo, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading cluster-info: %w", err)
	}
	content := ci.Data[bootstrapapi.KubeConfigKey]
	sig, ok := ci.Data[bootstrapapi.JWSSignatureKeyPrefix+j.Token.ID]
	if !ok {
		return nil, fmt.Errorf("cluster-info carries no signature for token %s (is the bootstrapsigner controller running?)", j.Token.ID)
	}
	if !jws.DetachedTokenIsValid(sig, content, j.Token.ID, j.Token.Secret) {
		return nil, fmt.Errorf("cluster-info's signature does not match the token")
	}
	cfg, err := clientcmd.Load([]byte(content))
	if err != nil {
		return nil, fmt.Errorf("decoding cluster-info: %w", err)
	}
	for _, cl := range cfg.Clusters {
		hash, err := kubevirt.CACertHash(cl.CertificateAuthorityData)
		if err != nil {
			return nil, err
		}
		if hash != j.CACertHash {
			return nil, fmt.Errorf("cluster CA hash %s does not match the pinned %s", hash, j.CACertHash)
		}
		if err := probeTLS(server, cl.CertificateAuthorityData); err != nil {
			return nil, err
		}
		return cl.CertificateAuthorityData, nil
	}
	return nil, fmt.Errorf("cluster-info names no cluster")
}

// probeTLS checks that the endpoint serves a certificate of the pinned CA.
func probeTLS(server string, caPEM []byte) error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("cluster-info's CA is not PEM")
	}
	host := server[len("https://"):]
	conn, err := tls.Dial("tcp", host, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		return fmt.Errorf("the endpoint does not serve a certificate of the pinned CA: %w", err)
	}
	return conn.Close()
}

// register creates the Node as its kubelet would: its labels and taints
// from the join configuration, the providerID, and the hardware it has. The
// annotation hands the Node's heartbeat to the tenant's kwok where the
// control plane runs one (local control planes); elsewhere the simulator's
// own kubelet (--kubelet, kubelet.go) plays it.
func register(ctx context.Context, cs kubernetes.Interface, j kubevirt.Join, hw machine) error {
	labels := map[string]string{"kubernetes.io/hostname": j.NodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
	for k, v := range j.Labels {
		labels[k] = v
	}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        j.NodeName,
			Labels:      labels,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
		},
		Spec:   corev1.NodeSpec{ProviderID: kubevirt.ProviderID(j.NodeName), Taints: j.Taints},
		Status: corev1.NodeStatus{Capacity: hw.capacity, Allocatable: hw.capacity},
	}
	// Registered with its capacity in one write, as a kubelet does: a Node
	// without capacity would look full to the scheduler and the autoscaler.
	created, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) { // a restarted simulator finds its node registered
		return err
	}
	if err == nil && len(created.Status.Capacity) > 0 {
		return nil
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := cs.CoreV1().Nodes().Get(ctx, j.NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		cur.Status.Capacity, cur.Status.Allocatable = hw.capacity, hw.capacity
		_, err = cs.CoreV1().Nodes().UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		return err
	})
}
