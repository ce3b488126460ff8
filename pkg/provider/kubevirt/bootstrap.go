package kubevirt

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
)

// NodeBootstrapGroup is the extra group of hikube's bootstrap tokens, the
// one kubeadm uses: its RBAC in the tenant lets a joining kubelet create a
// CSR and have it auto-approved, and nothing else.
const NodeBootstrapGroup = "system:bootstrappers:kubeadm:default-node-token"

// LabelBootstrapNode names, on a bootstrap token Secret, the VM it was made
// for, so the provider removes the token with its VM.
const LabelBootstrapNode = "apps.hikube.io/bootstrap-node"

// BootstrapToken is a kubeadm bootstrap token ("<id>.<secret>").
type BootstrapToken struct {
	ID, Secret string
	Expires    time.Time
}

// NewBootstrapToken draws a token valid until now+ttl.
func NewBootstrapToken(now time.Time, ttl time.Duration) (BootstrapToken, error) {
	tok, err := bootstraputil.GenerateBootstrapToken()
	if err != nil {
		return BootstrapToken{}, fmt.Errorf("generating a bootstrap token: %w", err)
	}
	m := bootstraputil.BootstrapTokenRegexp.FindStringSubmatch(tok)
	if len(m) != 3 {
		return BootstrapToken{}, fmt.Errorf("generated bootstrap token has an unexpected shape")
	}
	return BootstrapToken{ID: m[1], Secret: m[2], Expires: now.Add(ttl).UTC().Truncate(time.Second)}, nil
}

// String is the token as kubeadm and the kubelet take it. It is a
// credential: never log it.
func (t BootstrapToken) String() string { return bootstraputil.TokenFromIDAndSecret(t.ID, t.Secret) }

// BootstrapTokenSecret is the token's Secret in the tenant's kube-system, in
// the format kube-apiserver's bootstrap token authenticator reads; the
// tenant's token cleaner removes it once it expires.
func BootstrapTokenSecret(t BootstrapToken, node string) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      bootstraputil.BootstrapTokenSecretName(t.ID),
			Namespace: metav1.NamespaceSystem,
			Labels:    map[string]string{LabelBootstrapNode: node},
		},
		Type: bootstrapapi.SecretTypeBootstrapToken,
		StringData: map[string]string{
			bootstrapapi.BootstrapTokenDescriptionKey:      "hikube: joins node " + node,
			bootstrapapi.BootstrapTokenIDKey:               t.ID,
			bootstrapapi.BootstrapTokenSecretKey:           t.Secret,
			bootstrapapi.BootstrapTokenExpirationKey:       t.Expires.Format(time.RFC3339),
			bootstrapapi.BootstrapTokenUsageAuthentication: "true",
			bootstrapapi.BootstrapTokenUsageSigningKey:     "true",
			bootstrapapi.BootstrapTokenExtraGroupsKey:      NodeBootstrapGroup,
		},
	}
}

// CACertHash is kubeadm's discovery pin of a CA: "sha256:" and the hex
// SHA-256 of the certificate's DER SubjectPublicKeyInfo.
func CACertHash(caPEM []byte) (string, error) {
	block, _ := pem.Decode(caPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return "", fmt.Errorf("CA is not a PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", fmt.Errorf("parsing the CA certificate: %w", err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}
