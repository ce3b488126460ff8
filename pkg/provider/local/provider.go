package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/pkg/provider"
)

// Options configure the local provider.
type Options struct {
	// StateDir holds one directory per cluster, <StateDir>/<namespace>/<name>,
	// usually ${HIKUBE_HOME}/clusters.
	StateDir string
	// BinDir holds etcd, kwok and kwok-stages.yaml, and one directory per
	// Kubernetes minor (v1.NN/) with kube-apiserver, kube-controller-manager
	// and kube-scheduler; hack/build-tools.sh lays it out (_output/bin).
	BinDir string
	// Log receives structured logs; the zero value discards them.
	Log klog.Logger
	// EtcdBootstrapTimeout is how long a new etcd may run without a leader
	// before it is made afresh; DefaultEtcdBootstrapTimeout when zero.
	EtcdBootstrapTimeout time.Duration
	// Nice is the nice value (0–19) tenant processes run at. The machine
	// runs the platform that serves every tenant too (host API, etcd,
	// hikube-apiserver, this controller): a positive value lets it come
	// first when the tenants' control planes would take every core, as
	// CPU requests and priority classes do for the platform's pods on a
	// host cluster. Processes adopted from an earlier controller keep theirs.
	Nice int
	// GOGC is the garbage-collection target (percent, Go's GOGC) of tenant
	// processes, all Go programs; 0 keeps Go's default of 100. Most of a
	// tenant's memory is its kube-apiserver's heap, and an idle heap at
	// twice its live size is the default's price. Like Nice, it applies to
	// processes this provider starts; adopted ones keep theirs.
	GOGC int
	// SeedDir keeps the bootstrap seeds, one file per kube-apiserver binary
	// (seed.go); several providers may share it. Empty: no seeds, every new
	// etcd is bootstrapped by its kube-apiserver alone.
	SeedDir string
}

// Provider runs tenant control planes as local processes. It is safe for
// concurrent use; calls for one cluster are serialized.
type Provider struct {
	o       Options
	exits   *exits
	watches readyWatches

	mu    sync.Mutex
	locks map[string]*sync.Mutex
	seeds seeds // under mu
}

var _ provider.Provider = (*Provider)(nil)

// New returns a local provider. Processes left by a previous controller are
// adopted by the first EnsureControlPlane of their cluster.
func New(o Options) (*Provider, error) {
	if o.StateDir == "" || o.BinDir == "" {
		return nil, fmt.Errorf("local provider: StateDir and BinDir are required")
	}
	if o.Nice < 0 || o.Nice > 19 {
		return nil, fmt.Errorf("local provider: nice %d is not within 0–19", o.Nice)
	}
	if o.GOGC < 0 {
		return nil, fmt.Errorf("local provider: GOGC %d is negative", o.GOGC)
	}
	var err error
	if o.StateDir, err = filepath.Abs(o.StateDir); err != nil {
		return nil, fmt.Errorf("local provider: state dir: %w", err)
	}
	if o.BinDir, err = filepath.Abs(o.BinDir); err != nil {
		return nil, fmt.Errorf("local provider: bin dir: %w", err)
	}
	if o.SeedDir != "" {
		if o.SeedDir, err = filepath.Abs(o.SeedDir); err != nil {
			return nil, fmt.Errorf("local provider: seed dir: %w", err)
		}
		// A capture cut short by the end of an earlier controller left
		// its scratch directory (its processes died with it).
		removeStaleSeedBuilds(o.SeedDir)
	}
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("local provider: creating state dir: %w", err)
	}
	return &Provider{o: o, exits: &exits{}, locks: map[string]*sync.Mutex{}}, nil
}

// Name is "local".
func (p *Provider) Name() string { return "local" }

