// Package process runs the binaries of the local platform and of the local
// provider: it starts a process with its log file and a banner line, signals
// its process group, stops it with a grace period and waits for it to end.
// Processes found again after a restart (by a pid file) are stopped the same
// way through the Handle interface.
package process

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// TailLines is how much of a process log ExitError quotes.
const TailLines = 20

// Options describe a process to start.
type Options struct {
	// Name names the process in errors and in its log banner.
	Name string
	// Binary is the executable; Args its arguments (without argv[0]).
	Binary string
	Args   []string
	// LogPath receives stdout and stderr, appended after a banner line that
	// says when and with which arguments the process started. Its directory
	// is created (mode 0700) if missing.
	LogPath string
	// Dir is the working directory; empty means ours.
	Dir string
	// Detached starts the process in a new session with no parent-death
	// signal, so that it outlives us: the local provider's tenant processes
	// survive a controller restart and are adopted by the next one. Otherwise
	// the process leads its own process group (a Ctrl-C on our terminal
	// reaches only us, and we stop the children in order) and, on Linux, is
	// killed by the kernel when we die.
	Detached bool
	// Env is added to our environment for the child (KEY=value), such as
	// GOGC for a Go binary; later entries win.
	Env []string
	// Nice, when positive, lowers the child's CPU priority to this nice
	// value (1–19) from its first instruction on, and for a detached child
	// also the priority of its session's scheduling group where the kernel
	// groups by session (autogroup): otherwise every detached session would
	// weigh as much as all of ours together. Only detached children: the
	// priority is set through a thread that ends after the fork, which would
	// fire a parent-death signal.
	Nice int
}

// Process is a child started by Start.
type Process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed once the process has ended and been reaped
	err     error         // how it ended; valid once done is closed
	// priorityErr says why the process runs at a higher priority than
	// Options.Nice asked.
	priorityErr error
}

// PriorityErr says why the process runs at a higher CPU priority than
// Options.Nice asked (nil when it runs at the one asked); the process runs
// either way.
func (p *Process) PriorityErr() error { return p.priorityErr }

// Start starts o.Binary with its output appended to o.LogPath. A goroutine
// reaps the process; Done is closed when it has ended.
func Start(o Options) (*Process, error) {
	if _, err := os.Stat(o.Binary); err != nil {
		return nil, fmt.Errorf("starting %s: binary %s: %w", o.Name, o.Binary, err)
	}
	if err := os.MkdirAll(filepath.Dir(o.LogPath), 0o700); err != nil {
		return nil, fmt.Errorf("starting %s: %w", o.Name, err)
	}
	logFile, err := os.OpenFile(o.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("starting %s: opening log: %w", o.Name, err)
	}
	// The child gets its own copy of the descriptor.
	defer logFile.Close()
	// The arguments hold paths and ports only, never key material.
	fmt.Fprintf(logFile, "\n===== %s starting %s %s\n", time.Now().Format(time.RFC3339), o.Binary, strings.Join(o.Args, " "))

	cmd := exec.Command(o.Binary, o.Args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Dir = o.Dir
	if len(o.Env) > 0 {
		cmd.Env = append(os.Environ(), o.Env...)
	}
	if o.Detached {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		cmd.SysProcAttr = childProcAttr()
	}
	if o.Nice < 0 || o.Nice > 19 || (o.Nice > 0 && !o.Detached) {
		return nil, fmt.Errorf("starting %s: nice %d: only 1–19, for a detached process", o.Name, o.Nice)
	}
	p := &Process{name: o.Name, logPath: o.LogPath, cmd: cmd, done: make(chan struct{})}
	if o.Detached {
		var startErr error
		if o.Nice > 0 {
			startErr, p.priorityErr = startNiced(cmd, o.Nice)
		} else {
			startErr = cmd.Start()
		}
		if startErr != nil {
			return nil, fmt.Errorf("starting %s: %w", o.Name, startErr)
		}
		go p.wait()
		return p, nil
	}
	// The parent-death signal fires when the thread that forked the child
	// ends, not when we do, and the runtime ends threads (a goroutine that
	// exits locked to one: startNiced does). So the child is forked from a
	// thread locked to the goroutine that waits for it, which a blocking
	// wait holds anyway: the thread lives exactly as long as the child.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.wait()
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("starting %s: %w", o.Name, err)
	}
	return p, nil
}

// wait reaps the process and records how it ended.
func (p *Process) wait() {
	p.err = p.cmd.Wait()
	close(p.done)
}

// PID is the process id (and process group id) of the process.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// LogPath is the file the process logs to.
func (p *Process) LogPath() string { return p.logPath }

func (p *Process) String() string { return fmt.Sprintf("%s (pid %d)", p.name, p.PID()) }

// Done is closed when the process has ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is how the process ended (nil for exit status 0); call it after Done.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// ExitError describes how the process ended, with the end of its log; call
// it after Done.
func (p *Process) ExitError() error {
	status := "exited"
	if err := p.Err(); err != nil {
		status = err.Error()
	}
	return fmt.Errorf("%s %s; last lines of %s:\n%s", p.name, status, p.logPath, Tail(p.logPath, TailLines))
}

// Signal sends sig to the process group, so that anything the binary started
// goes with it. An ended process is not signalled: its pid may be reused.
func (p *Process) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return nil
	}
	return SignalGroup(p.PID(), sig)
}

// SignalGroup sends sig to the process group led by pid, or to pid alone
// when it leads no group. Never both: a second SIGTERM is how Kubernetes
// servers are told to skip their graceful shutdown (they exit 1 at once). A
// process that is already gone is no error. The caller makes sure that pid
// still names the process it means.
func SignalGroup(pid int, sig syscall.Signal) error {
	if err := syscall.Kill(-pid, sig); err == nil {
		return nil
	}
	if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signalling pid %d: %w", pid, err)
	}
	return nil
}

// Tail returns the last n lines of the file at path.
func Tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	defer f.Close()
	// Only the end of a long log matters.
	const maxRead = 64 << 10
	if fi, err := f.Stat(); err == nil && fi.Size() > maxRead {
		if _, err := f.Seek(fi.Size()-maxRead, 0); err != nil {
			return fmt.Sprintf("(cannot read log: %v)", err)
		}
	}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
