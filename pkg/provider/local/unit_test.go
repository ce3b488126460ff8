package local

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/hikube/hikube/pkg/portalloc"
	"github.com/hikube/hikube/pkg/provider"
)

func TestSameProcessRefusesRecycledPIDsZombiesAndOtherBinaries(t *testing.T) {
	rec := procRecord{PID: 10, StartTime: 500, Binary: "/bin/kube-apiserver"}
	for _, tc := range []struct {
		name string
		info procInfo
		ok   bool
		want bool
	}{
		{"same", procInfo{startTime: 500, exe: "/bin/kube-apiserver"}, true, true},
		{"exe unreadable", procInfo{startTime: 500}, true, true},
		{"gone", procInfo{}, false, false},
		{"recycled pid", procInfo{startTime: 501, exe: "/bin/kube-apiserver"}, true, false},
		{"other binary", procInfo{startTime: 500, exe: "/bin/sh"}, true, false},
		{"zombie", procInfo{startTime: 500, exe: "/bin/kube-apiserver", zombie: true}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sameProcess(rec, tc.info, tc.ok); got != tc.want {
				t.Fatalf("sameProcess = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAliveAdoptsOnlyTheRecordedProcess(t *testing.T) {
	self, ok := readProc(os.Getpid())
	if !ok {
		t.Fatal("cannot read our own /proc entry")
	}
	rec := procRecord{PID: os.Getpid(), StartTime: self.startTime, Binary: self.exe}
	if !alive(rec) {
		t.Fatal("our own process is not alive by its record")
	}
	rec.StartTime++
	if alive(rec) {
		t.Fatal("a record with another start time was adopted")
	}
}

func TestEnsurePortsKeepsPersistedPortsAndReplacesTakenOnes(t *testing.T) {
	// Symbolic ports 1001..1004 stand for real loopback ports that were free
	// when the test began; "occupied" ones are bound for the case, as a live
	// process would hold them.
	real := map[int]int{}
	a := portalloc.New()
	for sym := 1001; sym <= 1004; sym++ {
		port, err := a.Pick()
		if err != nil {
			t.Fatal(err)
		}
		real[sym] = port
	}
	a.Release()
	r := func(sym int) int { return real[sym] }
	for _, tc := range []struct {
		name        string
		in          Ports
		replicas    int
		inUse       []int // our own live processes serve on these
		occupied    []int // bound now, by ours or by someone else
		wantKept    []int // ports that must survive
		wantChanged bool
	}{
		{"fresh", Ports{}, 2, nil, nil, nil, true},
		{"persisted and free", Ports{EtcdClient: 1001, EtcdPeer: 1002, APIServers: []int{1003}}, 1, nil, nil, []int{1001, 1002, 1003}, false},
		{"taken by our own live process", Ports{EtcdClient: 1001, EtcdPeer: 1002, APIServers: []int{1003}}, 1, []int{1001, 1002, 1003}, []int{1001, 1002, 1003}, []int{1001, 1002, 1003}, false},
		{"taken by someone else", Ports{EtcdClient: 1001, EtcdPeer: 1002, APIServers: []int{1003}}, 1, []int{1001, 1002}, []int{1001, 1002, 1003}, []int{1001, 1002}, true},
		{"duplicate", Ports{EtcdClient: 1001, EtcdPeer: 1001, APIServers: []int{1003}}, 1, nil, nil, []int{1001, 1003}, true},
		{"scale up", Ports{EtcdClient: 1001, EtcdPeer: 1002, APIServers: []int{1003}}, 3, nil, nil, []int{1001, 1002, 1003}, true},
		{"scale down", Ports{EtcdClient: 1001, EtcdPeer: 1002, APIServers: []int{1003, 1004}}, 1, nil, nil, []int{1001, 1002, 1003}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.in
			if p.EtcdClient != 0 {
				p.EtcdClient, p.EtcdPeer = r(p.EtcdClient), r(p.EtcdPeer)
			}
			p.APIServers = nil
			for _, sym := range tc.in.APIServers {
				p.APIServers = append(p.APIServers, r(sym))
			}
			inUse := map[int]bool{}
			for _, sym := range tc.inUse {
				inUse[r(sym)] = true
			}
			for _, sym := range tc.occupied {
				l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(r(sym))))
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
			}
			changed, err := ensurePorts(&p, tc.replicas, inUse)
			if err != nil {
				t.Fatal(err)
			}
			if changed != tc.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tc.wantChanged)
			}
			all := append([]int{p.EtcdClient, p.EtcdPeer}, p.APIServers...)
			if len(p.APIServers) != tc.replicas {
				t.Errorf("%d apiserver ports, want %d", len(p.APIServers), tc.replicas)
			}
			seen := map[int]bool{}
			for _, port := range all {
				if port <= 0 || seen[port] {
					t.Errorf("ports %v: zero or duplicate", all)
				}
				seen[port] = true
			}
			for _, k := range tc.wantKept {
				if !seen[r(k)] {
					t.Errorf("port %d was not kept: %v", r(k), all)
				}
			}
		})
	}
}

