package chaos

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hikube/hikube/test/harness"
)

// localMode is the local provider: each tenant control plane is processes
// hikube-controller runs under <clusters>/<namespace>/<name>, workers are
// kwok nodes in the tenant.
type localMode struct{}

func (localMode) components() []string    { return nil }
func (localMode) sample() int             { return 3 }
func (localMode) converge() time.Duration { return 4 * time.Minute }

func (localMode) tenantPID(t *testing.T, cluster, proc string) int {
	if proc == "kube-apiserver" {
		proc = "kube-apiserver-0"
	}
	return localPIDs(t, cluster)[proc]
}

func (localMode) snapshot(t *testing.T, cluster string) any { return localPIDs(t, cluster) }

// nothingLeft: no process of the cluster runs (the state directory and the
// PKI Secret are checked for every mode).
func (localMode) nothingLeft(t *testing.T, cluster string, before any) {
	t.Helper()
	eventuallyDo(t, time.Minute, "the processes of "+cluster+" to end", func() (bool, string) {
		for proc, pid := range before.(map[string]int) {
			if harness.Alive(pid) {
				return false, fmt.Sprintf("%s (pid %d) still runs", proc, pid)
			}
		}
		return true, ""
	})
}

// machinesMatch: kwok nodes are the machines.
func (localMode) machinesMatch(*testing.T, string, string, []string) (bool, string) { return true, "" }

// orphans are state directories of clusters that do not exist.
func (localMode) orphans(t *testing.T) []string {
	r := env.Kubectl(t, "admin", "get", "clusters", "-A", "-o", `jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}`)
	if r.Err != nil {
		return []string{"listing clusters: " + r.Stderr}
	}
	exists := map[string]map[string]bool{}
	for _, c := range strings.Fields(r.Stdout) {
		ns, name, _ := strings.Cut(c, "/")
		if exists[ns] == nil {
			exists[ns] = map[string]bool{}
		}
		exists[ns][name] = true
	}
	namespaces, _ := os.ReadDir(env.Platform.ClustersDir())
	var left []string
	for _, ns := range namespaces {
		if ns.IsDir() {
			left = append(left, strayDirs(filepath.Join(env.Platform.ClustersDir(), ns.Name()), "cluster "+ns.Name()+"/", exists[ns.Name()])...)
		}
	}
	return left
}

// localPIDs reads the pids the local provider recorded for the cluster.
func localPIDs(t *testing.T, name string) map[string]int {
	t.Helper()
	out := map[string]int{}
	files, _ := filepath.Glob(filepath.Join(clusterDir(name), "run", "*.json"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var rec struct {
			PID int `json:"pid"`
		}
		if json.Unmarshal(data, &rec) == nil && rec.PID != 0 {
			out[strings.TrimSuffix(filepath.Base(f), ".json")] = rec.PID
		}
	}
	return out
}
