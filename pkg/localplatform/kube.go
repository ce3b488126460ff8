package localplatform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/pkg/controlplaneflags"
	"github.com/hikube/hikube/pkg/kubeconfig"
	"github.com/hikube/hikube/pkg/pki"
	"github.com/hikube/hikube/pkg/process"
)

// startKube starts etcd and kube-apiserver together (kube-apiserver retries
// etcd until it answers, which is faster than waiting for etcd first) and
// waits for kube-apiserver's /readyz.
func (p *Platform) startKube(ctx context.Context) error {
	began := time.Now()
	etcd, err := p.launch(procEtcd, p.etcdArgs())
	if err != nil {
		return err
	}
	kube, err := p.launch(procKube, p.kubeAPIServerArgs())
	if err != nil {
		return err
	}
	cs, err := p.clientset(p.admin)
	if err != nil {
		return err
	}
	var last error
	err = p.waitFor(ctx, kubeAPIServerTimeout, []*process.Process{etcd, kube}, func(ctx context.Context) (bool, error) {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, last = cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(rctx)
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for kube-apiserver /readyz (last answer: %v): %w", last, err)
	}
	p.logf("etcd and kube-apiserver ready in %s (%s)", time.Since(began).Round(10*time.Millisecond), p.KubeAPIServerURL())
	return nil
}

func (p *Platform) etcdArgs() []string {
	return controlplaneflags.Etcd{
		Name:      "hikube-local",
		DataDir:   filepath.Join(p.home, "etcd"),
		ClientURL: "http://127.0.0.1:" + strconv.Itoa(p.ports.EtcdClient),
		PeerURL:   "http://127.0.0.1:" + strconv.Itoa(p.ports.EtcdPeer),
	}.Flags()
}

// kubeAPIServerArgs are the flags of the host kube-apiserver; what every
// hikube kube-apiserver shares is decided in controlplaneflags.
func (p *Platform) kubeAPIServerArgs() []string {
	k := p.pki
	return controlplaneflags.KubeAPIServer{
		EtcdServers: []string{"http://127.0.0.1:" + strconv.Itoa(p.ports.EtcdClient)},
		Serving: controlplaneflags.Serving{
			SecurePort:       p.ports.KubeAPIServer,
			BindAddress:      "127.0.0.1",
			AdvertiseAddress: "127.0.0.1",
			CertDir:          filepath.Join(p.home, "kube-apiserver"),
			CertFile:         k.cert("kube-apiserver"),
			KeyFile:          k.key("kube-apiserver"),
		},
		ClientCAFile: k.cert("ca"),
		// The private key verifies too: the host has no separate public key file.
		ServiceAccount: controlplaneflags.ServiceAccount{KeyFile: k.saKeyPath, SigningKeyFile: k.saKeyPath},
		// Endpoints of the "kubernetes" Service may not hold a loopback
		// address, and nothing here needs them.
		EndpointReconcilerType: "none",
		// The aggregation layer: kube-apiserver authenticates to
		// hikube-apiserver with the front-proxy client certificate and
		// passes the user in request headers.
		FrontProxy: &controlplaneflags.FrontProxy{
			ClientCAFile:   k.cert("front-proxy-ca"),
			AllowedNames:   []string{frontProxyClient},
			ClientCertFile: k.cert(frontProxyClient),
			ClientKeyFile:  k.key(frontProxyClient),
		},
		// Route to the Service (our ExternalName), not to its Endpoints,
		// which cannot hold the loopback address; in the chart mode to the
		// endpoints of the chart's Service, pods on the process node's
		// bridge: no kube-proxy serves a ClusterIP here.
		EnableAggregatorRouting: ptr.To(p.opts.Install == InstallChart),
	}.Flags()
}

// writeCertKubeconfig writes a kubeconfig for user with the client
// certificate pki/<certName>.{crt,key}; a tenant user's context defaults to
// the tenant's namespace.
func (p *Platform) writeCertKubeconfig(path, user, certName string) error {
	certPEM, err := os.ReadFile(p.pki.cert(certName))
	if err != nil {
		return fmt.Errorf("kubeconfig for %s: %w", user, err)
	}
	keyPEM, err := os.ReadFile(p.pki.key(certName))
	if err != nil {
		return fmt.Errorf("kubeconfig for %s: %w", user, err)
	}
	return kubeconfig.WriteFile(path, kubeconfig.Config{
		ClusterName:           clusterName,
		Server:                p.KubeAPIServerURL(),
		CAData:                p.pki.clusterCA.CertPEM(),
		UserName:              user,
		ClientCertificateData: certPEM,
		ClientKeyData:         keyPEM,
		Namespace:             tenantNamespaceOf(user),
	})
}

func tenantNamespaceOf(user string) string {
	for _, t := range Tenants {
		if t.User == user {
			return t.Namespace
		}
	}
	return ""
}

// NewUserKubeconfig issues a client certificate from the platform CA for
// user in groups and writes a kubeconfig for it under Home/users/. The user
// has no roles unless a test binds some.
func (p *Platform) NewUserKubeconfig(user string, groups ...string) (string, error) {
	kp, err := p.pki.clusterCA.SignClient(pki.CertConfig{CommonName: user, Organization: groups})
	if err != nil {
		return "", fmt.Errorf("client certificate for %s: %w", user, err)
	}
	keyPEM, err := kp.KeyPEM()
	if err != nil {
		return "", err
	}
	path := filepath.Join(p.home, "users", userFileName(user, groups)+".kubeconfig")
	err = kubeconfig.WriteFile(path, kubeconfig.Config{
		ClusterName:           clusterName,
		Server:                p.KubeAPIServerURL(),
		CAData:                p.pki.clusterCA.CertPEM(),
		UserName:              user,
		ClientCertificateData: kp.CertPEM(),
		ClientKeyData:         keyPEM,
	})
	if err != nil {
		return "", err
	}
	return path, nil
}

// userFileName makes a file name of a user name ("system:serviceaccount:…"
// has colons) that differs for different groups.
func userFileName(user string, groups []string) string {
	safe := strings.Map(func(r rune) rune {
		if r == '-' || r == '.' || r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') {
			return r
		}
		return '_'
	}, user)
	if len(groups) == 0 {
		return safe
	}
	sum := sha256.Sum256([]byte(strings.Join(groups, "\n")))
	return safe + "-" + hex.EncodeToString(sum[:4])
}

// waitFor polls cond every pollInterval until it holds, the timeout passes
// or one of procs exits (then the error quotes the end of its log).
func (p *Platform) waitFor(ctx context.Context, timeout time.Duration, procs []*process.Process, cond wait.ConditionWithContextFunc) error {
	return wait.PollUntilContextTimeout(ctx, pollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		for _, proc := range procs {
			if proc.Exited() {
				return false, proc.ExitError()
			}
		}
		return cond(ctx)
	})
}