func TestStateRoundTripsThroughTheStateFile(t *testing.T) {
	dir := t.TempDir()
	want := state{UID: "u1", Ports: Ports{EtcdClient: 1, EtcdPeer: 2, APIServers: []int{3, 4}}, Minor: "v1.36", Restarting: "x"}
	if err := saveState(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.UID != want.UID || got.Minor != want.Minor || !slices.Equal(got.Ports.APIServers, want.Ports.APIServers) || got.Restarting != "x" {
		t.Fatalf("got %+v", got)
	}
}

func TestAPIServerArgsServeLoopbackOnTheReplicasPortAgainstTheOneEtcd(t *testing.T) {
	f := files{dir: "/state/ns/c"}
	ports := Ports{EtcdClient: 2379, EtcdPeer: 2380, APIServers: []int{6443, 6444}}
	args := apiserverArgs(f, ports, 1, true)
	for _, want := range []string{
		"--secure-port=6444", "--etcd-servers=http://127.0.0.1:2379", "--bind-address=127.0.0.1",
		"--endpoint-reconciler-type=none", "--authorization-mode=Node,RBAC", "--service-cluster-ip-range=10.96.0.0/16",
		"--client-ca-file=/state/ns/c/pki/ca.crt", "--requestheader-allowed-names=front-proxy-client",
	} {
		if !slices.Contains(args, want) {
			t.Errorf("missing %s in %v", want, args)
		}
	}
	if slices.ContainsFunc(apiserverArgs(f, ports, 0, false), func(a string) bool { return strings.HasPrefix(a, "--requestheader") }) {
		t.Error("front-proxy flags without a front-proxy CA")
	}
	// Every process names its cluster directory, which is how strays are found.
	for name, a := range map[string][]string{"etcd": etcdArgs(f, ports), "kcm": kcmArgs(f), "scheduler": schedulerArgs(f), "kwok": kwokArgs(f, "/bin/stages.yaml")} {
		if !slices.ContainsFunc(a, func(s string) bool { return strings.Contains(s, "/state/ns/c/") }) {
			t.Errorf("%s args do not name the cluster directory: %v", name, a)
		}
	}
}

// The spec hash of a tenant apiserver is in the pid file of every running
// replica; a new controller whose flags hash differently replaces them all.
// A change here must be one that is meant: the last of the apiservers' was
// bootstrap-token authentication, NodeRestriction and the bootstrapsigner
// and tokencleaner controllers, for machines that join with kubeadm; the last
// of etcd's its single-member raft timings (each running tenant etcd restarts
// once, in a fraction of a second, under a new controller).
func TestArgsKeepTheSpecHashOfRunningProcesses(t *testing.T) {
	f := files{dir: "/s/ns/c"}
	ports := Ports{EtcdClient: 2379, EtcdPeer: 2380, APIServers: []int{6443, 6444}}
	for _, tc := range []struct {
		replica    int
		frontProxy bool
		want       string
	}{{1, true, "e329f1146cb62ac5"}, {0, false, "2ead80b8576410d8"}} {
		if got := specHash("/bin/v1.37/kube-apiserver", apiserverArgs(f, ports, tc.replica, tc.frontProxy)); got != tc.want {
			t.Errorf("replica %d (front proxy %v): spec hash %s, want %s", tc.replica, tc.frontProxy, got, tc.want)
		}
	}
	// And the other components' (kcm and the scheduler hash the server they
	// talk to along).
	for _, tc := range []struct {
		name, want string
		d          desired
	}{
		{"etcd", "d636894058746798", newDesired(procEtcd, "/bin/etcd", "", "", etcdArgs(f, ports))},
		{"kcm", "e0ace3d8268f7963", newDesired(procKCM, "/bin/v1.37/kube-controller-manager", "", "", kcmArgs(f), "https://127.0.0.1:6443")},
		{"scheduler", "e2d897c3c365de0f", newDesired(procScheduler, "/bin/v1.37/kube-scheduler", "", "", schedulerArgs(f), "https://127.0.0.1:6443")},
	} {
		if tc.d.spec != tc.want {
			t.Errorf("%s: spec hash %s, want %s", tc.name, tc.d.spec, tc.want)
		}
	}
}

func TestSpecHashChangesWithBinaryOrArguments(t *testing.T) {
	base := specHash("/bin/v1.36/kube-apiserver", []string{"--a=1"})
	if base != specHash("/bin/v1.36/kube-apiserver", []string{"--a=1"}) {
		t.Fatal("hash is not stable")
	}
	if base == specHash("/bin/v1.37/kube-apiserver", []string{"--a=1"}) || base == specHash("/bin/v1.36/kube-apiserver", []string{"--a=2"}) {
		t.Fatal("hash does not change")
	}
}

func TestMissingBinariesNamesTheBuildCommand(t *testing.T) {
	bin := t.TempDir()
	p := &Provider{o: Options{BinDir: bin}}
	msg := p.missingBinaries("v1.33")
	for _, want := range []string{"hack/build-tools.sh v1.33 etcd kwok", filepath.Join(bin, "v1.33", "kube-apiserver")} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if msg := p.missingBinaries("../etc"); !strings.Contains(msg, "not of the form") {
		t.Errorf("bad minor accepted: %q", msg)
	}
	for _, name := range []string{"v1.33/kube-apiserver", "v1.33/kube-controller-manager", "v1.33/kube-scheduler", "etcd", "kwok", "kwok-stages.yaml"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(bin, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bin, name), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if msg := p.missingBinaries("v1.33"); msg != "" {
		t.Errorf("all present, got %q", msg)
	}
}

func TestMergeNodeAppliesSpecAndKeepsSystemTaints(t *testing.T) {
	spec := provider.NodeSpec{
		Name: "gpu-0", Group: "gpu", Zone: "geneva", Labels: map[string]string{"node.kubernetes.io/instance-type": "g1"},
		Taints:   []corev1.Taint{{Key: "nvidia.com/gpu", Value: "present", Effect: corev1.TaintEffectNoSchedule}},
		Capacity: corev1.ResourceList{"nvidia.com/AD102GL_L40S": resource.MustParse("1")},
	}
	want := desiredNode(spec)
	cur := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "gpu-0", Labels: map[string]string{"other": "x"}},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{
			{Key: "node.kubernetes.io/not-ready", Effect: corev1.TaintEffectNoSchedule},
			{Key: "stale", Effect: corev1.TaintEffectNoSchedule},
		}},
	}
	merged, changed := mergeNode(cur, want)
	if !changed {
		t.Fatal("drift not detected")
	}
	if merged.Labels[provider.LabelNodeGroup] != "gpu" || merged.Labels[labelZone] != "geneva" || merged.Labels["other"] != "x" ||
		merged.Annotations[kwokAnnotation] != kwokAnnotationValue {
		t.Errorf("labels/annotations: %v %v", merged.Labels, merged.Annotations)
	}
	keys := []string{}
	for _, tn := range merged.Spec.Taints {
		keys = append(keys, tn.Key)
	}
	if !slices.Equal(keys, []string{"nvidia.com/gpu", "node.kubernetes.io/not-ready"}) {
		t.Errorf("taints %v", keys)
	}
	if _, changed := mergeNode(merged, want); changed {
		t.Error("merging twice changes again")
	}
	if !apiequality.Semantic.DeepEqual(want.Status.Allocatable, spec.Capacity) {
		t.Error("allocatable is not the capacity")
	}
}

