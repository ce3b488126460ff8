package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hikube/hikube/test/harness"
)

const tenantA, tenantB = "tenant-a", "tenant-b"

// hikube runs `kubectl hikube --kubeconfig <user's> args...` through the real
// kubectl. harness.Env.Kubectl puts --kubeconfig before the arguments, which
// kubectl refuses in front of a plugin name, so the flag goes after "hikube".
func hikube(t *testing.T, user string, args ...string) harness.Result {
	t.Helper()
	kc := user
	if !strings.Contains(user, string(os.PathSeparator)) {
		kc = env.Platform.KubeconfigPath(user)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.KubectlPath, append([]string{"hikube", "--kubeconfig", kc}, args...)...)
	cmd.Dir = env.Root
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return harness.Result{Stdout: out.String(), Stderr: errOut.String(), Err: err}
}

// mustHikube runs the plugin and fails the test when it fails.
func mustHikube(t *testing.T, user string, args ...string) string {
	t.Helper()
	r := hikube(t, user, args...)
	if r.Err != nil {
		t.Fatalf("kubectl hikube %s as %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), user, r.Err, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// exitCode of a run: 0 when it succeeded.
func exitCode(t *testing.T, r harness.Result) int {
	t.Helper()
	if r.Err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(r.Err, &ee) {
		t.Fatalf("kubectl did not run: %v", r.Err)
	}
	return ee.ExitCode()
}

// spec reads a cluster's spec as JSON, as the admin.
func spec(t *testing.T, ns, name string) map[string]any {
	t.Helper()
	out := env.MustKubectl(t, "admin", "get", "cluster", name, "-n", ns, "-o", "jsonpath={.spec}")
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("spec of %s/%s: %v\n%s", ns, name, err, out)
	}
	return m
}

func assertSameSpec(t *testing.T, what string, got, want map[string]any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("%s: specs differ\n--- got\n%s\n--- want\n%s", what, g, w)
	}
}

// group returns spec.nodeGroups[name] of a spec map.
func group(s map[string]any, name string) map[string]any {
	return s["nodeGroups"].(map[string]any)[name].(map[string]any)
}

// copyKubeconfig copies a platform user's kubeconfig, so that a test may
// merge into it without touching the harness's file.
func copyKubeconfig(t *testing.T, user string) string {
	t.Helper()
	data, err := os.ReadFile(env.Platform.KubeconfigPath(user))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), user+".kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// deleteCluster removes a cluster and waits until it is gone.
func deleteCluster(t *testing.T, user, ns, name string) {
	t.Helper()
	mustHikube(t, user, "-n", ns, "delete", "cluster", name, "--yes", "--wait", "--timeout", "2m")
}
