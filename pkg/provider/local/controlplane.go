package local

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/pkg/process"
	"github.com/hikube/hikube/pkg/provider"
)

// Reasons of a control plane that is not Ready.
const (
	ReasonStarting        = "Starting"
	ReasonRestarting      = "Restarting"
	ReasonUpgrading       = "Upgrading"
	ReasonBinariesMissing = "BinariesMissing"
)

const (
	// probeTimeout bounds one /readyz or /version request, so that a call
	// stays well under a second.
	probeTimeout = 400 * time.Millisecond
	// restartBackoff is the least time between two starts of one process,
	// so that a process failing at once is not restarted in a tight loop.
	restartBackoff = 2 * time.Second
	// replaceGrace is how long a process replaced during an upgrade may
	// take to end after SIGTERM.
	replaceGrace = 5 * time.Second
	// retireWait is how long a round waits for a signalled process to end
	// before it returns and looks again in the next round.
	retireWait = 300 * time.Millisecond
)

// desired is one process the control plane should run.
type desired struct {
	name, binary, minor, log string
	args, env                []string
	spec                     string
}

// newDesired is process name running binary with args and the environment
// processEnv gives it; extra is anything else whose change must restart it
// (the spec hash covers args, env and extra).
func newDesired(name, binary, minor, log string, args []string, extra ...string) desired {
	env := processEnv(name)
	return desired{name: name, binary: binary, minor: minor, log: log, args: args, env: env,
		spec: specHash(binary, slices.Concat(args, env, extra))}
}

// observed is what one call sees of the processes before acting.
type observed struct {
	recs  map[string]procRecord
	live  map[string]bool
	ready map[int]bool // apiserver replica → answers /readyz
}

// EnsureControlPlane starts what is missing, adopts what runs, restarts what
// died and rolls an upgrade forward one step, then reports what it sees. It
// never waits for a process to become ready.
func (p *Provider) EnsureControlPlane(ctx context.Context, c provider.ClusterRef, spec provider.ControlPlaneSpec) (provider.ControlPlaneStatus, error) {
	defer p.lock(c)()
	log := p.o.Log.WithValues("cluster", c.String())
	dir, err := p.clusterDir(c)
	if err != nil {
		return provider.ControlPlaneStatus{}, err
	}
	replicas := max(int(spec.Replicas), 1)
	if msg := p.missingBinaries(spec.Minor); msg != "" {
		st, _ := loadState(dir)
		status := provider.ControlPlaneStatus{Replicas: int32(replicas), Reason: ReasonBinariesMissing, Message: msg, Terminal: true}
		if len(st.Ports.APIServers) > 0 {
			status.Endpoint = endpoint(st.Ports.APIServers[0])
		}
		return status, nil
	}
	r, admin, err := p.prepare(ctx, dir, c, spec.Minor, replicas, spec.PKI)
	if err != nil {
		return provider.ControlPlaneStatus{}, fmt.Errorf("control plane of %s: %w", c, err)
	}
	r.log = log
	if err := r.rebootstrapEtcd(ctx); err != nil {
		_ = saveState(dir, *r.st)
		return provider.ControlPlaneStatus{}, fmt.Errorf("control plane of %s: %w", c, err)
	}
	if err := r.run(); err != nil {
		_ = saveState(dir, *r.st)
		return provider.ControlPlaneStatus{}, fmt.Errorf("control plane of %s: %w", c, err)
	}
	status := r.status(ctx, admin)
	p.watchReadiness(c, dir, admin, r.st.Ports.APIServers, r.starting())
	if err := saveState(dir, *r.st); err != nil {
		return status, fmt.Errorf("control plane of %s: %w", c, err)
	}
	return status, nil
}

