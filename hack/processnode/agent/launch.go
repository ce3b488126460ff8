package agent

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// LaunchCommand is the hidden sub-command the agent re-executes itself with
// to start a container: it enters the pod's network namespace and a mount
// namespace of its own whose /etc/hosts is the pod's hosts file, then execs
// the component binary, which keeps the pid.
//
//	hikube-process-node launch <netns path> <hosts file> <work dir> <binary> <argv0> [args...]
const LaunchCommand = "launch"

// Launch runs the launcher with args (everything after LaunchCommand). It
// returns only on error.
func Launch(args []string) error {
	if len(args) < 5 {
		return errors.New("launch: want <netns> <hosts> <dir> <binary> <argv0> [args...]")
	}
	netnsPath, hostsPath, dir, binary := args[0], args[1], args[2], args[3]
	argv := args[4:]
	// Namespaces belong to the OS thread; the exec below happens on this one.
	runtime.LockOSThread()
	ns, err := os.Open(netnsPath)
	if err != nil {
		return fmt.Errorf("launch: network namespace: %w", err)
	}
	if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("launch: entering %s: %w", netnsPath, err)
	}
	_ = ns.Close()
	if err := syscall.Unshare(syscall.CLONE_NEWNS); err != nil {
		return fmt.Errorf("launch: new mount namespace: %w", err)
	}
	// Nothing mounted here may reach the host's mount namespace.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("launch: making mounts private: %w", err)
	}
	if err := syscall.Mount(hostsPath, "/etc/hosts", "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("launch: bind-mounting %s over /etc/hosts: %w", hostsPath, err)
	}
	if err := os.Chdir(dir); err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	return fmt.Errorf("launch: exec %s: %w", binary, syscall.Exec(binary, argv, os.Environ()))
}
