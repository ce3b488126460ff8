package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
)

// Restart back-off, as the kubelet's: the first restart is immediate, then
// 10s doubling up to 5 minutes, reset after 10 minutes of running.
const (
	backoffInitial = 10 * time.Second
	backoffMax     = 5 * time.Minute
	backoffReset   = 10 * time.Minute
)

// container runs one container of a pod: its process, restarts and probes.
// Its status lives in the pod worker, under the worker's lock.
type container struct {
	w     *podWorker
	spec  *corev1.Container
	index int
	init  bool

	// Under w.mu.
	proc *exec.Cmd
	exit chan struct{} // closed when proc has been reaped
}

func (c *container) status() *ContainerStatus {
	if c.init {
		return &c.w.state.InitContainers[c.index]
	}
	return &c.w.state.Containers[c.index]
}

func (c *container) update(f func(s *ContainerStatus)) {
	c.w.mu.Lock()
	f(c.status())
	c.w.mu.Unlock()
	c.w.changed()
}

// run starts the container and restarts it per the pod's restart policy
// until ctx ends (the pod stops) or it terminates for good. It returns the
// last exit code (-1 when it never ran).
func (c *container) run(ctx context.Context) int32 {
	backoff := time.Duration(0)
	policy := c.w.pod().Spec.RestartPolicy
	for {
		began := time.Now()
		code, ran := c.runOnce(ctx)
		if ctx.Err() != nil {
			return code
		}
		restart := policy == corev1.RestartPolicyAlways || policy == "" || (policy == corev1.RestartPolicyOnFailure && code != 0) || !ran
		if c.init && code == 0 && ran {
			return 0
		}
		if !restart {
			return code
		}
		if time.Since(began) > backoffReset {
			backoff = 0
		}
		wait := backoff
		if ran {
			c.update(func(s *ContainerStatus) {
				s.RestartCount++
				s.LastState = s.State
				reason := ""
				if wait > 0 {
					reason = "CrashLoopBackOff"
				}
				s.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason,
					Message: fmt.Sprintf("back-off %s restarting failed container", wait)}}
				if reason == "" {
					s.State.Waiting.Message = ""
				}
			})
			backoff = min(max(2*backoff, backoffInitial), backoffMax)
		} else {
			// Not started (configuration or volume not ready): retry soon.
			wait = 2 * time.Second
		}
		select {
		case <-ctx.Done():
			return code
		case <-time.After(wait):
		}
	}
}