func TestDisplayNameNamesReplicas(t *testing.T) {
	if got := displayName(apiserverProc(0)); got != "kube-apiserver replica 0" {
		t.Fatal(got)
	}
	if got := displayName(procKCM); got != procKCM {
		t.Fatal(got)
	}
}

func TestStraysFindsSessionLeadersNamingTheDirectoryOnly(t *testing.T) {
	dir := t.TempDir()
	// sh -c '...' NAME runs with NAME as its $0, so the command line names
	// the directory; the trailing ":" keeps sh from exec'ing sleep.
	leader := exec.Command("sh", "-c", "sleep 60; :", dir+"/x")
	leader.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	follower := exec.Command("sh", "-c", "sleep 60; :", dir+"/y")
	follower.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a group, not a session
	other := exec.Command("sh", "-c", "sleep 60; :")
	other.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	for _, c := range []*exec.Cmd{leader, follower, other} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		// The group takes sleep along with its shell.
		t.Cleanup(func() { _ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL); _ = c.Wait() })
	}
	// Start returns once the exec began; the new command line shows in
	// /proc a moment later (a loaded machine made that visible).
	for _, c := range []*exec.Cmd{leader, follower, other} {
		if !eventually(func() bool { return cmdlineContains(c.Process.Pid, "sleep 60") }) {
			t.Fatalf("pid %d never showed its command line", c.Process.Pid)
		}
	}
	got := strays(dir, nil)
	if len(got) != 1 || got[0].PID != leader.Process.Pid {
		t.Fatalf("strays = %+v, want only pid %d", got, leader.Process.Pid)
	}
	if got := strays(dir, map[int]bool{leader.Process.Pid: true}); len(got) != 0 {
		t.Fatalf("a known pid is a stray: %+v", got)
	}
}

