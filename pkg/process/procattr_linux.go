package process

import "syscall"

// childProcAttr puts a child in its own process group (a Ctrl-C on the
// terminal reaches only us, and we stop the children in order) and has the
// kernel kill it when we die, so no child outlives us. Pdeathsig
// fires when the forking OS thread ends; the Go runtime keeps its threads
// unless a goroutine exits while locked to one, which hikube never does.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
