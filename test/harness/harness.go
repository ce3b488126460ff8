// Package harness runs one local platform for a test package (the same one
// `make run` starts, in a temporary directory on free ports) and drives it
// with the real kubectl and the generated clientset.
package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
	"github.com/hikube/hikube/pkg/localplatform"
)

// Env is a running platform and the tools to drive it.
type Env struct {
	Platform *localplatform.Platform
	// Root is the repository root; kubectl runs there, so relative paths
	// such as artifacts/examples/ work.
	Root string
	// KubectlPath is _output/bin/kubectl, version-matched with kube-apiserver.
	KubectlPath string
	// StartTimeout bounds the platform's start; zero is 3 minutes. A
	// package whose platform does more before it is ready (installs a
	// chart) sets more.
	StartTimeout time.Duration
}

// Main starts the platform with opts (Home and BinDir are filled in), runs
// the package's tests and stops it; use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(harness.Main(m, &env, opts)) }
func Main(m *testing.M, env *Env, opts localplatform.Options) int {
	_, file, _, _ := runtime.Caller(0)
	env.Root = filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(env.Root, "_output", "bin")
	env.KubectlPath = filepath.Join(bin, "kubectl")
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubectl", "hikube-apiserver", "hikube-controller"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			fmt.Fprintf(os.Stderr, "harness: %s missing; run `make tools build` (or `make test`) first\n", b)
			return 1
		}
	}
	home, err := os.MkdirTemp("", "hikube-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	timeout := env.StartTimeout
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	opts.Home, opts.BinDir, opts.Log = home, bin, os.Stderr
	p, err := localplatform.Start(ctx, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "harness: starting the local platform: %v\n(logs in %s)\n", err, filepath.Join(home, "logs"))
		return 1
	}
	env.Platform = p
	code := m.Run()
	if err := p.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "harness: stopping the platform: %v\n", err)
	}
	// Whatever the tests did, no log of the platform may hold key material.
	findings, err := ScanLogs(home)
	if err != nil {
		fmt.Fprintf(os.Stderr, "harness: %v\n", err)
		code = 1
	}
	for _, f := range findings {
		fmt.Fprintf(os.Stderr, "harness: secret in a log: %s\n", f)
		code = 1
	}
	if code == 0 {
		os.RemoveAll(home)
	} else {
		fmt.Fprintf(os.Stderr, "harness: state and logs kept in %s\n", home)
	}
	return code
}

// Result is what a kubectl run printed.
type Result struct {
	Stdout, Stderr string
	Err            error
}

// Kubectl runs the real kubectl as user ("admin", "alice", "bob" or a
// kubeconfig path) and returns what it printed.
func (e *Env) Kubectl(t *testing.T, user string, args ...string) Result {
	t.Helper()
	return e.KubectlIn(t, user, nil, args...)
}

// KubectlIn is Kubectl with stdin.
func (e *Env) KubectlIn(t *testing.T, user string, stdin []byte, args ...string) Result {
	t.Helper()
	kc := user
	if !strings.Contains(user, string(os.PathSeparator)) {
		kc = e.Platform.KubeconfigPath(user)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.KubectlPath, append([]string{"--kubeconfig", kc}, args...)...)
	cmd.Dir = e.Root
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	return Result{Stdout: out.String(), Stderr: errOut.String(), Err: err}
}

// MustKubectl runs kubectl and fails the test when it fails.
func (e *Env) MustKubectl(t *testing.T, user string, args ...string) string {
	t.Helper()
	r := e.Kubectl(t, user, args...)
	if r.Err != nil {
		t.Fatalf("kubectl %s as %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), user, r.Err, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// RESTConfig returns the client configuration of a platform user.
func (e *Env) RESTConfig(t *testing.T, user string) *rest.Config {
	t.Helper()
	cfg, err := e.Platform.RESTConfig(user)
	if err != nil {
		t.Fatalf("client config of %s: %v", user, err)
	}
	return cfg
}

// Hikube returns the generated clientset for a platform user.
func (e *Env) Hikube(t *testing.T, user string) clientset.Interface {
	t.Helper()
	cs, err := clientset.NewForConfig(e.RESTConfig(t, user))
	if err != nil {
		t.Fatalf("clientset for %s: %v", user, err)
	}
	return cs
}

// Eventually polls cond every 200ms until it holds or the timeout passes.
func Eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Consistently checks cond every 200ms for the whole duration: for "this
// must not happen" properties, such as a group growing past its maximum.
func Consistently(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !cond() {
			t.Fatalf("%s stopped holding", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// HostClients are the admin's clients of the host cluster.
type HostClients struct {
	Core    kubernetes.Interface
	Dynamic dynamic.Interface
}

// Host returns the admin's clients of the host cluster. Each request is
// bounded, so that a test polling across a fault of the host's API is not
// stuck on a connection that died with it.
func (e *Env) Host(t *testing.T) HostClients {
	t.Helper()
	cfg := e.RESTConfig(t, "admin")
	cfg.Timeout = 30 * time.Second
	return HostClients{Core: kubernetes.NewForConfigOrDie(cfg), Dynamic: dynamic.NewForConfigOrDie(cfg)}
}