// prepare loads the state, looks at the processes, settles the ports,
// writes certificates and kubeconfigs, and probes the live apiservers: all
// a round needs to decide.
func (p *Provider) prepare(ctx context.Context, dir string, c provider.ClusterRef, target string, replicas int, pkiData provider.PKI) (*round, *rest.Config, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	st, err := p.loadOwnState(dir, c)
	if err != nil {
		return nil, nil, err
	}
	f := files{dir: dir}
	obs, err := observe(dir)
	if err != nil {
		return nil, nil, err
	}
	if _, err := ensurePorts(&st.Ports, replicas, portsInUse(st.Ports, obs)); err != nil {
		return nil, nil, err
	}
	server := endpoint(st.Ports.APIServers[0])
	if err := ensureCerts(f, pkiData, server); err != nil {
		return nil, nil, err
	}
	if st.Minor == "" {
		st.Minor = target
	}
	if err := markEtcdUnformed(&st, f, obs.live[procEtcd]); err != nil {
		return nil, nil, err
	}
	if err := saveState(dir, st); err != nil {
		return nil, nil, err
	}
	admin, err := adminConfig(f, st.Ports.APIServers[0])
	if err != nil {
		return nil, nil, err
	}
	obs.ready = probeReady(ctx, admin, st.Ports.APIServers, obs, f, p.awaited(dir))
	r := &round{p: p, dir: dir, f: f, st: &st, obs: obs, target: target, from: st.Minor, replicas: replicas, server: server}
	return r, admin, nil
}

