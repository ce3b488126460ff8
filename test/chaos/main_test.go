// Package chaos kills each component of the platform with SIGKILL at a
// random point of each phase of a cluster's life and checks what must
// survive: every cluster converges to its spec, tenant data is kept, nothing
// is left behind and no node is made twice. The same matrix runs on either
// mode of the platform, chosen by HIKUBE_CHAOS_PROVIDER: "local" (the
// default; the local provider, tenant control planes as processes, kwok
// nodes) or "kubevirt" (as `HIKUBE_PROVIDER=kubevirt make run`: control
// planes as host pods on the process node, workers as simulated KubeVirt
// VMs), which adds its own components to the matrix. `make test` runs a
// seeded sample of each mode, `make chaos` (HIKUBE_CHAOS=full) the whole
// matrices; the seed is printed and HIKUBE_CHAOS_SEED replays a run. The
// platform runs supervised, as `make run` does: the supervisor restarts
// hikube's and the host's processes, hikube-controller the local tenants'
// processes and the process node the kubevirt tenants' containers.
package chaos

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hikube/hikube/pkg/localplatform"
	"github.com/hikube/hikube/test/harness"
)

var (
	env harness.Env
	// the mode under test, from HIKUBE_CHAOS_PROVIDER.
	mode platformMode
)

func TestMain(m *testing.M) {
	opts := localplatform.Options{ScaleDownGrace: 5 * time.Second, Supervise: true}
	switch p := os.Getenv("HIKUBE_CHAOS_PROVIDER"); p {
	case "", "local":
		mode = localMode{}
	case localplatform.NodeProviderKubeVirt:
		mode = kubevirtMode{}
		opts.NodeProvider = localplatform.NodeProviderKubeVirt
	default:
		fmt.Fprintf(os.Stderr, "HIKUBE_CHAOS_PROVIDER=%q: want local or kubevirt (the Makefile runs both)\n", p)
		os.Exit(2)
	}
	os.Exit(harness.Main(m, &env, opts))
}
