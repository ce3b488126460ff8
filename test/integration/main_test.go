// Package integration tests the hikube API end to end: the same local
// platform as `make run` (etcd, kube-apiserver, kube-controller-manager,
// hikube-apiserver behind its APIService), driven by the real kubectl and by
// the generated client-go clientset. The controller is left out: these tests
// write status themselves (test/e2e runs the controller).
package integration

import (
	"os"
	"testing"

	"k8s.io/client-go/rest"

	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
	"github.com/hikube/hikube/pkg/localplatform"
	"github.com/hikube/hikube/test/harness"
)

var env harness.Env

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, &env, localplatform.Options{SkipController: true}))
}

type kubectlResult = harness.Result

func kubectlAs(t *testing.T, user string, args ...string) kubectlResult {
	t.Helper()
	return env.Kubectl(t, user, args...)
}

func kubectlIn(t *testing.T, user string, stdin []byte, args ...string) kubectlResult {
	t.Helper()
	return env.KubectlIn(t, user, stdin, args...)
}

func mustKubectl(t *testing.T, user string, args ...string) string {
	t.Helper()
	return env.MustKubectl(t, user, args...)
}

func restConfig(t *testing.T, user string) *rest.Config {
	t.Helper()
	return env.RESTConfig(t, user)
}

func hikubeClient(t *testing.T, user string) clientset.Interface {
	t.Helper()
	return env.Hikube(t, user)
}