// lock serializes the calls for one cluster.
func (p *Provider) lock(c provider.ClusterRef) func() {
	p.mu.Lock()
	l, ok := p.locks[c.String()]
	if !ok {
		l = &sync.Mutex{}
		p.locks[c.String()] = l
	}
	p.mu.Unlock()
	l.Lock()
	return l.Unlock
}

var validName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// clusterDir is <StateDir>/<namespace>/<name>; the names are checked so that
// no reference escapes the state directory.
func (p *Provider) clusterDir(c provider.ClusterRef) (string, error) {
	if !validName.MatchString(c.Namespace) || !validName.MatchString(c.Name) {
		return "", fmt.Errorf("cluster %s: invalid namespace or name for a state directory", c)
	}
	return filepath.Join(p.o.StateDir, c.Namespace, c.Name), nil
}

var validMinor = regexp.MustCompile(`^v1\.[0-9]{1,3}$`)

// binaries are the executables a control plane of one minor runs.
type binaries struct {
	etcd, kwok, stages                  string
	apiserver, kcm, scheduler, minorDir string
}

func (p *Provider) binariesFor(minor string) binaries {
	d := filepath.Join(p.o.BinDir, minor)
	return binaries{
		etcd: filepath.Join(p.o.BinDir, "etcd"), kwok: filepath.Join(p.o.BinDir, "kwok"),
		stages:    filepath.Join(p.o.BinDir, "kwok-stages.yaml"),
		apiserver: filepath.Join(d, "kube-apiserver"), kcm: filepath.Join(d, "kube-controller-manager"),
		scheduler: filepath.Join(d, "kube-scheduler"), minorDir: d,
	}
}

// missingBinaries returns a message naming what is missing for minor and
// the command that builds it, or "" when everything is there.
func (p *Provider) missingBinaries(minor string) string {
	if !validMinor.MatchString(minor) {
		return fmt.Sprintf("minor %q is not of the form v1.NN", minor)
	}
	b := p.binariesFor(minor)
	var missing, targets []string
	check := func(path, target string) {
		if fi, err := os.Stat(path); err != nil || fi.IsDir() {
			missing = append(missing, path)
			if !slices.Contains(targets, target) {
				targets = append(targets, target)
			}
		}
	}
	check(b.apiserver, minor)
	check(b.kcm, minor)
	check(b.scheduler, minor)
	check(b.etcd, "etcd")
	check(b.kwok, "kwok")
	check(b.stages, "kwok")
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("missing %s; build them with: hack/build-tools.sh %s (from the repository root)",
		strings.Join(missing, ", "), strings.Join(targets, " "))
}

// AdminConfig returns a client configuration for replica 0 authenticated
// with the provider's client certificate (group system:masters), verifying
// the server against the cluster CA.
func (p *Provider) AdminConfig(ctx context.Context, c provider.ClusterRef) (*rest.Config, error) {
	dir, err := p.clusterDir(c)
	if err != nil {
		return nil, err
	}
	st, err := loadState(dir)
	if err != nil {
		return nil, fmt.Errorf("admin config of %s: %w", c, err)
	}
	if len(st.Ports.APIServers) == 0 {
		return nil, fmt.Errorf("admin config of %s: the control plane was not created yet", c)
	}
	return adminConfig(files{dir: dir}, st.Ports.APIServers[0])
}