// runOnce prepares and starts the process, runs its probes and waits for it
// to end. ran is false when it could not start.
func (c *container) runOnce(ctx context.Context) (code int32, ran bool) {
	w := c.w
	pod := w.pod()
	binary, command, err := w.a.opts.Entrypoints.Resolve(w.a.opts.Bin, c.spec.Image, c.spec.Command)
	var notAllowed ErrNotAllowed
	if errors.As(err, &notAllowed) {
		return c.simulate(ctx), true
	}
	if err != nil {
		c.waiting("ErrImagePull", err.Error())
		return -1, false
	}
	argv, env, dir, mounts, err := c.prepare(ctx, pod, command)
	if err != nil {
		c.waiting("CreateContainerConfigError", err.Error())
		return -1, false
	}
	logPath := filepath.Join(w.dir, "logs", c.spec.Name+".log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o700); err != nil {
		c.waiting("RunContainerError", err.Error())
		return -1, false
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		c.waiting("RunContainerError", err.Error())
		return -1, false
	}
	fmt.Fprintf(logFile, "\n===== %s hikube-process-node starting %s\n", time.Now().Format(time.RFC3339), binary)
	launcher := append([]string{LaunchCommand, w.net.NetnsPath(), w.hostsPath(), podHostname(pod), dir, mounts, binary}, argv...)
	cmd := exec.Command(w.a.self, launcher...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group (signals reach what it starts), and killed by
	// the kernel should the agent die.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	w.mu.Lock()
	if w.stopping {
		w.mu.Unlock()
		_ = logFile.Close()
		return -1, false
	}
	err = cmd.Start()
	_ = logFile.Close()
	if err != nil {
		w.mu.Unlock()
		c.waiting("RunContainerError", err.Error())
		return -1, false
	}
	exit := make(chan struct{})
	c.proc, c.exit = cmd, exit
	started := metav1.Now()
	id := "process://" + strconv.Itoa(cmd.Process.Pid)
	s := c.status()
	s.ContainerID = id
	s.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}
	s.Ready = c.spec.ReadinessProbe == nil && !c.init
	s.Started = c.spec.StartupProbe == nil
	w.mu.Unlock()
	w.recordPID(c.spec.Name, cmd.Process.Pid)
	w.changed()
	klog.InfoS("Container started", "pod", klog.KObj(pod), "container", c.spec.Name, "pid", cmd.Process.Pid)

	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exit)
	}()
	probeCtx, stopProbes := context.WithCancel(ctx)
	if !c.init {
		go c.probe(probeCtx)
	}
	<-exit
	stopProbes()
	code = exitCode(cmd, waitErr)
	reason := "Completed"
	if code != 0 {
		reason = "Error"
	}
	w.mu.Lock()
	c.proc = nil
	s = c.status()
	s.Ready = false
	s.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: code, Reason: reason, StartedAt: started, FinishedAt: metav1.Now(), ContainerID: id,
	}}
	w.mu.Unlock()
	w.recordPID(c.spec.Name, 0)
	w.changed()
	klog.InfoS("Container exited", "pod", klog.KObj(pod), "container", c.spec.Name, "exitCode", code)
	return code, true
}

// simulate stands for a container whose image the agent does not run: it
// is reported running and ready, like kwok's pods, until the pod stops.
func (c *container) simulate(ctx context.Context) int32 {
	now := metav1.Now()
	c.update(func(s *ContainerStatus) {
		s.ContainerID = "simulated://" + c.spec.Name
		s.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}
		s.Ready, s.Started = true, true
	})
	if c.init {
		c.update(func(s *ContainerStatus) {
			s.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed", StartedAt: now, FinishedAt: metav1.Now(), ContainerID: s.ContainerID}}
		})
		return 0
	}
	<-ctx.Done()
	return 0
}

// waiting reports why the container cannot start; it is retried, and logged
// only when the reason changes.
func (c *container) waiting(reason, msg string) {
	c.w.mu.Lock()
	w := c.status().State.Waiting
	same := w != nil && w.Reason == reason && w.Message == msg
	c.w.mu.Unlock()
	if same {
		return
	}
	klog.InfoS("Container not started", "pod", klog.KObj(c.w.pod()), "container", c.spec.Name, "reason", reason, "message", msg)
	c.update(func(s *ContainerStatus) {
		s.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
	})
}

