package controlplaneflags

import (
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"
)

func tenantLike() KubeAPIServer {
	return KubeAPIServer{
		EtcdServers: []string{"http://127.0.0.1:2379"},
		Serving: Serving{
			SecurePort: 6444, BindAddress: "127.0.0.1", AdvertiseAddress: "127.0.0.1",
			CertDir: "/c/pki/apiserver-1", CertFile: "/c/pki/apiserver.crt", KeyFile: "/c/pki/apiserver.key",
		},
		ClientCAFile:           "/c/pki/ca.crt",
		ServiceAccount:         ServiceAccount{KeyFile: "/c/pki/sa.pub", SigningKeyFile: "/c/pki/sa.key"},
		EndpointReconcilerType: "none",
		ShutdownDelay:          ptr.To(time.Duration(0)),
		Profiling:              ptr.To(false),
		FrontProxy: &FrontProxy{
			ClientCAFile:   "/c/pki/front-proxy-ca.crt",
			ClientCertFile: "/c/pki/front-proxy-client.crt", ClientKeyFile: "/c/pki/front-proxy-client.key",
		},
	}
}

// The whole command line, in order: a change here changes the spec hash of
// every running tenant apiserver, which the local provider then restarts.
func TestKubeAPIServerFlagsAreCompleteAndInAFixedOrder(t *testing.T) {
	want := []string{
		"--etcd-servers=http://127.0.0.1:2379",
		"--secure-port=6444",
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--endpoint-reconciler-type=none",
		"--cert-dir=/c/pki/apiserver-1",
		"--tls-cert-file=/c/pki/apiserver.crt",
		"--tls-private-key-file=/c/pki/apiserver.key",
		"--client-ca-file=/c/pki/ca.crt",
		"--authorization-mode=Node,RBAC",
		"--service-account-key-file=/c/pki/sa.pub",
		"--service-account-signing-key-file=/c/pki/sa.key",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--shutdown-delay-duration=0s",
		"--profiling=false",
		"--requestheader-client-ca-file=/c/pki/front-proxy-ca.crt",
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=/c/pki/front-proxy-client.crt",
		"--proxy-client-key-file=/c/pki/front-proxy-client.key",
	}
	c := tenantLike()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	got := c.Flags()
	if !slices.Equal(got, want) {
		t.Errorf("flags:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if again := c.Flags(); !slices.Equal(again, got) {
		t.Error("a second call gives other flags")
	}
}

func TestKubeAPIServerOptionalFlagsAreLeftOutAndExplicitValuesWinOverDefaults(t *testing.T) {
	c := tenantLike()
	c.FrontProxy, c.ShutdownDelay, c.Profiling, c.EndpointReconcilerType, c.Serving.CertDir = nil, nil, nil, "", ""
	for _, f := range c.Flags() {
		for _, prefix := range []string{"--requestheader", "--proxy-client", "--shutdown-delay", "--profiling", "--endpoint-reconciler", "--cert-dir", "--enable-aggregator-routing"} {
			if strings.HasPrefix(f, prefix) {
				t.Errorf("unset option gives %s", f)
			}
		}
	}
	c.AuthorizationModes = []string{"RBAC"}
	c.ServiceAccount.Issuer = "https://issuer.example"
	c.ServiceClusterIPRange = "10.0.0.0/24"
	c.EtcdServers = []string{"https://e1:2379", "https://e2:2379"}
	c.EnableAggregatorRouting = ptr.To(false)
	c.FrontProxy = &FrontProxy{ClientCAFile: "ca", AllowedNames: []string{"a", "b"}, ClientCertFile: "c", ClientKeyFile: "k"}
	got := c.Flags()
	for _, want := range []string{
		"--authorization-mode=RBAC", "--service-account-issuer=https://issuer.example", "--service-cluster-ip-range=10.0.0.0/24",
		"--etcd-servers=https://e1:2379,https://e2:2379", "--requestheader-allowed-names=a,b",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %s in %v", want, got)
		}
	}
	// The aggregator routing flag comes last, after the front-proxy flags.
	if got[len(got)-1] != "--enable-aggregator-routing=false" {
		t.Errorf("last flag %s", got[len(got)-1])
	}
}

func TestKubeAPIServerValidateNamesWhatIsMissing(t *testing.T) {
	c := KubeAPIServer{FrontProxy: &FrontProxy{}}
	err := c.Validate()
	if err == nil {
		t.Fatal("an empty Config is valid")
	}
	for _, want := range []string{"EtcdServers", "SecurePort", "Serving.CertFile", "ClientCAFile", "ServiceAccount.KeyFile", "FrontProxy.ClientCAFile", "FrontProxy.ClientCertFile"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	c = tenantLike()
	c.Serving.SecurePort = 70000
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "SecurePort") {
		t.Errorf("port 70000 accepted: %v", err)
	}
}

func TestKubernetesServiceIPIsTheFirstAddressOfTheRange(t *testing.T) {
	if got := DefaultKubernetesServiceIP.String(); got != "10.96.0.1" {
		t.Errorf("DefaultKubernetesServiceIP = %s, want 10.96.0.1", got)
	}
	if ip, err := KubernetesServiceIP("fd00:10::/108"); err != nil || ip.String() != "fd00:10::1" {
		t.Errorf("KubernetesServiceIP(fd00:10::/108) = %v, %v", ip, err)
	}
	if _, err := KubernetesServiceIP("10.96.0.0"); err == nil {
		t.Error("a range without a prefix length was accepted")
	}
}

func TestKubeAPIServerReachesEtcdOverTLSWithTheFlagsLast(t *testing.T) {
	c := tenantLike()
	c.EtcdTLS = &EtcdClientTLS{CAFile: "/e/ca.crt", CertFile: "/e/client.crt", KeyFile: "/e/client.key"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	got := c.Flags()
	want := []string{"--etcd-cafile=/e/ca.crt", "--etcd-certfile=/e/client.crt", "--etcd-keyfile=/e/client.key"}
	if tail := got[len(got)-3:]; !slices.Equal(tail, want) {
		t.Errorf("last flags %v, want %v", tail, want)
	}
	c.EtcdTLS = &EtcdClientTLS{CAFile: "/e/ca.crt"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "EtcdTLS") {
		t.Errorf("etcd TLS without a client certificate: %v", err)
	}
}
