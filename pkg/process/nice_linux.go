package process

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// startNiced starts cmd at nice value nice. Linux keeps the nice value per
// thread and a child inherits the one of the thread that forks it, so the
// fork runs on a thread of its own that was lowered first. That goroutine
// ends still locked to its thread, which the Go runtime then discards (or,
// for the main thread, parks for good): no other goroutine of ours ever runs
// at the lowered priority. Setting the
// child's priority after the fork instead would race with the threads its
// runtime starts in its first milliseconds. An error lowering the priority of
// a child that did start is returned second: the child runs, at the priority
// it got.
func startNiced(cmd *exec.Cmd, nice int) (startErr, priorityErr error) {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if err := lowerThreadPriority(nice); err != nil {
			errc <- err
			return
		}
		errc <- cmd.Start()
	}()
	if err := <-errc; err != nil {
		return err, nil
	}
	if cmd.SysProcAttr != nil && cmd.SysProcAttr.Setsid {
		return nil, lowerAutogroup(cmd.Process.Pid, nice)
	}
	return nil, nil
}

// lowerThreadPriority sets the calling thread's nice value to nice unless it
// already is at least that low in priority (raising it back needs a
// privilege).
func lowerThreadPriority(nice int) error {
	tid := unix.Gettid()
	// The raw getpriority answers 20 - nice.
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	if err != nil {
		return fmt.Errorf("reading the thread's priority: %w", err)
	}
	if 20-prio >= nice {
		return nil
	}
	if err := unix.Setpriority(unix.PRIO_PROCESS, tid, nice); err != nil {
		return fmt.Errorf("lowering the thread's priority to nice %d: %w", nice, err)
	}
	return nil
}

// lowerAutogroup gives the scheduling group of pid's new session the nice
// value nice. With autogroup scheduling (most desktop and many server
// kernels) the CPU is shared between sessions first and by nice value only
// within one: a session of its own would otherwise weigh as much as the whole
// platform, however low its threads' priority. A kernel without autogroup has
// no such file, and the thread priority is all that counts.
func lowerAutogroup(pid, nice int) error {
	path := filepath.Join("/proc", strconv.Itoa(pid), "autogroup")
	err := os.WriteFile(path, []byte(strconv.Itoa(nice)), 0)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	// The process runs; only its group's weight is not what we asked.
	return fmt.Errorf("process %d started at nice %d, but its session group kept its priority: %w", pid, nice, err)
}
