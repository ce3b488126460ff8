package localplatform

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hikube/hikube/pkg/process"
	"github.com/hikube/hikube/pkg/provider/local"
)

const (
	procController = "hikube-controller"
	controllerSA   = "hikube-controller"
)

// ClustersDir is where the local provider keeps each tenant cluster's
// processes and data (<Home>/clusters/<namespace>/<name>).
func (p *Platform) ClustersDir() string { return filepath.Join(p.home, "clusters") }

// startController runs hikube-controller as the hikube-controller service
// account, holding its Lease in hikube-system: with the local provider, or in
// the kubevirt mode with kubevirt control planes (host Deployments and
// StatefulSets, run by the process node) and KubeVirt workers.
func (p *Platform) startController(ctx context.Context) error {
	began := time.Now()
	if err := p.writeServiceAccountKubeconfig(ctx, controllerSA, procController); err != nil {
		return err
	}
	args := p.controllerArgs()
	addonArgs, err := p.addonChartArgs()
	if err != nil {
		return err
	}
	args = append(args, addonArgs...)
	if _, err := p.launch(procController, args); err != nil {
		return err
	}
	p.logf("hikube-controller started in %s (state in %s)", time.Since(began).Round(10*time.Millisecond), p.ClustersDir())
	return nil
}

// controllerArgs are hikube-controller's flags in the platform's mode.
func (p *Platform) controllerArgs() []string {
	args := []string{
		"--kubeconfig=" + p.KubeconfigPath(procController),
		"--state-dir=" + p.ClustersDir(),
		"--bin-dir=" + p.bin,
		"--metrics-bind-address=127.0.0.1:0",
	}
	if p.opts.NodeProvider == NodeProviderKubeVirt {
		// The provider's defaults fit the process node: the etcd class
		// "replicated" it serves, LoadBalancer endpoints it gives an
		// address, and control-plane nodes labelled as the default
		// selector wants.
		args = append(args, "--control-plane-provider=kubevirt", "--node-provider=kubevirt", "--kubevirt-node-image="+kubevirtNodeImage)
	} else {
		args = append(args, "--control-plane-provider=local", "--local-seed-dir="+seedDir(p.home))
		if p.opts.TenantGOGC > 0 {
			args = append(args, "--local-tenant-gogc="+strconv.Itoa(p.opts.TenantGOGC))
		}
	}
	if p.opts.ScaleDownGrace > 0 {
		args = append(args, "--scale-down-grace="+p.opts.ScaleDownGrace.String())
	}
	if p.opts.EtcdBootstrapTimeout > 0 {
		args = append(args, "--etcd-bootstrap-timeout="+p.opts.EtcdBootstrapTimeout.String())
	}
	return args
}

// seedDir keeps the local provider's bootstrap seeds where every local
// platform of this user finds them: a seed belongs to a kube-apiserver
// binary (by path, size and time), not to a platform, and each new home
// would otherwise capture its own.
func seedDir(home string) string {
	if cache, err := os.UserCacheDir(); err == nil {
		return filepath.Join(cache, "hikube", "bootstrap-seeds")
	}
	return filepath.Join(home, "bootstrap-seeds")
}

// StopController stops hikube-controller (SIGTERM, then SIGKILL after the
// grace period); the tenant clusters' processes keep running, as they would
// across a controller restart.
func (p *Platform) StopController() error {
	proc := p.proc(procController)
	if proc == nil || proc.Exited() {
		return nil
	}
	return process.Stop(stopGrace, proc)
}

// KillController kills hikube-controller with SIGKILL, for tests of what
// survives a crash.
func (p *Platform) KillController() error {
	proc := p.proc(procController)
	if proc == nil {
		return fmt.Errorf("hikube-controller was never started")
	}
	return process.Kill(proc)
}

// StartController starts hikube-controller again after StopController or
// KillController.
func (p *Platform) StartController(ctx context.Context) error {
	if proc := p.proc(procController); proc != nil && !proc.Exited() {
		return fmt.Errorf("hikube-controller is already running (pid %d)", proc.PID())
	}
	return p.startController(ctx)
}

// stopTenantClusters stops the processes of every tenant cluster; their data
// stays, and the controller brings them back on the next start.
func (p *Platform) stopTenantClusters() error {
	began := time.Now()
	if err := local.StopAll(p.ClustersDir()); err != nil {
		return fmt.Errorf("stopping tenant clusters: %w", err)
	}
	p.logf("stopped tenant clusters in %s", time.Since(began).Round(10*time.Millisecond))
	return nil
}
