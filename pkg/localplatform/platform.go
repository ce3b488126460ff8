// Package localplatform runs hikube on this machine: etcd, a host
// kube-apiserver with RBAC and the aggregation layer configured, tenant
// namespaces with their users, and hikube-apiserver registered through its
// APIService. `make run` (hack/run) and the integration tests start it the
// same way; all state lives under one directory and is reused by the next
// start.
package localplatform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/hikube/hikube/pkg/kubeconfig"
	"github.com/hikube/hikube/pkg/process"
)

const (
	// clusterName names the cluster in every kubeconfig the platform writes.
	clusterName = "hikube-local"
	// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
	stopGrace = 10 * time.Second
	// pollInterval paces every readiness check: readiness is seconds away,
	// so a short interval is what keeps start-up fast.
	pollInterval = 100 * time.Millisecond
	// kubeAPIServerTimeout bounds the wait for etcd and kube-apiserver.
	kubeAPIServerTimeout = 90 * time.Second
	// apiServiceTimeout bounds the wait for the APIService to be Available.
	apiServiceTimeout = 60 * time.Second
)

// Process names; each logs to Home/logs/<name>.log (kube-controller-manager's
// is procKCM).
const (
	procEtcd   = "etcd"
	procKube   = "kube-apiserver"
	procHikube = "hikube-apiserver"
)

// Options configure Start.
type Options struct {
	// Home is the state directory: pki/, etcd/, hikube-etcd/, logs/,
	// ports.json and the kubeconfigs. It is created if missing and reused.
	Home string
	// BinDir holds etcd, kube-apiserver, kubectl and hikube-apiserver.
	BinDir string
	// Log receives one progress line per step; nil discards them. Process
	// output goes to Home/logs/<name>.log, never here.
	Log io.Writer
	// SkipHikubeAPIServer starts only etcd and kube-apiserver with the
	// manifests and tenants applied. It exists for tests of the platform
	// itself; everything else wants the full platform.
	SkipHikubeAPIServer bool
	// SkipController leaves hikube-controller out: the API is served but no
	// cluster is provisioned. For tests of the API alone, whose status
	// writes the controller would overwrite.
	SkipController bool
	// ScaleDownGrace, when set, is the controller's --scale-down-grace (how
	// long a node stays empty before the autoscaler removes it).
	ScaleDownGrace time.Duration
	// EtcdBootstrapTimeout, when set, is the controller's
	// --etcd-bootstrap-timeout (how long a new etcd may stay unready before
	// it is made afresh): tests that kill an etcd in its first second set
	// it short, so as not to wait out the production default.
	EtcdBootstrapTimeout time.Duration
	// NodeProvider is the controller's worker half: "local" (kwok nodes
	// written into the tenant, the default) or "kubevirt" (KubeVirt VMs in
	// the host, with the simulated KubeVirt of kubevirt.go).
	NodeProvider string
	// Install is how hikube itself runs: "" as processes of this machine
	// (hikube-apiserver with its embedded etcd, hikube-controller), or
	// InstallChart: installed into the host cluster by its Helm chart and
	// run as the chart's pods on the process node (install.go). The chart
	// mode needs NodeProvider "kubevirt" (it runs the chart's default
	// providers, kubevirt control planes and workers) and root;
	// SkipHikubeAPIServer and SkipController do not apply to it.
	Install string
	// Supervise restarts any process of the platform that exits, with a
	// back-off and a log line saying why, as a kubelet restarts a container
	// (supervise.go). `make run` and the fault tests set it; tests that
	// kill and restart a component themselves leave it off.
	Supervise bool
	// TenantGOGC, when positive, is the controller's --local-tenant-gogc
	// (GOGC of the local provider's tenant processes: less idle memory
	// per tenant for slower starts).
	TenantGOGC int
}

// Tenant is a tenant namespace of the local platform and its admin user.
type Tenant struct {
	Namespace string
	User      string
}

