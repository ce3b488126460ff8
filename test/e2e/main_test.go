// Package e2e tests hikube with the controller: clusters of the local
// provider become real control planes with simulated worker nodes, tenants
// get their own kubeconfigs, the autoscaler and upgrades act, and restarts
// lose nothing. One platform serves the package, as `make run` starts it.
package e2e

import (
	"os"
	"testing"
	"time"

	"github.com/hikube/hikube/pkg/localplatform"
	"github.com/hikube/hikube/test/harness"
)

var env harness.Env

// scaleDownGrace is short so that the scale-down test does not wait ten minutes.
const scaleDownGrace = 5 * time.Second

// addonTimeout is hikube-controller's --addon-timeout here: a release left
// pending by a killed controller is repaired after it.
const addonTimeout = 20 * time.Second

func TestMain(m *testing.M) {
	// velero's chart is the one that fails on purpose (test/charts/failing).
	os.Setenv(localplatform.EnvAddonFailing, "velero")
	os.Setenv(localplatform.EnvAddonTimeout, addonTimeout.String())
	os.Exit(harness.Main(m, &env, localplatform.Options{ScaleDownGrace: scaleDownGrace}))
}
