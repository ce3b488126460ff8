package harness

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

// TenantPIDs reads the pids the local provider recorded for the processes of
// one tenant cluster (state directory dir, as under Platform.ClustersDir()):
// process name → pid. A record that cannot be read is left out, since the
// provider replaces them while a process restarts.
func TenantPIDs(dir string) map[string]int {
	out := map[string]int{}
	files, _ := filepath.Glob(filepath.Join(dir, "run", "*.json"))
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