func TestARecordSignalsOnlyTheProcessItNames(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ex := &exits{}
	rec, _, err := startDetached("sleeper", sh, []string{"-c", "sleep 60; :"}, nil, filepath.Join(dir, "logs", "sleeper.log"), "", 0, ex)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-rec.PID, syscall.SIGKILL) })
	if rec.Exited() {
		t.Fatal("the record of a running process says it ended")
	}
	// A record of the same PID but another start time is a recycled PID:
	// signalling through it must not reach the process.
	stale := rec
	stale.StartTime++
	if err := stale.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if rec.Exited() {
		t.Fatal("a stale record killed the process")
	}
	if err := stopProcesses([]procRecord{rec}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if !rec.Exited() {
		t.Fatal("the process runs after stopProcesses")
	}
	// The reaper records how our child ended.
	if !eventually(func() bool {
		ex.mu.Lock()
		defer ex.mu.Unlock()
		_, ok := ex.m[rec.PID]
		return ok
	}) {
		t.Fatal("the end of the child was not recorded")
	}
	if x, _ := ex.take(rec.PID); !strings.Contains(x.status, "terminated") {
		t.Errorf("recorded status %q, want an end by SIGTERM", x.status)
	}
}

// cmdlineContains reports whether the command line of pid contains want.
func cmdlineContains(pid int, want string) bool {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return err == nil && strings.Contains(string(data), want)
}

// eventually polls cond for up to 10 seconds and reports whether it held.
func eventually(cond func() bool) bool {
	return wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil }) == nil
}

