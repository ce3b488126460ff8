//go:build !linux

package process

import (
	"os/exec"
	"syscall"
)

// startNiced starts cmd and lowers its priority afterwards: outside Linux the
// nice value belongs to the process, so the threads it started before count
// too.
func startNiced(cmd *exec.Cmd, nice int) (startErr, priorityErr error) {
	if err := cmd.Start(); err != nil {
		return err, nil
	}
	return nil, syscall.Setpriority(syscall.PRIO_PROCESS, cmd.Process.Pid, nice)
}
