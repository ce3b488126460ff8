package process

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

const (
	// KillWait bounds the wait for processes to end after SIGKILL; only a
	// process stuck in the kernel (D state) takes longer.
	KillWait = 10 * time.Second
	// pollInterval paces the checks for an end: short, because stopping and
	// replacing processes is on the path of every restart and upgrade.
	pollInterval = 20 * time.Millisecond
)

// Handle is a process that can be signalled and watched: a child started by
// Start, or a process started by an earlier run and found again by its pid
// file. Signal must not signal a pid that no longer names the process.
type Handle interface {
	Signal(sig syscall.Signal) error
	Exited() bool
	String() string
}

// Stop ends every handle: SIGTERM to all, up to grace for them to end, then
// SIGKILL to the rest and up to KillWait for them to end. It takes no context:
// stopping must finish also when the caller is being cancelled (a Ctrl-C of
// `make run` both cancels and stops).
func Stop(grace time.Duration, hs ...Handle) error {
	var errs []error
	for _, h := range hs {
		if err := h.Signal(syscall.SIGTERM); err != nil {
			errs = append(errs, err)
		}
	}
	if WaitExited(grace, hs...) {
		return errors.Join(errs...)
	}
	return errors.Join(append(errs, Kill(hs...))...)
}

// Kill sends SIGKILL to every handle that has not ended and waits up to
// KillWait for all to end.
func Kill(hs ...Handle) error { return killWithin(KillWait, hs...) }

func killWithin(d time.Duration, hs ...Handle) error {
	var errs []error
	for _, h := range hs {
		if h.Exited() {
			continue
		}
		if err := h.Signal(syscall.SIGKILL); err != nil {
			errs = append(errs, err)
		}
	}
	if !WaitExited(d, hs...) {
		var alive []string
		for _, h := range hs {
			if !h.Exited() {
				alive = append(alive, h.String())
			}
		}
		errs = append(errs, fmt.Errorf("%s still alive %s after SIGKILL", strings.Join(alive, ", "), d))
	}
	return errors.Join(errs...)
}

// WaitExited waits up to timeout for every handle to end and reports whether
// they all did.
func WaitExited(timeout time.Duration, hs ...Handle) bool {
	err := wait.PollUntilContextTimeout(context.Background(), pollInterval, timeout, true, func(context.Context) (bool, error) {
		for _, h := range hs {
			if !h.Exited() {
				return false, nil
			}
		}
		return true, nil
	})
	return err == nil
}
