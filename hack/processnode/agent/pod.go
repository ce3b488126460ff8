package agent

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
)

// shutdownGrace bounds how long the agent waits for a pod's processes when
// it stops itself (the platform gives the agent 10 seconds in all).
const shutdownGrace = 3 * time.Second

// podWorker plays the kubelet for one pod: its sandbox (network namespace,
// hosts file, directory), its containers and its status.
type podWorker struct {
	a   *Agent
	uid types.UID
	dir string

	recMu      sync.Mutex // serialises writes of state.json
	mu         sync.Mutex
	obj        *corev1.Pod
	state      PodState
	net        PodNetwork
	stopping   bool
	initCs     []*container
	containers []*container
	hosts      string
	pids       map[string]int
	// stopKubeService ends the pod's kubernetes Service stand-in.
	stopKubeService func()

	dirty    chan struct{}
	cancel   context.CancelFunc
	runDone  chan struct{}
	stopOnce sync.Once
	// stopRequested is set (under Agent.mu) once a stop was asked for.
	stopRequested bool
	done          chan struct{} // closed when the worker has cleaned up
}

// podRecord is Home/pods/<uid>/state.json: what a later run of the agent
// needs to clean up after this one, and what a person inspects.
type podRecord struct {
	Namespace string               `json:"namespace"`
	Name      string               `json:"name"`
	Netns     string               `json:"netns"`
	HostLink  string               `json:"hostLink"`
	IP        string               `json:"ip"`
	PIDs      map[string]processID `json:"pids"`
}

type processID struct {
	PID       int    `json:"pid"`
	StartTime string `json:"startTime"` // field 22 of /proc/<pid>/stat: tells a reused pid apart
}

func newPodWorker(a *Agent, pod *corev1.Pod) *podWorker {
	w := &podWorker{
		a: a, uid: pod.UID, obj: pod, dir: filepath.Join(a.opts.Home, "pods", string(pod.UID)),
		dirty: make(chan struct{}, 1), runDone: make(chan struct{}), done: make(chan struct{}), pids: map[string]int{},
	}
	w.state = initialState(pod, metav1.Now())
	for i := range pod.Spec.InitContainers {
		w.initCs = append(w.initCs, &container{w: w, spec: &pod.Spec.InitContainers[i], index: i, init: true})
	}
	for i := range pod.Spec.Containers {
		w.containers = append(w.containers, &container{w: w, spec: &pod.Spec.Containers[i], index: i})
	}
	return w
}

// initialState adopts what a previous run of the agent reported: restart
// counts go on, and a container that ran when the agent stopped counts one
// restart more, whether the agent recorded its end (a clean stop) or not
// (killed: the process ended with it).
func initialState(pod *corev1.Pod, now metav1.Time) PodState {
	s := PodState{StartTime: now}
	if pod.Status.StartTime != nil {
		s.StartTime = *pod.Status.StartTime
	}
	adopt := func(specs []corev1.Container, old []corev1.ContainerStatus) []ContainerStatus {
		var out []ContainerStatus
		for _, c := range specs {
			cs := ContainerStatus{Name: c.Name, Image: c.Image,
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}
			for _, o := range old {
				if o.Name != c.Name {
					continue
				}
				cs.RestartCount, cs.LastState = o.RestartCount, o.LastTerminationState
				switch {
				case o.State.Running != nil:
					cs.RestartCount++
					cs.LastState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
						ExitCode: 137, Reason: "ProcessNodeRestarted", StartedAt: o.State.Running.StartedAt, FinishedAt: now, ContainerID: o.ContainerID}}
				case o.State.Terminated != nil:
					cs.RestartCount++
					cs.LastState = o.State
				}
			}
			out = append(out, cs)
		}
		return out
	}
	s.InitContainers = adopt(pod.Spec.InitContainers, pod.Status.InitContainerStatuses)
	s.Containers = adopt(pod.Spec.Containers, pod.Status.ContainerStatuses)
	return s
}

func (w *podWorker) pod() *corev1.Pod {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.obj
}

func (w *podWorker) setPod(p *corev1.Pod) {
	w.mu.Lock()
	w.obj = p
	w.mu.Unlock()
}

func (w *podWorker) hostsPath() string { return filepath.Join(w.dir, "hosts") }

func (w *podWorker) graceSeconds() int64 {
	p := w.pod()
	if p.Spec.TerminationGracePeriodSeconds != nil {
		return *p.Spec.TerminationGracePeriodSeconds
	}
	return 30
}

// changed asks the status writer to write.
func (w *podWorker) changed() {
	select {
	case w.dirty <- struct{}{}:
	default:
	}
}

func (w *podWorker) start() {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go w.writeStatusLoop()
	go func() {
		defer close(w.runDone)
		w.run(ctx)
	}()
}

func (w *podWorker) run(ctx context.Context) {
	pod := w.pod()
	log := klog.LoggerWithValues(klog.Background(), "pod", klog.KObj(pod))
	if err := os.MkdirAll(w.dir, 0o700); err != nil {
		log.Error(err, "Creating the pod directory")
	}
	// The sandbox: namespace, address and hosts file; retried until it works.
	for {
		pn, err := w.a.net.CreatePod(string(pod.UID), pod.Namespace, pod.Name)
		var stopKS func()
		if err == nil {
			if stopKS, err = w.a.kubeService.serve(pn); err != nil {
				_ = w.a.net.DeletePod(pn)
			}
		}
		if err == nil {
			w.mu.Lock()
			w.net, w.stopKubeService = pn, stopKS
			w.mu.Unlock()
			break
		}
		log.Error(err, "Creating the pod network")
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
	w.saveRecord()
	w.refreshHosts(w.a.hostsInputs(pod.Namespace))
	w.mu.Lock()
	w.state.PodIP, w.state.HostIP, w.state.SandboxReady = w.net.IP, w.a.net.HostIP(), true
	w.state.InitDone = len(w.initCs) == 0
	w.mu.Unlock()
	w.changed()

	for _, c := range w.initCs {
		if code := c.run(ctx); code != 0 {
			// Only a RestartPolicy Never pod gets here with a failure: it failed.
			return
		}
	}
	w.mu.Lock()
	w.state.InitDone = true
	w.mu.Unlock()
	w.changed()
	go w.refreshTokens(ctx)
	var wg sync.WaitGroup
	for _, c := range w.containers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.run(ctx)
		}()
	}
	wg.Wait()
}

