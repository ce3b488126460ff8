// Command kwok-stages writes the standard kwok stage definitions (fast node
// initialization, node heartbeat with lease, fast pod lifecycle) as one
// multi-document YAML to stdout. kwok does nothing without stages; the
// provider passes this file to kwok with --config. The YAML comes from the
// packages kwok embeds, so it always matches the pinned kwok version.
package main

import (
	"fmt"
	"strings"

	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodeheartbeat "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat-with-lease"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
)

func main() {
	docs := []string{
		nodefast.DefaultNodeInit,
		nodeheartbeat.DefaultNodeHeartbeatWithLease,
		podfast.DefaultPodReady,
		podfast.DefaultPodComplete,
		podfast.DefaultPodDelete,
	}
	for i, d := range docs {
		if i > 0 {
			fmt.Println("---")
		}
		fmt.Println(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(d), "---")))
	}
}
