package clusterpki

import (
	"testing"
	"time"

	"github.com/hikube/hikube/pkg/pki"
)

func TestGeneratedPKISurvivesTheSecretAndSignsClients(t *testing.T) {
	ref := ClusterRef{Namespace: "tenant-a", Name: "prod", UID: "u1"}
	p, err := Generate(ref)
	if err != nil {
		t.Fatal(err)
	}
	s := ToSecret(ref, p)
	if s.Name != "tenant-a.prod.pki" || s.Namespace != "hikube-system" {
		t.Errorf("secret %s/%s, want hikube-system/tenant-a.prod.pki", s.Namespace, s.Name)
	}
	back, err := FromSecret(s)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := CA(back)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.SignClient(pki.CertConfig{CommonName: "alice", Organization: []string{"g"}, NotAfter: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.Verify(ca, leaf, pki.ClientUsage, time.Now()); err != nil {
		t.Errorf("client certificate does not chain to the stored CA: %v", err)
	}
	delete(s.Data, "sa.key")
	if _, err := FromSecret(s); err == nil {
		t.Error("a secret without the service-account key was accepted")
	}
}
