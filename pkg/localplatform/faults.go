package localplatform

import (
	"fmt"

	"github.com/hikube/hikube/pkg/process"
)

// KillHostProcess kills the host's "etcd" or "kube-apiserver" with SIGKILL
// and waits for it to end, for tests of what survives a crash; with
// Options.Supervise the supervisor starts it again.
func (p *Platform) KillHostProcess(name string) error {
	if name != procEtcd && name != procKube {
		return fmt.Errorf("KillHostProcess: %q is neither %s nor %s", name, procEtcd, procKube)
	}
	proc := p.proc(name)
	if proc == nil {
		return fmt.Errorf("%s was never started", name)
	}
	return process.Kill(proc)
}

// PID is the process id of one of the platform's processes
// ("hikube-apiserver", "hikube-controller", "etcd", "kube-apiserver"), 0 when
// it does not run: for measurements such as the soak's memory figures.
func (p *Platform) PID(name string) int {
	proc := p.proc(name)
	if proc == nil || proc.Exited() {
		return 0
	}
	return proc.PID()
}