// Only a data directory etcd has not made yet marks etcd unformed: a
// cluster whose etcd exists (made by an earlier hikube, or running) never
// is, so never wiped.
func TestOnlyANewEtcdDataDirectoryIsMarkedUnformed(t *testing.T) {
	f := files{dir: t.TempDir()}
	var st state
	if err := markEtcdUnformed(&st, f, true); err != nil || st.EtcdUnformed {
		t.Errorf("a live etcd: unformed %v, err %v", st.EtcdUnformed, err)
	}
	if err := markEtcdUnformed(&st, f, false); err != nil || !st.EtcdUnformed {
		t.Errorf("no data directory: unformed %v, err %v", st.EtcdUnformed, err)
	}
	st = state{}
	if err := os.MkdirAll(filepath.Join(f.etcdData(), "member", "wal"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := markEtcdUnformed(&st, f, false); err != nil || st.EtcdUnformed {
		t.Errorf("an existing data directory: unformed %v, err %v", st.EtcdUnformed, err)
	}
}

// An etcd that formed (or was never marked) keeps its data however long it
// has run without a leader; one with a ready apiserver counts as formed.
func TestAnEtcdThatFormedKeepsItsData(t *testing.T) {
	for name, tc := range map[string]struct {
		unformed bool
		ready    map[int]bool
	}{
		"never marked":          {false, nil},
		"an apiserver is ready": {true, map[int]bool{0: true}},
	} {
		t.Run(name, func(t *testing.T) {
			f := files{dir: t.TempDir()}
			if err := os.MkdirAll(filepath.Join(f.etcdData(), "member", "wal"), 0o700); err != nil {
				t.Fatal(err)
			}
			st := state{EtcdUnformed: tc.unformed}
			rec := procRecord{Name: procEtcd, PID: os.Getpid(), StartedAt: time.Now().Add(-time.Hour)}
			r := &round{p: &Provider{o: Options{EtcdBootstrapTimeout: time.Second}, exits: &exits{}}, dir: f.dir, f: f, st: &st,
				obs: observed{recs: map[string]procRecord{procEtcd: rec}, live: map[string]bool{procEtcd: true}, ready: tc.ready}}
			if err := r.rebootstrapEtcd(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(f.etcdData(), "member", "wal")); err != nil {
				t.Errorf("etcd's data is gone: %v", err)
			}
			if st.EtcdUnformed || len(r.deaths) > 0 || !r.obs.live[procEtcd] {
				t.Errorf("unformed %v, deaths %v, live %v", st.EtcdUnformed, r.deaths, r.obs.live[procEtcd])
			}
		})
	}
}

func TestStartEnvAddsGOGCUnlessSetAndLeavesTheSpecAlone(t *testing.T) {
	p := &Provider{o: Options{GOGC: 50}}
	env := []string{"A=1"}
	if got := p.startEnv(env); !slices.Equal(got, []string{"A=1", "GOGC=50"}) {
		t.Errorf("startEnv = %v", got)
	}
	if !slices.Equal(env, []string{"A=1"}) {
		t.Errorf("startEnv changed its argument: %v", env)
	}
	if got := p.startEnv([]string{"GOGC=20"}); !slices.Equal(got, []string{"GOGC=20"}) {
		t.Errorf("an explicit GOGC was overridden: %v", got)
	}
	if got := (&Provider{}).startEnv(env); !slices.Equal(got, env) {
		t.Errorf("GOGC 0 changed the environment: %v", got)
	}
	// The spec hash of a running process does not change with the setting:
	// it applies as processes start, not by restarting every tenant's.
	d := newDesired(procEtcd, "/bin/etcd", "", "", []string{"--a"})
	if slices.ContainsFunc(d.env, func(kv string) bool { return strings.HasPrefix(kv, "GOGC=") }) {
		t.Errorf("desired env %v holds GOGC", d.env)
	}
	if _, err := New(Options{StateDir: t.TempDir(), BinDir: t.TempDir(), GOGC: -1}); err == nil {
		t.Error("a negative GOGC was accepted")
	}
}
