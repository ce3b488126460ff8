package localplatform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/controlplaneflags"
	"github.com/hikube/hikube/pkg/process"
	"github.com/hikube/hikube/pkg/provider"
)

// In the kubevirt mode the host also runs workloads: the kubevirt provider
// writes each tenant's control plane as Deployments and StatefulSets. A real
// kube-scheduler places their pods, and the process node, a SIMULATION
// (hack/processnode, docs/process-node.md), registers the nodes
// process-<datacenter> and runs the pods of the control-plane images as
// processes of this machine.
const (
	procScheduler   = "kube-scheduler"
	schedulerUser   = "system:kube-scheduler"
	procProcessNode = "hikube-process-node"
	// processNodePrefix names the process nodes, process-<datacenter>.
	processNodePrefix  = "process-"
	processNodeTimeout = time.Minute
)

// startWorkloadHost starts kube-scheduler and the process node and waits for
// the process nodes to be Ready. The process node needs root: it makes a
// network namespace per pod.
func (p *Platform) startWorkloadHost(ctx context.Context) error {
	began := time.Now()
	if os.Geteuid() != 0 {
		return errors.New("the kubevirt mode needs root: its process node runs pods in network namespaces")
	}
	kc := p.KubeconfigPath(procScheduler)
	if err := p.writeCertKubeconfig(kc, schedulerUser, procScheduler); err != nil {
		return err
	}
	// No metrics or health endpoint (no port to allocate), one instance.
	if _, err := p.launch(procScheduler, controlplaneflags.Scheduler{Kubeconfig: kc}.Flags()); err != nil {
		return err
	}
	agent, err := p.launch(procProcessNode, append([]string{
		"--kubeconfig=" + p.KubeconfigPath("admin"),
		"--bin=" + p.bin,
		"--home=" + p.ProcessNodeHome(),
	}, p.imageFlags()...))
	if err != nil {
		return err
	}
	cs, err := p.clientset(p.admin)
	if err != nil {
		return err
	}
	// A restarted platform finds the Nodes of its previous run still Ready:
	// only a heartbeat of this agent counts (timestamps have seconds).
	since := began.Truncate(time.Second)
	err = p.waitFor(ctx, processNodeTimeout, []*process.Process{agent}, func(ctx context.Context) (bool, error) {
		for _, dc := range catalog.Datacenters {
			n, err := cs.CoreV1().Nodes().Get(ctx, processNodePrefix+dc, metav1.GetOptions{})
			if err != nil || !provider.NodeReady(n) || !heartbeatSince(n, since) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("process nodes not Ready (log: %s): %w", p.LogPath(procProcessNode), err)
	}
	p.logf("kube-scheduler and %d process nodes ready in %s", len(catalog.Datacenters), time.Since(began).Round(10*time.Millisecond))
	return nil
}

// heartbeatSince reports whether n's Ready condition was reported at or after t.
func heartbeatSince(n *corev1.Node, t time.Time) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return !c.LastHeartbeatTime.Time.Before(t)
		}
	}
	return false
}

// ProcessNodeHome is the process node's state: network.json, pods/<uid>/
// (volumes, hosts file, container logs, state.json) and volumes/.
func (p *Platform) ProcessNodeHome() string { return filepath.Join(p.home, "process-node") }

// cleanupProcessNode removes what the process node left if it could not
// clean up itself (it does nothing after a clean stop).
func (p *Platform) cleanupProcessNode() error {
	out, err := exec.Command(filepath.Join(p.bin, procProcessNode), "cleanup", p.ProcessNodeHome()).CombinedOutput()
	if err != nil {
		return fmt.Errorf("cleaning up after %s: %w: %s", procProcessNode, err, out)
	}
	return nil
}