// Tenants are created by Start: each user is bound to the built-in "admin"
// ClusterRole in its namespace only.
var Tenants = []Tenant{
	{Namespace: "tenant-a", User: "alice"},
	{Namespace: "tenant-b", User: "bob"},
}

// Platform is a running local platform.
type Platform struct {
	opts  Options
	home  string
	bin   string
	pki   *platformPKI
	ports Ports
	admin *rest.Config

	mu    sync.Mutex
	procs map[string]*process.Process
	specs map[string]launchSpec // how each process was started, to restart it

	supervisor supervisor
	order      []string // start order; Stop goes backwards
}

// Start brings the platform up and returns once everything is ready: etcd and
// kube-apiserver answer, the manifests and tenants are applied and, unless
// skipped, the hikube APIService is Available. On error, whatever was started
// is stopped again.
func Start(ctx context.Context, o Options) (*Platform, error) {
	if o.Home == "" || o.BinDir == "" {
		return nil, errors.New("local platform: Home and BinDir are required")
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	switch {
	case o.Install == InstallChart && o.NodeProvider != NodeProviderKubeVirt:
		return nil, fmt.Errorf("local platform: Install %q runs the chart's kubevirt providers on the process node: it needs NodeProvider %q", o.Install, NodeProviderKubeVirt)
	case o.Install != "" && o.Install != InstallChart:
		return nil, fmt.Errorf("local platform: Install %q: want empty (processes) or %q", o.Install, InstallChart)
	}
	home, err := filepath.Abs(o.Home)
	if err != nil {
		return nil, fmt.Errorf("local platform home: %w", err)
	}
	bin, err := filepath.Abs(o.BinDir)
	if err != nil {
		return nil, fmt.Errorf("local platform binaries: %w", err)
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("creating local platform home: %w", err)
	}
	p := &Platform{opts: o, home: home, bin: bin, procs: map[string]*process.Process{}, specs: map[string]launchSpec{}}
	if err := p.start(ctx); err != nil {
		if stopErr := p.Stop(); stopErr != nil {
			err = fmt.Errorf("%w (and stopping: %v)", err, stopErr)
		}
		return nil, err
	}
	return p, nil
}

func (p *Platform) start(ctx context.Context) error {
	began := time.Now()
	if err := p.prepare(); err != nil {
		return err
	}
	if err := p.startKube(ctx); err != nil {
		return err
	}
	kcm, err := p.startControllerManager()
	if err != nil {
		return err
	}
	if err := p.applyPlatformObjects(ctx); err != nil {
		return err
	}
	if p.opts.Install != InstallChart {
		// The chart creates both itself in the chart mode.
		if err := p.seedGPUInventory(ctx); err != nil {
			return err
		}
		if err := p.waitRolesAggregated(ctx, kcm); err != nil {
			return err
		}
	}
	if p.opts.NodeProvider == NodeProviderKubeVirt {
		if err := p.startKubeVirtHost(ctx); err != nil {
			return err
		}
	}
	if p.opts.Install == InstallChart {
		if err := p.installChart(ctx); err != nil {
			return err
		}
	} else if !p.opts.SkipHikubeAPIServer {
		if err := p.writeHikubeKubeconfig(ctx); err != nil {
			return err
		}
		if err := p.startHikube(ctx); err != nil {
			return err
		}
		if !p.opts.SkipController {
			if err := p.startController(ctx); err != nil {
				return err
			}
		}
	}
	p.logf("platform ready in %s (home %s)", time.Since(began).Round(10*time.Millisecond), p.home)
	if p.opts.Supervise {
		p.supervisor.start(p)
	}
	return nil
}

// prepare creates or reuses the PKI, the ports and the user kubeconfigs.
func (p *Platform) prepare() error {
	began := time.Now()
	k, err := ensurePKI(filepath.Join(p.home, "pki"))
	if err != nil {
		return fmt.Errorf("local platform PKI: %w", err)
	}
	p.pki = k
	ports, err := loadOrChoosePorts(filepath.Join(p.home, "ports.json"))
	if err != nil {
		return err
	}
	p.ports = ports
	p.logf("PKI and ports ready in %s (kube-apiserver :%d, hikube-apiserver :%d, etcd :%d)",
		time.Since(began).Round(time.Millisecond), ports.KubeAPIServer, ports.HikubeAPIServer, ports.EtcdClient)

	// Rewritten on every start: the port may have changed.
	for _, u := range clientUsers {
		if err := p.writeCertKubeconfig(p.KubeconfigPath(u.name), u.name, u.name); err != nil {
			return err
		}
	}
	admin, err := p.RESTConfig("admin")
	if err != nil {
		return err
	}
	p.admin = admin
	return nil
}

// KubeconfigPath is Home/<user>.kubeconfig: "admin" (system:masters),
// "alice", "bob" and "hikube-apiserver" (its service-account token).
func (p *Platform) KubeconfigPath(user string) string {
	return filepath.Join(p.home, user+".kubeconfig")
}

// RESTConfig loads the client configuration of KubeconfigPath(user), with a
// client-side rate limit high enough for tests.
func (p *Platform) RESTConfig(user string) (*rest.Config, error) {
	cfg, err := kubeconfig.LoadRESTConfig(p.KubeconfigPath(user))
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 100, 200
	return cfg, nil
}

// Home is the absolute state directory.
func (p *Platform) Home() string { return p.home }

// Ports are the loopback ports in use.
func (p *Platform) Ports() Ports { return p.ports }

// KubeAPIServerURL is the https URL of the host kube-apiserver.
func (p *Platform) KubeAPIServerURL() string {
	return "https://127.0.0.1:" + strconv.Itoa(p.ports.KubeAPIServer)
}

// LogPath is the log file of a process: "etcd", "kube-apiserver", "hikube-apiserver".
func (p *Platform) LogPath(name string) string {
	return filepath.Join(p.home, "logs", name+".log")
}

// Stop ends every process in the reverse order of their start: SIGTERM, then
// SIGKILL after a grace period. It is safe to call more than once.
func (p *Platform) Stop() error {
	p.supervisor.stop() // nothing is restarted while the platform stops
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for i := len(p.order) - 1; i >= 0; i-- {
		name := p.order[i]
		proc := p.procs[name]
		if proc != nil && !proc.Exited() {
			began := time.Now()
			if err := process.Stop(stopGrace, proc); err != nil {
				errs = append(errs, err)
			} else {
				p.logf("stopped %s in %s", name, time.Since(began).Round(10*time.Millisecond))
			}
		}
		if name == procProcessNode {
			// Had it been killed before it cleaned up, its namespaces and
			// links would outlive the platform.
			if err := p.cleanupProcessNode(); err != nil {
				errs = append(errs, err)
			}
		}
		if name == procController {
			// The controller is down (or was killed): nothing restarts the
			// tenant clusters while they stop.
			if err := p.stopTenantClusters(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// launch starts a process and records it for Stop.
func (p *Platform) launch(name string, args []string) (*process.Process, error) {
	return p.launchBinary(name, name, args)
}

// launchBinary is launch for a process named apart from its binary.
func (p *Platform) launchBinary(name, binary string, args []string) (*process.Process, error) {
	proc, err := process.Start(process.Options{
		Name: name, Binary: filepath.Join(p.bin, binary), Args: args, LogPath: p.LogPath(name),
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w (build it with hack/build-tools.sh or make)", err)
	}
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, seen := p.procs[name]; !seen {
		p.order = append(p.order, name)
	}
	p.procs[name] = proc
	p.specs[name] = launchSpec{binary: binary, args: args}
	return proc, nil
}

func (p *Platform) proc(name string) *process.Process {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.procs[name]
}

func (p *Platform) clientset(cfg *rest.Config) (*kubernetes.Clientset, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", cfg.Host, err)
	}
	return cs, nil
}

func (p *Platform) logf(format string, args ...any) {
	fmt.Fprintf(p.opts.Log, "hikube-local: "+format+"\n", args...)
}
