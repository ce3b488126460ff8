package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// LaunchCommand is the hidden sub-command the agent re-executes itself with
// to start a container: it enters the pod's network namespace, a UTS
// namespace named as the pod's hostname, and a mount namespace of its own
// whose /etc/hosts is the pod's hosts file and whose /run/secrets holds the
// bind mounts of BindMounts, then execs the component binary, which keeps
// the pid.
//
//	hikube-process-node launch <netns path> <hosts file> <hostname> <work dir> <mounts json> <binary> <argv0> [args...]
const LaunchCommand = "launch"

// secretsRoot is where programs find the credentials of their service
// account by convention, never from a flag: /var/run/secrets (a link to
// /run/secrets), whose volumes are bind-mounted rather than rewritten.
const secretsRoot = "/run/secrets"

// BindMounts are the mounts that must be at their container path, because
// programs open them there by convention: those under /var/run/secrets
// (the service account's token, CA and namespace that in-cluster clients
// read). Every other mount is reached by path rewriting.
func BindMounts(ms []Mount) []Mount {
	var out []Mount
	for _, m := range ms {
		p := secretsPath(m.ContainerPath)
		if p == secretsRoot || strings.HasPrefix(p, secretsRoot+"/") {
			out = append(out, Mount{ContainerPath: p, HostPath: m.HostPath})
		}
	}
	return out
}

// secretsPath is p with /var/run spelt /run, as the link resolves.
func secretsPath(p string) string {
	p = filepath.Clean(p)
	if p == "/var/run" || strings.HasPrefix(p, "/var/run/") {
		return strings.TrimPrefix(p, "/var")
	}
	return p
}

// EncodeMounts is the launcher's <mounts json> argument.
func EncodeMounts(ms []Mount) (string, error) {
	if ms == nil {
		ms = []Mount{}
	}
	data, err := json.Marshal(ms)
	if err != nil {
		return "", fmt.Errorf("encoding the bind mounts: %w", err)
	}
	return string(data), nil
}

// Launch runs the launcher with args (everything after LaunchCommand). It
// returns only on error.
func Launch(args []string) error {
	if len(args) < 7 {
		return errors.New("launch: want <netns> <hosts> <hostname> <dir> <mounts> <binary> <argv0> [args...]")
	}
	netnsPath, hostsPath, hostname, dir, mountsJSON, binary := args[0], args[1], args[2], args[3], args[4], args[5]
	argv := args[6:]
	// The kubelet's limit of a hostname; a longer pod name is cut.
	if len(hostname) > 63 {
		hostname = strings.TrimRight(hostname[:63], "-.")
	}
	var mounts []Mount
	if err := json.Unmarshal([]byte(mountsJSON), &mounts); err != nil {
		return fmt.Errorf("launch: mounts %q: %w", mountsJSON, err)
	}
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
	// The pod's hostname, as a container runtime sets it: leader-election
	// identities and logs name the pod rather than the machine.
	if err := syscall.Unshare(syscall.CLONE_NEWUTS); err != nil {
		return fmt.Errorf("launch: new UTS namespace: %w", err)
	}
	if err := syscall.Sethostname([]byte(hostname)); err != nil {
		return fmt.Errorf("launch: hostname %q: %w", hostname, err)
	}
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
	if err := bindMounts(mounts); err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	if err := os.Chdir(dir); err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	return fmt.Errorf("launch: exec %s: %w", binary, syscall.Exec(binary, argv, os.Environ()))
}

// bindMounts puts a private tmpfs on /run/secrets (its mount point, an
// empty directory, is the one thing created on the host) and bind-mounts
// each volume at its path there.
func bindMounts(mounts []Mount) error {
	if len(mounts) == 0 {
		return nil
	}
	if err := os.MkdirAll(secretsRoot, 0o755); err != nil {
		return fmt.Errorf("mount point %s: %w", secretsRoot, err)
	}
	if err := syscall.Mount("tmpfs", secretsRoot, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "mode=0755"); err != nil {
		return fmt.Errorf("tmpfs on %s: %w", secretsRoot, err)
	}
	for _, m := range mounts {
		if err := os.MkdirAll(m.ContainerPath, 0o755); err != nil {
			return fmt.Errorf("mount point %s: %w", m.ContainerPath, err)
		}
		if err := syscall.Mount(m.HostPath, m.ContainerPath, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind-mounting %s on %s: %w", m.HostPath, m.ContainerPath, err)
		}
	}
	return nil
}
