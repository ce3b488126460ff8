// Package integration tests hikube end to end: the same local platform as
// `make run` (etcd, kube-apiserver, kube-controller-manager, hikube-apiserver
// behind its APIService), driven by the real kubectl and by the generated
// client-go clientset. One platform serves the whole package.
package integration

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

	"k8s.io/client-go/rest"

	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
	"github.com/hikube/hikube/pkg/localplatform"
)

var env struct {
	platform *localplatform.Platform
	root     string // repository root
	kubectl  string // _output/bin/kubectl, version-matched with kube-apiserver
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	_, file, _, _ := runtime.Caller(0)
	env.root = filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(env.root, "_output", "bin")
	env.kubectl = filepath.Join(bin, "kubectl")
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubectl", "hikube-apiserver"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			fmt.Fprintf(os.Stderr, "integration: %s missing; run `make tools build` (or `make test`) first\n", b)
			return 1
		}
	}
	home, err := os.MkdirTemp("", "hikube-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, err := localplatform.Start(ctx, localplatform.Options{Home: home, BinDir: bin, Log: os.Stderr})
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration: starting the local platform: %v\n(logs in %s)\n", err, filepath.Join(home, "logs"))
		return 1
	}
	env.platform = p
	code := m.Run()
	if err := p.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "integration: stopping the platform: %v\n", err)
	}
	if code == 0 {
		os.RemoveAll(home)
	} else {
		fmt.Fprintf(os.Stderr, "integration: state and logs kept in %s\n", home)
	}
	return code
}

// kubectlResult is what a kubectl run printed.
type kubectlResult struct {
	Stdout, Stderr string
	Err            error
}

// kubectlAs runs the real kubectl as user ("admin", "alice", "bob" or a
// kubeconfig path) and returns what it printed.
func kubectlAs(t *testing.T, user string, args ...string) kubectlResult {
	t.Helper()
	return kubectlIn(t, user, nil, args...)
}

func kubectlIn(t *testing.T, user string, stdin []byte, args ...string) kubectlResult {
	t.Helper()
	kc := user
	if !strings.Contains(user, string(os.PathSeparator)) {
		kc = env.platform.KubeconfigPath(user)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.kubectl, append([]string{"--kubeconfig", kc}, args...)...)
	cmd.Dir = env.root
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	return kubectlResult{Stdout: out.String(), Stderr: errOut.String(), Err: err}
}

// mustKubectl runs kubectl and fails the test when it fails.
func mustKubectl(t *testing.T, user string, args ...string) string {
	t.Helper()
	r := kubectlAs(t, user, args...)
	if r.Err != nil {
		t.Fatalf("kubectl %s as %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), user, r.Err, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// restConfig returns the client configuration of a platform user.
func restConfig(t *testing.T, user string) *rest.Config {
	t.Helper()
	cfg, err := env.platform.RESTConfig(user)
	if err != nil {
		t.Fatalf("client config of %s: %v", user, err)
	}
	return cfg
}

// hikubeClient returns the generated clientset for a platform user.
func hikubeClient(t *testing.T, user string) clientset.Interface {
	t.Helper()
	cs, err := clientset.NewForConfig(restConfig(t, user))
	if err != nil {
		t.Fatalf("clientset for %s: %v", user, err)
	}
	return cs
}
