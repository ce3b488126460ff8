package localplatform

import (
	"context"
	"fmt"
	"time"

	"github.com/hikube/hikube/pkg/process"
)

// HostProcesses are the host components fault tests may kill with
// KillHostProcess and bring back with RestartHost.
var HostProcesses = []string{procEtcd, procKube}

// KillHostProcess kills the host's etcd or kube-apiserver with SIGKILL and
// waits for it to end, for tests of what survives a crash.
func (p *Platform) KillHostProcess(name string) error {
	if name != procEtcd && name != procKube {
		return fmt.Errorf("KillHostProcess: %q is not one of %v", name, HostProcesses)
	}
	proc := p.proc(name)
	if proc == nil {
		return fmt.Errorf("%s was never started", name)
	}
	return process.Kill(proc)
}

// RestartHost starts again, with the flags and state they had, whichever of
// the host's etcd and kube-apiserver have ended, and waits for /readyz.
func (p *Platform) RestartHost(ctx context.Context) error {
	began := time.Now()
	var procs []*process.Process
	for _, name := range HostProcesses {
		proc := p.proc(name)
		if proc != nil && !proc.Exited() {
			procs = append(procs, proc)
			continue
		}
		args := p.etcdArgs()
		if name == procKube {
			args = p.kubeAPIServerArgs()
		}
		started, err := p.launch(name, args)
		if err != nil {
			return fmt.Errorf("restarting %s: %w", name, err)
		}
		p.logf("restarted %s (it had ended)", name)
		procs = append(procs, started)
	}
	cs, err := p.clientset(p.admin)
	if err != nil {
		return err
	}
	var last error
	err = p.waitFor(ctx, kubeAPIServerTimeout, procs, func(ctx context.Context) (bool, error) {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, last = cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(rctx)
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for kube-apiserver /readyz after a restart (last answer: %v): %w", last, err)
	}
	p.logf("host etcd and kube-apiserver ready again in %s", time.Since(began).Round(10*time.Millisecond))
	return nil
}