func adminConfig(f files, port int) (*rest.Config, error) {
	caData, err := os.ReadFile(f.pki("ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("reading the cluster CA: %w", err)
	}
	certData, err := os.ReadFile(f.cert("admin"))
	if err != nil {
		return nil, fmt.Errorf("reading the admin certificate: %w", err)
	}
	keyData, err := os.ReadFile(f.key("admin"))
	if err != nil {
		return nil, fmt.Errorf("reading the admin key: %w", err)
	}
	return &rest.Config{
		Host: endpoint(port),
		TLSClientConfig: rest.TLSClientConfig{
			CAData: caData, CertData: certData, KeyData: keyData,
		},
		QPS: 50, Burst: 100,
	}, nil
}

func endpoint(port int) string { return "https://127.0.0.1:" + strconv.Itoa(port) }

// JoinEndpoint is where machines that join the cluster reach its API:
// replica 0 on loopback, served by the cluster CA, and the minor it runs.
func (p *Provider) JoinEndpoint(ctx context.Context, c provider.ClusterRef) (string, []byte, string, error) {
	dir, err := p.clusterDir(c)
	if err != nil {
		return "", nil, "", err
	}
	st, err := loadState(dir)
	if err != nil {
		return "", nil, "", fmt.Errorf("join endpoint of %s: %w", c, err)
	}
	if len(st.Ports.APIServers) == 0 || st.Minor == "" {
		return "", nil, "", fmt.Errorf("join endpoint of %s: the control plane was not created yet", c)
	}
	ca, err := os.ReadFile(files{dir: dir}.pki("ca.crt"))
	if err != nil {
		return "", nil, "", fmt.Errorf("join endpoint of %s: reading the cluster CA: %w", c, err)
	}
	return "127.0.0.1:" + strconv.Itoa(st.Ports.APIServers[0]), ca, st.Minor, nil
}

var _ provider.ControlPlanes = (*Provider)(nil)

// Delete stops every process of the cluster (SIGTERM, then SIGKILL) and
// removes its directory, etcd data included.
func (p *Provider) Delete(ctx context.Context, c provider.ClusterRef) (bool, error) {
	defer p.lock(c)()
	dir, err := p.clusterDir(c)
	if err != nil {
		return false, err
	}
	p.stopWatch(dir)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err := stopCluster(dir, 10*time.Second); err != nil {
		return false, fmt.Errorf("deleting cluster %s: %w", c, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return false, fmt.Errorf("deleting cluster %s: removing %s: %w", c, dir, err)
	}
	// The namespace directory goes when its last cluster does.
	_ = os.Remove(filepath.Dir(dir))
	p.o.Log.Info("Deleted local control plane", "cluster", c.String())
	return true, nil
}

// stopOrder stops the clients before the servers they talk to: kwok, the
// scheduler and kcm, then the apiservers, then etcd (an apiserver whose etcd
// is gone does not finish its graceful shutdown, nor etcd with clients).
var stopOrder = []func(name string) bool{
	func(n string) bool { return n == procKwok || n == procScheduler || n == procKCM },
	func(n string) bool { return strings.HasPrefix(n, "kube-apiserver-") },
	func(n string) bool { return true },
}

// stopCluster stops the recorded processes of a cluster directory, then any
// stray one that names the directory, and removes their pid files.
func stopCluster(dir string, grace time.Duration) error {
	recs, err := readRecords(dir)
	if err != nil {
		return err
	}
	done := map[string]bool{}
	for _, match := range stopOrder {
		var batch []procRecord
		for name, r := range recs {
			if !done[name] && match(name) {
				batch = append(batch, r)
				done[name] = true
			}
		}
		if err := stopProcesses(batch, grace); err != nil {
			return err
		}
	}
	// Whatever still names the directory was started for it (a pid file
	// lost, or a record that no longer matches).
	if err := stopProcesses(strays(dir, nil), grace); err != nil {
		return err
	}
	for name := range recs {
		if err := removeRecord(dir, name); err != nil {
			return err
		}
	}
	return nil
}

// StopAll stops every tenant process under stateDir, all clusters at once,
// and keeps their data: the next EnsureControlPlane starts them again. `make
// run` calls it on exit.
func StopAll(stateDir string) error {
	dirs, err := filepath.Glob(filepath.Join(stateDir, "*", "*"))
	if err != nil {
		return fmt.Errorf("listing clusters under %s: %w", stateDir, err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(dirs))
	for i, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := stopCluster(dir, 10*time.Second); err != nil {
				errs[i] = fmt.Errorf("stopping %s: %w", dir, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