// prepare resolves the environment, volumes and command line of the next
// start: $(VAR) expanded, container paths rewritten to the pod's directories.
// mounts is the launcher's argument naming the volumes it bind-mounts
// (BindMounts).
func (c *container) prepare(ctx context.Context, pod *corev1.Pod, command []string) (argv, env []string, dir, mounts string, err error) {
	w := c.w
	vars, err := Env(ctx, w.a.client, pod, c.spec, w.net.IP, w.a.net.HostIP())
	if err != nil {
		return nil, nil, "", "", err
	}
	vols, err := Volumes(ctx, w.a.client, pod, w.dir, w.net.IP, w.a.net.HostIP())
	if err != nil {
		return nil, nil, "", "", err
	}
	ms, err := ContainerMounts(c.spec, vols)
	if err != nil {
		return nil, nil, "", "", err
	}
	if mounts, err = EncodeMounts(BindMounts(ms)); err != nil {
		return nil, nil, "", "", err
	}
	rw := NewPathRewriter(ms)
	lookup := map[string]string{}
	env = []string{"PATH=" + basePath, "HOSTNAME=" + podHostname(pod)}
	// The kubelet's variables of the kubernetes Service come first; the
	// container's own override them.
	own := map[string]bool{}
	for _, v := range vars {
		own[v.Name] = true
	}
	for _, v := range w.a.kubeService.Env() {
		if !own[v.Name] {
			lookup[v.Name] = v.Value
			env = append(env, v.Name+"="+v.Value)
		}
	}
	for _, v := range vars {
		val := rw.Rewrite(v.Value)
		lookup[v.Name] = val
		env = append(env, v.Name+"="+val)
	}
	expand := func(s string) string { return rw.Rewrite(Expand(s, MapLookup(lookup))) }
	argv = append(argv, filepath.Base(command[0]))
	for _, s := range command[1:] {
		argv = append(argv, expand(s))
	}
	for _, s := range c.spec.Args {
		argv = append(argv, expand(s))
	}
	dir = filepath.Join(w.dir, "containers", c.spec.Name)
	if c.spec.WorkingDir != "" {
		dir = rw.Rewrite(c.spec.WorkingDir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, "", "", err
	}
	return argv, env, dir, mounts, nil
}

// stop signals the process: SIGTERM, SIGKILL after grace. It returns once
// the process has ended.
func (c *container) stop(grace time.Duration) {
	c.w.mu.Lock()
	proc, exit := c.proc, c.exit
	c.w.mu.Unlock()
	if proc == nil {
		return
	}
	pid := proc.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-exit:
		return
	case <-time.After(grace):
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-exit
}

// probe runs the startup probe until it succeeds, then readiness and
// liveness, for one run of the process. A failing startup or liveness probe
// restarts the container.
func (c *container) probe(ctx context.Context) {
	podIP := c.w.net.IP
	sleep := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	restart := func(why string) {
		klog.InfoS("Probe failed, restarting container", "pod", klog.KObj(c.w.pod()), "container", c.spec.Name, "probe", why)
		grace := c.w.graceSeconds()
		c.stop(time.Duration(grace) * time.Second)
	}
	if sp := c.spec.StartupProbe; sp != nil {
		p := newProber(sp)
		if !sleep(p.initialDel) {
			return
		}
	startup:
		for {
			switch p.record(Probe(ctx, sp, c.spec, podIP)) {
			case 1:
				c.update(func(s *ContainerStatus) { s.Started = true })
				break startup
			case -1:
				restart("startup")
				return
			}
			if !sleep(p.period) {
				return
			}
		}
	}
	if rp := c.spec.ReadinessProbe; rp != nil {
		go func() {
			p := newProber(rp)
			if !sleep(p.initialDel) {
				return
			}
			for {
				switch p.record(Probe(ctx, rp, c.spec, podIP)) {
				case 1:
					c.setReady(ctx, true)
				case -1:
					c.setReady(ctx, false)
				}
				if !sleep(p.period) {
					return
				}
			}
		}()
	}
	if lp := c.spec.LivenessProbe; lp != nil {
		p := newProber(lp)
		if !sleep(p.initialDel) {
			return
		}
		for {
			if p.record(Probe(ctx, lp, c.spec, podIP)) == -1 {
				restart("liveness")
				return
			}
			if !sleep(p.period) {
				return
			}
		}
	}
}

// setReady changes readiness unless the run has ended meanwhile.
func (c *container) setReady(ctx context.Context, ready bool) {
	c.w.mu.Lock()
	s := c.status()
	changed := ctx.Err() == nil && s.State.Running != nil && s.Ready != ready
	if changed {
		s.Ready = ready
	}
	c.w.mu.Unlock()
	if changed {
		c.w.changed()
	}
}

// exitCode is the process's exit status, 128+signal when a signal ended it
// (as container runtimes report).
func exitCode(cmd *exec.Cmd, err error) int32 {
	if cmd.ProcessState == nil {
		return -1
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int32(ws.Signal())
	}
	if err != nil && !strings.Contains(err.Error(), "exit status") {
		return -1
	}
	return int32(cmd.ProcessState.ExitCode())
}
