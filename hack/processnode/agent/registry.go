package agent

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/klog/v2"
)

// registryDir lists the running agents of this machine, one file per
// network prefix with the agent's pid and start time. An agent that died
// without cleaning up (SIGKILL, a test binary's timeout) leaves its file; the
// next agent to start anywhere on the machine removes that agent's
// namespaces and links, so nothing outlives a crash for long even when its
// home directory is never used again.
const registryDir = "/run/hikube-process-node"

type registration struct {
	Home      string `json:"home"`
	PID       int    `json:"pid"`
	StartTime string `json:"startTime"`
}

// register records this agent as the owner of prefix.
func register(prefix, home string) error {
	if err := os.MkdirAll(registryDir, 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(registration{Home: home, PID: os.Getpid(), StartTime: procStartTime(os.Getpid())})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(registryDir, prefix+".json"), data, 0o600)
}

func unregister(prefix string) {
	if err := os.Remove(filepath.Join(registryDir, prefix+".json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		klog.ErrorS(err, "Removing the agent registration", "prefix", prefix)
	}
}

// reapDeadAgents removes the namespaces and links of registered agents that
// no longer run (other than prefix self, which Setup cleans itself).
func reapDeadAgents(self string) {
	entries, _ := os.ReadDir(registryDir)
	for _, e := range entries {
		prefix, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || prefix == self {
			continue
		}
		path := filepath.Join(registryDir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var r registration
		if json.Unmarshal(data, &r) != nil {
			continue
		}
		if r.PID > 0 && procStartTime(r.PID) == r.StartTime {
			continue // alive
		}
		klog.InfoS("Removing what a dead process node left", "prefix", prefix, "home", r.Home)
		killLeftovers(filepath.Join(r.Home, "pods"))
		n := &Network{Prefix: prefix}
		if err := n.Cleanup(); err != nil {
			klog.ErrorS(err, "Removing a dead process node's network", "prefix", prefix)
			continue
		}
		_ = os.Remove(path)
	}
}
