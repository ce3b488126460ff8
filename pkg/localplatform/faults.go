package localplatform

import (
	"fmt"

	"github.com/hikube/hikube/pkg/process"
)

// KillHostProcess kills one of the host's processes with SIGKILL and waits
// for it to end, for tests of what survives a crash: "etcd",
// "kube-apiserver", "kube-controller-manager", and in the kubevirt mode
// "kube-scheduler", "hikube-process-node", "host-kwok" and
// "hikube-guest-sim". With Options.Supervise the supervisor starts it again.
// hikube's own processes have KillHikubeAPIServer and KillController.
func (p *Platform) KillHostProcess(name string) error {
	if name == procHikube || name == procController {
		return fmt.Errorf("KillHostProcess: %s is hikube's, not the host's", name)
	}
	proc := p.proc(name)
	if proc == nil {
		return fmt.Errorf("KillHostProcess: the platform started no process %q", name)
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
