// Package plugin tests kubectl-hikube as tenants run it: the built binary on
// PATH, invoked as `kubectl hikube ...` through the real kubectl, against the
// full local platform (hikube-apiserver and the controller).
package plugin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/hikube/hikube/pkg/localplatform"
	"github.com/hikube/hikube/test/harness"
)

var env harness.Env

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin, err := os.MkdirTemp("", "kubectl-hikube-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(bin)
	// The binary under test, built from this tree into a directory that comes
	// first on PATH: kubectl finds plugins there, and so does the exec
	// credential of `kubeconfig --exec`.
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "kubectl-hikube"), "./plugin/kubectl-hikube")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building kubectl-hikube: %v\n", err)
		return 1
	}
	os.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	os.Setenv("NO_COLOR", "1")
	// The credential cache goes to a directory of the run, not the user's.
	cache, err := os.MkdirTemp("", "kubectl-hikube-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(cache)
	os.Setenv("XDG_CACHE_HOME", cache)
	return harness.Main(m, &env, localplatform.Options{})
}
