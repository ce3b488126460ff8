//go:build !linux

package process

import "syscall"

// childProcAttr puts a child in its own process group. Outside Linux there is
// no parent-death signal: Stop must run for the children to end.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
