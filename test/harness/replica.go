package harness

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"

	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
	"github.com/hikube/hikube/pkg/localplatform"
	"github.com/hikube/hikube/pkg/portalloc"
	"github.com/hikube/hikube/pkg/process"
)

// Replica is one more hikube-apiserver process, started by a test, that
// stores in the platform's etcd (the host's) under a prefix of the test's:
// several of them with one prefix are the replicas of one deployment, as
// behind a Service. Each is reached directly, not through the aggregator
// (whose APIService points at the platform's own server), as the admin,
// whose client certificate it verifies against the host's client CA like
// kube-apiserver does.
type Replica struct {
	Proc   *process.Process
	Port   int
	Config *rest.Config
	Hikube clientset.Interface
}

// StartReplica starts a hikube-apiserver of bin (the directory of
// _output/bin) on a free port, storing under etcdPrefix, with extraArgs
// added; name names its log in the platform's logs/. It does not wait: see
// WaitServing.
func StartReplica(p *localplatform.Platform, bin, etcdPrefix, name string, extraArgs ...string) (*Replica, error) {
	ports := portalloc.New()
	port, err := ports.Pick()
	if err != nil {
		return nil, err
	}
	ports.Release()
	pkiDir := filepath.Join(p.Home(), "pki")
	kc := p.KubeconfigPath("hikube-apiserver")
	args := append([]string{
		"--secure-port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1",
		"--tls-cert-file=" + filepath.Join(pkiDir, "hikube-apiserver.crt"),
		"--tls-private-key-file=" + filepath.Join(pkiDir, "hikube-apiserver.key"),
		"--kubeconfig=" + kc,
		"--authentication-kubeconfig=" + kc,
		"--authorization-kubeconfig=" + kc,
		"--etcd-servers=http://127.0.0.1:" + strconv.Itoa(p.Ports().EtcdClient),
		"--etcd-prefix=" + etcdPrefix,
	}, extraArgs...)
	cfg, err := p.RESTConfig("admin")
	if err != nil {
		return nil, err
	}
	cfg = rest.CopyConfig(cfg)
	cfg.Host = "https://127.0.0.1:" + strconv.Itoa(port)
	cfg.TLSClientConfig.CAData, cfg.TLSClientConfig.CAFile = nil, filepath.Join(pkiDir, "hikube-ca.crt")
	cfg.QPS, cfg.Burst = 1000, 1000
	cfg.WarningHandler = rest.NoWarnings{}
	cs, err := clientset.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	proc, err := process.Start(process.Options{
		Name:    name,
		Binary:  filepath.Join(bin, "hikube-apiserver"),
		Args:    args,
		LogPath: filepath.Join(p.Home(), "logs", name+".log"),
	})
	if err != nil {
		return nil, err
	}
	return &Replica{Proc: proc, Port: port, Config: cfg, Hikube: cs}, nil
}

// WaitServing waits until the replica answers /readyz with 200 and
// authenticates the admin (ready may come before the client CA is loaded
// from the host, and the admin's certificate would be anonymous).
func (r *Replica) WaitServing(ctx context.Context, timeout time.Duration) error {
	client, err := rest.HTTPClientFor(r.Config)
	if err != nil {
		return err
	}
	last := ""
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if r.Proc.Exited() {
			return false, fmt.Errorf("exited: %v", r.Proc.ExitError())
		}
		resp, err := client.Get(r.Config.Host + "/readyz")
		if err != nil {
			last = err.Error()
			return false, nil
		}
		resp.Body.Close()
		last = resp.Status
		if resp.StatusCode != http.StatusOK {
			return false, nil
		}
		if _, err := r.Hikube.AppsV1alpha1().Clusters("default").List(ctx, metav1.ListOptions{}); err != nil {
			last = err.Error()
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("hikube-apiserver on :%d not serving (last: %s): %w\n%s", r.Port, last, err, process.Tail(r.Proc.LogPath(), 30))
	}
	return nil
}

// Stop ends the replica: SIGTERM, then SIGKILL after grace.
func (r *Replica) Stop(grace time.Duration) error { return process.Stop(grace, r.Proc) }
