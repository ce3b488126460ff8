package harness

import (
	"encoding/json"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/types"

	"github.com/hikube/hikube/pkg/localplatform"
)

// PodPIDs are the processes the process node of the kubevirt mode runs for
// a pod, by container name, from its record of the pod
// (<process-node home>/pods/<uid>/state.json, docs/process-node.md); empty
// while the pod has not started there or after it was removed.
func PodPIDs(p *localplatform.Platform, uid types.UID) map[string]int {
	out := map[string]int{}
	data, err := os.ReadFile(filepath.Join(PodDir(p, uid), "state.json"))
	if err != nil {
		return out
	}
	var r struct {
		PIDs map[string]struct {
			PID int `json:"pid"`
		} `json:"pids"`
	}
	if json.Unmarshal(data, &r) != nil {
		return out
	}
	for name, proc := range r.PIDs {
		if proc.PID > 0 {
			out[name] = proc.PID
		}
	}
	return out
}

// PodDir is the process node's directory of a pod: its volumes, hosts file,
// logs and record.
func PodDir(p *localplatform.Platform, uid types.UID) string {
	return filepath.Join(p.ProcessNodeHome(), "pods", string(uid))
}
