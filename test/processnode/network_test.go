package processnode

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hikube/hikube/hack/processnode/agent"
	"github.com/hikube/hikube/test/harness"
)

// TestNetworkLeftoversRemoved: what an agent killed before it could clean
// up leaves (a bridge, pod namespaces with their veths, a LoadBalancer
// address, a process recorded in a pod's state.json) is removed by
// `hikube-process-node cleanup`, which the platform runs after stopping it,
// together with what any other dead agent of the machine left; pod
// addresses are kept for the pods' return.
func TestNetworkLeftoversRemoved(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root (network namespaces)")
	}
	home := t.TempDir()
	n, err := agent.OpenNetwork(home)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Setup(); err != nil {
		t.Fatal(err)
	}
	defer n.Cleanup()
	a, err := n.CreatePod("uid-a", "ns", "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.CreatePod("uid-b", "ns", "b")
	if err != nil {
		t.Fatal(err)
	}
	if a.IP == b.IP || !strings.HasPrefix(a.IP, strings.TrimSuffix(n.Subnet, "0.0/16")) {
		t.Fatalf("addresses %s and %s in %s", a.IP, b.IP, n.Subnet)
	}
	if err := n.AddLBAddress(n.LBIP(1)); err != nil {
		t.Fatal(err)
	}
	// Pod a reaches pod b over the bridge and the LoadBalancer address; the
	// host reaches pod b.
	var ln net.Listener
	inNetns(t, b.NetnsPath(), func() { ln, err = net.Listen("tcp", net.JoinHostPort(b.IP, "7000")) })
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	lbLn, err := net.Listen("tcp", net.JoinHostPort(n.LBIP(1), "7001"))
	if err != nil {
		t.Fatal(err)
	}
	defer lbLn.Close()
	go func() {
		for {
			c, err := lbLn.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	for _, target := range []string{net.JoinHostPort(b.IP, "7000"), net.JoinHostPort(n.LBIP(1), "7001")} {
		var dialErr error
		inNetns(t, a.NetnsPath(), func() {
			var c net.Conn
			if c, dialErr = net.DialTimeout("tcp", target, 2*time.Second); dialErr == nil {
				_ = c.Close()
			}
		})
		if dialErr != nil {
			t.Fatalf("pod a to %s: %v", target, dialErr)
		}
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(b.IP, "7000"), 2*time.Second); err != nil {
		t.Fatalf("host to pod b: %v", err)
	} else {
		_ = c.Close()
	}

	// A process left in pod a's namespace, recorded as the agent records it.
	sleeper := exec.Command("ip", "netns", "exec", a.Namespace, "sleep", "300")
	sleeper.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleeper.Process.Kill()
	go sleeper.Wait()
	dir := filepath.Join(home, "pods", "uid-a")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	stat, err := os.ReadFile("/proc/" + itoa(sleeper.Process.Pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Fields(string(stat)[strings.LastIndexByte(string(stat), ')')+1:])[19]
	record := `{"namespace":"ns","name":"a","pids":{"c":{"pid":` + itoa(sleeper.Process.Pid) + `,"startTime":"` + start + `"}}}`
	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(record), 0o600); err != nil {
		t.Fatal(err)
	}

	// Another agent's network, registered by an agent that died without
	// cleaning up (its home is gone, as a crashed test's temporary one).
	otherHome := t.TempDir()
	other, err := agent.OpenNetwork(otherHome)
	if err != nil {
		t.Fatal(err)
	}
	if other.Prefix == n.Prefix {
		t.Fatalf("two homes share the prefix %s", n.Prefix)
	}
	if err := other.Setup(); err != nil {
		t.Fatal(err)
	}
	defer other.Cleanup()
	if _, err := other.CreatePod("uid-c", "ns", "c"); err != nil {
		t.Fatal(err)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	reg := filepath.Join("/run/hikube-process-node", other.Prefix+".json")
	if err := os.MkdirAll(filepath.Dir(reg), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(reg, []byte(`{"home":"`+filepath.Join(otherHome, "gone")+`","pid":`+itoa(dead.Process.Pid)+`,"startTime":"1"}`), 0o600); err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(filepath.Join("..", "..", "_output", "bin", "hikube-process-node"), "cleanup", home).CombinedOutput()
	if err != nil {
		t.Fatalf("cleanup: %v: %s", err, out)
	}
	for _, prefix := range []string{n.Prefix, other.Prefix} {
		if ns, links := netnsWith(t, prefix), linksWith(t, prefix); len(ns) != 0 || len(links) != 0 {
			t.Fatalf("left behind: namespaces %v, links %v", ns, links)
		}
	}
	if _, err := os.Stat(reg); !os.IsNotExist(err) {
		t.Fatalf("the dead agent's registration is still there: %v", err)
	}
	harness.Eventually(t, timeout, "the recorded process killed", func() bool { return !processAlive(sleeper.Process.Pid) })
	// Pod addresses survive, for the pods' return.
	again, err := agent.OpenNetwork(home)
	if err != nil {
		t.Fatal(err)
	}
	if ip, _, err := again.PodIP("uid-a"); err != nil || ip != a.IP {
		t.Fatalf("pod a's address after cleanup: %s, %v; want %s", ip, err, a.IP)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// inNetns runs f on an OS thread in the network namespace at path; the
// thread is thrown away afterwards (its goroutine ends locked to it).
func inNetns(t *testing.T, path string, f func()) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := os.Open(path)
		if err != nil {
			errc <- err
			return
		}
		defer fd.Close()
		if err := unix.Setns(int(fd.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		f()
		errc <- nil
	}()
	if err := <-errc; err != nil {
		t.Fatalf("entering %s: %v", path, err)
	}
}
