//go:build linux

package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/hikube/hikube/test/harness"
)

// openPTY opens a pseudo-terminal pair with the kernel's /dev/ptmx alone (no
// dependency): the master side is the test's keyboard and screen, the tty
// side is the plugin's stdin and stderr, a terminal as far as isatty knows.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlocking the pty: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("reading the pty number: %v", e)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening /dev/pts/%d: %v", n, err)
	}
	return master, tty
}

// deleteOnTerminal runs `delete cluster NAME` with a terminal on stdin and
// stderr, waits for the prompt, types answer and returns the exit code,
// stdout and what the terminal showed.
func deleteOnTerminal(t *testing.T, name, answer string) (code int, stdout, screen string) {
	t.Helper()
	master, tty := openPTY(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := hikubeCmd(ctx, "alice", "delete", "cluster", name)
	var out, term syncBuffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &out, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close() // the child holds it now; the master reads EIO once the child is gone
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		io.Copy(&term, master) //nolint:errcheck // ends with EIO when the child exits
	}()
	prompt := fmt.Sprintf("Type the cluster name (%s) to delete it:", name)
	harness.Eventually(t, time.Minute, "the confirmation prompt on the terminal", func() bool {
		return strings.Contains(term.String(), prompt)
	})
	if _, err := master.Write([]byte(answer + "\n")); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	<-copied
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	default:
		t.Fatalf("delete cluster %s: %v", name, err)
	}
	return code, out.String(), term.String()
}

// TestDeleteAsksForTheNameOnATerminal: on a terminal, delete shows what goes
// and asks for the cluster name; a wrong answer deletes nothing (exit 1),
// the name deletes the cluster.
func TestDeleteAsksForTheNameOnATerminal(t *testing.T) {
	mustHikube(t, "alice", "create", "cluster", "tty", "--node-group", "name=w,min=1,max=2", "--wait", "--timeout", "3m")
	t.Cleanup(func() {
		if r := env.Kubectl(t, "alice", "get", "cluster", "tty", "-n", tenantA); r.Err == nil {
			deleteCluster(t, "alice", tenantA, "tty")
		}
	})

	code, out, screen := deleteOnTerminal(t, "tty", "nope")
	if code != 1 || !strings.Contains(screen, "node group:  w") || !strings.Contains(screen, "aborted") || out != "" {
		t.Errorf("wrong answer: exit %d, stdout %q, terminal:\n%s", code, out, screen)
	}
	env.MustKubectl(t, "alice", "get", "cluster", "tty", "-n", tenantA)

	code, out, screen = deleteOnTerminal(t, "tty", "tty")
	if code != 0 || !strings.Contains(out, "cluster.apps.hikube.io/tty deleted") {
		t.Fatalf("right answer: exit %d, stdout %q, terminal:\n%s", code, out, screen)
	}
	mustHikube(t, "alice", "wait", "tty", "--for", "delete", "--timeout", "2m")
}
