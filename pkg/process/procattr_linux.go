package process

import "syscall"

// childProcAttr puts a child in its own process group (a Ctrl-C on the
// terminal reaches only us, and we stop the children in order) and has the
// kernel kill it when we die, so no child outlives us. Pdeathsig
// fires when the forking OS thread ends, so Start forks such a child from a
// thread it keeps until the child has ended.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