// stopRequest says how a worker ends: the grace period of its processes,
// and whether the pod is gone for good (release its address and directory)
// and whether its object is to be removed (the kubelet's final delete).
type stopRequest struct {
	grace        time.Duration
	gone         bool
	deleteObject bool
}

// stop ends the worker once; later calls wait for the first.
func (w *podWorker) stop(req stopRequest) {
	w.stopOnce.Do(func() {
		pod := w.pod()
		log := klog.LoggerWithValues(klog.Background(), "pod", klog.KObj(pod))
		log.Info("Stopping pod", "grace", req.grace, "gone", req.gone)
		w.mu.Lock()
		w.stopping = true
		w.mu.Unlock()
		w.cancel()
		var wg sync.WaitGroup
		for _, c := range append(append([]*container{}, w.initCs...), w.containers...) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.stop(req.grace)
			}()
		}
		wg.Wait()
		<-w.runDone
		w.mu.Lock()
		pn, stopKS := w.net, w.stopKubeService
		w.mu.Unlock()
		if stopKS != nil {
			stopKS()
		}
		if pn.Namespace != "" {
			if err := w.a.net.DeletePod(pn); err != nil {
				log.Error(err, "Removing the pod network")
			}
		}
		if req.gone {
			if err := w.a.net.ReleasePodIP(string(w.uid)); err != nil {
				log.Error(err, "Releasing the pod address")
			}
			if err := os.RemoveAll(w.dir); err != nil {
				log.Error(err, "Removing the pod directory")
			}
		}
		if req.deleteObject {
			uid := w.uid
			zero := int64(0)
			err := w.a.client.CoreV1().Pods(pod.Namespace).Delete(context.Background(), pod.Name,
				metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				log.Error(err, "Removing the pod object")
			}
		}
		close(w.done)
	})
	<-w.done
}

// writeStatusLoop writes the pod status whenever it changed, until the
// worker is done.
func (w *podWorker) writeStatusLoop() {
	for {
		select {
		case <-w.done:
			return
		case <-w.dirty:
		}
		// Coalesce bursts (every container starting at once).
		time.Sleep(50 * time.Millisecond)
		if err := w.writeStatus(); err != nil {
			klog.ErrorS(err, "Writing pod status", "pod", klog.KObj(w.pod()))
			time.AfterFunc(time.Second, w.changed)
		}
	}
}

func (w *podWorker) writeStatus() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for attempt := 0; ; attempt++ {
		cur, err := w.a.client.CoreV1().Pods(w.pod().Namespace).Get(ctx, w.pod().Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if cur.UID != w.uid {
			return nil
		}
		w.mu.Lock()
		st := BuildStatus(cur, w.state, metav1.Now())
		w.mu.Unlock()
		if equality.Semantic.DeepEqual(cur.Status, st) {
			return nil
		}
		cur.Status = st
		_, err = w.a.client.CoreV1().Pods(cur.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) && attempt < 5 {
			continue
		}
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
}

// refreshHosts rewrites the pod's hosts file in place (it is bind-mounted
// into the pod's mount namespace by inode) when its content changed.
func (w *podWorker) refreshHosts(pods []*corev1.Pod, services []*corev1.Service) {
	w.mu.Lock()
	ip, stopping := w.net.IP, w.stopping
	w.mu.Unlock()
	if ip == "" || stopping {
		return
	}
	content := RenderHosts(w.pod(), ip, pods, services)
	w.mu.Lock()
	same := content == w.hosts
	w.mu.Unlock()
	if same {
		return
	}
	if err := os.WriteFile(w.hostsPath(), []byte(content), 0o644); err != nil {
		klog.ErrorS(err, "Writing the hosts file", "pod", klog.KObj(w.pod()))
		return
	}
	w.mu.Lock()
	w.hosts = content
	w.mu.Unlock()
}

// recordPID notes a container's process (0: none) in the pod's record.
func (w *podWorker) recordPID(name string, pid int) {
	w.mu.Lock()
	if pid == 0 {
		delete(w.pids, name)
	} else {
		w.pids[name] = pid
	}
	w.mu.Unlock()
	w.saveRecord()
}

func (w *podWorker) saveRecord() {
	w.mu.Lock()
	pod := w.obj
	r := podRecord{Namespace: pod.Namespace, Name: pod.Name, Netns: w.net.Namespace, HostLink: w.net.HostLink, IP: w.net.IP, PIDs: map[string]processID{}}
	for name, pid := range w.pids {
		r.PIDs[name] = processID{PID: pid, StartTime: procStartTime(pid)}
	}
	w.mu.Unlock()
	data, err := json.MarshalIndent(r, "", "  ")
	w.recMu.Lock()
	defer w.recMu.Unlock()
	if err == nil {
		err = os.WriteFile(filepath.Join(w.dir, "state.json"), data, 0o600)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		klog.ErrorS(err, "Writing the pod record", "pod", klog.KObj(pod))
	}
}
