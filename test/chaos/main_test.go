// Package chaos kills each component of the platform with SIGKILL at a
// random point of each phase of a cluster's life and checks what must
// survive: every cluster converges to its spec, tenant data is kept, nothing
// is left behind and no node is made twice. `make test` runs a seeded sample,
// `make chaos` (HIKUBE_CHAOS=full) the whole matrix; the seed is printed and
// HIKUBE_CHAOS_SEED replays a run. The platform runs supervised, as `make
// run` does: the supervisor restarts hikube's and the host's processes,
// hikube-controller the tenants'.
package chaos

import (
	"os"
	"testing"
	"time"

	"github.com/hikube/hikube/pkg/localplatform"
	"github.com/hikube/hikube/test/harness"
)

var env harness.Env

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, &env, localplatform.Options{ScaleDownGrace: 5 * time.Second, Supervise: true}))
}