// loadOwnState reads the cluster's state; a directory left by an earlier
// cluster of the same name (another UID) is wiped first.
func (p *Provider) loadOwnState(dir string, c provider.ClusterRef) (state, error) {
	st, err := loadState(dir)
	if err != nil {
		return st, err
	}
	if st.UID != "" && c.UID != "" && st.UID != c.UID {
		p.o.Log.Info("Removing the state of an earlier cluster of the same name", "cluster", c.String(), "oldUID", st.UID)
		if err := stopCluster(dir, replaceGrace); err != nil {
			return st, err
		}
		if err := os.RemoveAll(dir); err != nil {
			return st, fmt.Errorf("removing stale state: %w", err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return st, err
		}
		st = state{}
	}
	if c.UID != "" {
		st.UID = c.UID
	}
	return st, nil
}

func observe(dir string) (observed, error) {
	recs, err := readRecords(dir)
	if err != nil {
		return observed{}, err
	}
	live := map[string]bool{}
	for name, r := range recs {
		live[name] = alive(r)
	}
	return observed{recs: recs, live: live}, nil
}

// portsInUse are the ports held by our own live etcd and apiservers, which
// ensurePorts must keep although they are not free.
func portsInUse(ports Ports, obs observed) map[int]bool {
	in := map[int]bool{}
	if obs.live[procEtcd] {
		in[ports.EtcdClient], in[ports.EtcdPeer] = true, true
	}
	for i, port := range ports.APIServers {
		if obs.live[apiserverProc(i)] {
			in[port] = true
		}
	}
	return in
}

// probeReady asks every live apiserver replica for /readyz (readyzPath),
// in parallel, but for those a readiness watch awaits in the same process
// (not ready until the watch says so).
func probeReady(ctx context.Context, admin *rest.Config, ports []int, obs observed, f files, awaited map[int]procRecord) map[int]bool {
	ready := map[int]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, port := range ports {
		name := apiserverProc(i)
		if !obs.live[name] {
			continue
		}
		if w, ok := awaited[i]; ok && w.PID == obs.recs[name].PID && w.StartTime == obs.recs[name].StartTime {
			continue
		}
		path := readyzPath(f, obs.recs[name].Binary)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := get(ctx, admin, port, path); err == nil {
				mu.Lock()
				ready[i] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ready
}

// get fetches path from the replica on port with the admin credentials. A
// probe is one attempt bounded by probeTimeout: the next round asks again.
func get(ctx context.Context, admin *rest.Config, port int, path string) ([]byte, error) {
	cfg := rest.CopyConfig(admin)
	cfg.Host = endpoint(port)
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", cfg.Host, err)
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	path, query, _ := strings.Cut(path, "?")
	req := dc.RESTClient().Get().AbsPath(path).MaxRetries(0)
	params, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("query of %s: %w", path, err)
	}
	for k, vs := range params {
		for _, v := range vs {
			req.Param(k, v)
		}
	}
	return req.DoRaw(ctx)
}

// round is one EnsureControlPlane pass: it decides from what was observed
// and acts, remembering what it started and what is still outdated.
type round struct {
	p        *Provider
	dir      string
	f        files
	st       *state
	obs      observed
	target   string
	from     string // the minor the control plane ran when the round began
	replicas int
	server   string
	log      klog.Logger

	started  []string // processes started in this round
	outdated bool     // something still runs an old spec
	waiting  bool     // a dead process waits for its restart backoff
	deaths   []string
}

func (r *round) run() error {
	b := r.p.binariesFor(r.target)
	if err := r.ensure(newDesired(procEtcd, b.etcd, "", r.f.log(procEtcd), etcdArgs(r.f, r.st.Ports)), true); err != nil {
		return err
	}
	if r.st.EtcdUnformed && slices.Contains(r.started, procEtcd) {
		r.seedNewEtcd(r.target)
	}
	if err := r.ensureAPIServers(b); err != nil {
		return err
	}
	if err := r.removeExtraAPIServers(); err != nil {
		return err
	}
	// kcm, then the scheduler, move to the new minor only once every
	// apiserver runs it and is ready: the usual upgrade order.
	apisDone := !r.outdated && len(r.obs.ready) == r.replicas
	kcmMinor := r.st.Minor
	if apisDone {
		kcmMinor = r.target
	}
	// The controller manager and the scheduler start once the apiserver
	// they talk to answers /readyz: started with it, they only compete for
	// the CPU its start-up needs, and their informers add to its load.
	// One that runs already is kept.
	canStart := !lateControllers || r.apiserverReady(0)
	kcm := r.p.binariesFor(r.p.runnable(kcmMinor, r.target))
	if r.obs.live[procKCM] || canStart {
		if err := r.ensure(newDesired(procKCM, kcm.kcm, kcm.minor(), r.f.log(procKCM), kcmArgs(r.f), r.server), apisDone); err != nil {
			return err
		}
	}
	schedMinor := r.st.Minor
	if apisDone && r.obs.recs[procKCM].Minor == r.target && r.obs.live[procKCM] {
		schedMinor = r.target
	}
	sched := r.p.binariesFor(r.p.runnable(schedMinor, r.target))
	if r.obs.live[procScheduler] || canStart {
		if err := r.ensure(newDesired(procScheduler, sched.scheduler, sched.minor(), r.f.log(procScheduler), schedulerArgs(r.f), r.server), schedMinor == r.target); err != nil {
			return err
		}
	}
	if err := r.ensure(newDesired(procKwok, b.kwok, "", r.f.log(procKwok), kwokArgs(r.f, b.stages), r.server), true); err != nil {
		return err
	}
	if !r.outdated && r.obs.recs[procScheduler].Minor == r.target && r.obs.recs[procKCM].Minor == r.target {
		r.st.Minor = r.target
	}
	if len(r.deaths) > 0 {
		r.st.Restarting = strings.Join(r.deaths, "; ") + "; restarting"
	}
	return nil
}

// lateControllers delays the first start of the controller manager and the
// scheduler until apiserver replica 0 is ready (a variable so that
// BenchmarkControlPlaneStart can compare both orders).
var lateControllers = true

// apiserverReady says whether replica i answered /readyz before this round
// and was not replaced in it.
func (r *round) apiserverReady(i int) bool {
	return r.obs.ready[i] && !slices.Contains(r.started, apiserverProc(i))
}

// minor is the minor of a binaries set (the name of its directory).
func (b binaries) minor() string { return b.minorDir[strings.LastIndexByte(b.minorDir, '/')+1:] }

// runnable is minor if its binaries are there, else target (an old minor's
// binaries may have been removed; the new ones are known to exist).
func (p *Provider) runnable(minor, target string) string {
	if minor == "" || p.missingBinaries(minor) != "" {
		return target
	}
	return minor
}

// ensureAPIServers starts missing replicas at the target and replaces at
// most one outdated live replica per round, only while every other replica
// is up to date and ready, so the API never loses more than one replica.
func (r *round) ensureAPIServers(b binaries) error {
	frontProxy := r.f.hasFrontProxy()
	var outdated []int
	for i := 0; i < r.replicas; i++ {
		name := apiserverProc(i)
		d := newDesired(name, b.apiserver, r.target, r.f.log(name), apiserverArgs(r.f, r.st.Ports, i, frontProxy))
		if r.obs.live[name] && r.obs.recs[name].Spec != d.spec {
			outdated = append(outdated, i)
			continue
		}
		if err := r.ensure(d, false); err != nil {
			return err
		}
	}
	if len(outdated) == 0 {
		return nil
	}
	r.outdated = true
	i := outdated[0]
	for j := 0; j < r.replicas; j++ {
		if j != i && (!r.obs.ready[j] || slices.Contains(r.started, apiserverProc(j))) {
			// Another replica does not serve (yet): replacing this one
			// would leave too few; wait.
			return nil
		}
	}
	name := apiserverProc(i)
	d := newDesired(name, b.apiserver, r.target, r.f.log(name), apiserverArgs(r.f, r.st.Ports, i, frontProxy))
	return r.ensure(d, true)
}

// removeExtraAPIServers stops replicas beyond the desired count, highest
// first, after a scale-down.
func (r *round) removeExtraAPIServers() error {
	for name, rec := range r.obs.recs {
		if !strings.HasPrefix(name, "kube-apiserver-") {
			continue
		}
		i, err := strconv.Atoi(strings.TrimPrefix(name, "kube-apiserver-"))
		if err != nil || i < r.replicas {
			continue
		}
		if rec.StopRequested.IsZero() {
			r.log.Info("Stopping an extra kube-apiserver replica", "replica", i)
		}
		gone, err := r.retire(rec)
		if err != nil {
			return err
		}
		if !gone {
			r.waiting = true
		}
	}
	return nil
}

// ensure makes one process run d: a live process with the same spec is
// kept (adopted); a dead one is restarted, noting how it ended; a live one
// with another spec is replaced when replace is true and otherwise marked
// outdated.
func (r *round) ensure(d desired, replace bool) error {
	rec, had := r.obs.recs[d.name]
	live := r.obs.live[d.name]
	switch {
	case live && rec.Spec == d.spec:
		return nil
	case live && !replace:
		r.outdated = true
		return nil
	case live:
		if rec.StopRequested.IsZero() {
			r.log.Info("Replacing a process", "process", d.name, "fromMinor", rec.Minor, "toMinor", d.minor)
		}
		gone, err := r.retire(rec)
		if err != nil {
			return err
		}
		if !gone {
			r.outdated = true
			return nil
		}
	case had && !rec.StopRequested.IsZero():
		// Stopped on purpose in an earlier round: start the replacement.
		r.p.exits.take(rec.PID)
	case had:
		if time.Since(rec.StartedAt) < restartBackoff {
			r.waiting = true
			return nil
		}
		r.deaths = append(r.deaths, r.p.describeExit(rec))
		r.log.Info("Restarting a process that exited", "process", d.name, "pid", rec.PID)
	}
	if err := r.killStrays(); err != nil {
		return err
	}
	nrec, priorityErr, err := startDetached(d.name, d.binary, d.args, r.p.startEnv(d.env), d.log, d.minor, r.p.o.Nice, r.p.exits)
	if err != nil {
		return err
	}
	if priorityErr != nil {
		r.log.Error(priorityErr, "A tenant process runs at a higher CPU priority than configured", "process", d.name, "nice", r.p.o.Nice)
	}
	nrec.Spec = d.spec
	if err := writeRecord(r.dir, nrec); err != nil {
		return fmt.Errorf("writing the pid file of %s: %w", d.name, err)
	}
	r.log.Info("Started a process", "process", d.name, "pid", nrec.PID, "minor", d.minor, "log", d.log)
	r.obs.recs[d.name] = nrec
	r.obs.live[d.name] = true
	r.started = append(r.started, d.name)
	return nil
}

// retire ends a process without blocking the round: SIGTERM the first
// time, SIGKILL once replaceGrace has passed since. It reports whether the
// process is gone, and then removes its pid file.
func (r *round) retire(rec procRecord) (bool, error) {
	gone := func() (bool, error) {
		r.p.exits.take(rec.PID)
		delete(r.obs.recs, rec.Name)
		r.obs.live[rec.Name] = false
		return true, removeRecord(r.dir, rec.Name)
	}
	if !r.obs.live[rec.Name] {
		return gone()
	}
	sig := syscall.SIGTERM
	switch {
	case rec.StopRequested.IsZero():
		rec.StopRequested = time.Now()
		if err := writeRecord(r.dir, rec); err != nil {
			return false, fmt.Errorf("writing the pid file of %s: %w", rec.Name, err)
		}
		r.obs.recs[rec.Name] = rec
	case time.Since(rec.StopRequested) > replaceGrace:
		sig = syscall.SIGKILL
	default:
		return false, nil
	}
	if err := rec.Signal(sig); err != nil {
		return false, err
	}
	// Most processes end within a moment: look once more, so that the
	// replacement starts in this same round.
	if process.WaitExited(retireWait, rec) {
		return gone()
	}
	return false, nil
}

// killStrays stops processes of this cluster that no pid file names (a
// controller died between starting them and writing their pid file); they
// would hold the ports and etcd's data directory.
func (r *round) killStrays() error {
	known := map[int]bool{}
	for _, rec := range r.obs.recs {
		known[rec.PID] = true
	}
	s := strays(r.dir, known)
	if len(s) == 0 {
		return nil
	}
	r.log.Info("Stopping processes of this cluster without a pid file", "count", len(s))
	return stopProcesses(s, replaceGrace)
}

// describeExit says which process ended, when and how.
func (p *Provider) describeExit(rec procRecord) string {
	what := displayName(rec.Name)
	if x, ok := p.exits.take(rec.PID); ok {
		return fmt.Sprintf("%s exited at %s (%s)", what, x.at.Format("15:04:05"), x.status)
	}
	return fmt.Sprintf("%s exited before %s (started by an earlier controller, exit status unknown)", what, time.Now().Format("15:04:05"))
}

// displayName turns kube-apiserver-0 into "kube-apiserver replica 0".
func displayName(proc string) string {
	if i := strings.TrimPrefix(proc, "kube-apiserver-"); i != proc {
		return "kube-apiserver replica " + i
	}
	return proc
}

// starting are the live kube-apiserver replicas that did not answer /readyz
// before this round (or were started in it), by replica.
func (r *round) starting() map[int]procRecord {
	out := map[int]procRecord{}
	for i := 0; i < r.replicas; i++ {
		name := apiserverProc(i)
		if r.obs.live[name] && (!r.obs.ready[i] || slices.Contains(r.started, name)) {
			out[i] = r.obs.recs[name]
		}
	}
	return out
}

// status reports the observed state after the round's actions.
func (r *round) status(ctx context.Context, admin *rest.Config) provider.ControlPlaneStatus {
	s := provider.ControlPlaneStatus{Endpoint: r.server, Replicas: int32(r.replicas)}
	for i := 0; i < r.replicas; i++ {
		if r.obs.ready[i] && !slices.Contains(r.started, apiserverProc(i)) {
			s.ReadyReplicas++
		}
	}
	if r.obs.ready[0] && !slices.Contains(r.started, apiserverProc(0)) {
		if body, err := get(ctx, admin, r.st.Ports.APIServers[0], "/version"); err == nil {
			var v version.Info
			if json.Unmarshal(body, &v) == nil {
				s.Version = v.GitVersion
			}
		}
	}
	// etcd serves once an apiserver is ready; the controllers count as
	// soon as they run, since nothing waits for them to be ready (a started
	// one that dies is seen in the next round).
	var notRunning []string
	for _, name := range []string{procEtcd, procKCM, procScheduler, procKwok} {
		if !r.obs.live[name] || (name == procEtcd && slices.Contains(r.started, name)) {
			notRunning = append(notRunning, name)
		}
	}
	s.Ready = int(s.ReadyReplicas) == r.replicas && len(notRunning) == 0 && !r.outdated && !r.waiting &&
		r.st.Minor == r.target
	switch {
	case s.Ready:
		r.st.Restarting = ""
	case r.st.Restarting != "":
		s.Reason, s.Message = ReasonRestarting, r.st.Restarting
	case r.outdated || r.from != r.target:
		s.Reason = ReasonUpgrading
		s.Message = fmt.Sprintf("upgrading from %s to %s: %d of %d kube-apiserver replicas ready", r.from, r.target, s.ReadyReplicas, r.replicas)
	default:
		s.Reason = ReasonStarting
		s.Message = fmt.Sprintf("%d of %d kube-apiserver replicas ready", s.ReadyReplicas, r.replicas)
		if len(notRunning) > 0 {
			s.Message += "; starting " + strings.Join(notRunning, ", ")
		}
	}
	return s
}
