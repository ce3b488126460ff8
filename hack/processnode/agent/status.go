package agent

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ContainerStatus is what the agent knows of one container.
type ContainerStatus struct {
	Name         string
	Image        string
	ContainerID  string
	State        corev1.ContainerState
	LastState    corev1.ContainerState
	RestartCount int32
	Ready        bool
	Started      bool
}

// everStarted reports whether the container ran at least once.
func (c ContainerStatus) everStarted() bool {
	return c.State.Running != nil || c.State.Terminated != nil || c.LastState.Terminated != nil
}

// PodState is what the agent knows of one pod, from which BuildStatus makes
// the status a kubelet would write.
type PodState struct {
	PodIP     string
	HostIP    string
	StartTime metav1.Time
	// SandboxReady: the network namespace and volumes are set up.
	SandboxReady bool
	// InitDone: every init container completed.
	InitDone       bool
	InitContainers []ContainerStatus
	Containers     []ContainerStatus
}

// BuildStatus is the pod status for state, starting from the pod's current
// status so that what the agent does not own (PodScheduled, qosClass) stays,
// and keeping a condition's lastTransitionTime while its status holds.
func BuildStatus(pod *corev1.Pod, s PodState, now metav1.Time) corev1.PodStatus {
	st := *pod.Status.DeepCopy()
	st.ObservedGeneration = pod.Generation
	st.Phase = podPhase(pod, s)
	st.HostIP = s.HostIP
	st.PodIP = s.PodIP
	st.HostIPs, st.PodIPs = nil, nil
	if s.HostIP != "" {
		st.HostIPs = []corev1.HostIP{{IP: s.HostIP}}
	}
	if s.PodIP != "" {
		st.PodIPs = []corev1.PodIP{{IP: s.PodIP}}
	}
	if !s.StartTime.IsZero() {
		st.StartTime = &s.StartTime
	}
	st.InitContainerStatuses = toAPI(s.InitContainers)
	st.ContainerStatuses = toAPI(s.Containers)

	var notReady []string
	for _, c := range s.Containers {
		if !c.Ready {
			notReady = append(notReady, c.Name)
		}
	}
	containersReady := s.SandboxReady && s.InitDone && len(notReady) == 0 && st.Phase == corev1.PodRunning
	notReadyMsg := ""
	if len(notReady) > 0 {
		notReadyMsg = fmt.Sprintf("containers with unready status: [%s]", strings.Join(notReady, " "))
	}
	set := func(t corev1.PodConditionType, ok bool, reason, msg string) {
		c := corev1.PodCondition{Type: t, Status: corev1.ConditionFalse, Reason: reason, Message: msg, LastTransitionTime: now,
			ObservedGeneration: pod.Generation}
		if ok {
			c.Status, c.Reason, c.Message = corev1.ConditionTrue, "", ""
		}
		for i := range st.Conditions {
			if st.Conditions[i].Type == t {
				if st.Conditions[i].Status == c.Status {
					c.LastTransitionTime = st.Conditions[i].LastTransitionTime
				}
				st.Conditions[i] = c
				return
			}
		}
		st.Conditions = append(st.Conditions, c)
	}
	set(corev1.PodReadyToStartContainers, s.SandboxReady, "", "")
	set(corev1.PodInitialized, s.InitDone, "ContainersNotInitialized", "containers with incomplete status: init containers")
	set(corev1.ContainersReady, containersReady, "ContainersNotReady", notReadyMsg)
	set(corev1.PodReady, containersReady, "ContainersNotReady", notReadyMsg)
	return st
}

// podPhase follows the kubelet: Pending until every container has run,
// Running while any runs or will run again, Succeeded or Failed once all
// have terminated for good.
func podPhase(pod *corev1.Pod, s PodState) corev1.PodPhase {
	if !s.SandboxReady || !s.InitDone {
		return corev1.PodPending
	}
	running, succeeded, failed := 0, 0, 0
	for _, c := range s.Containers {
		switch {
		case !c.everStarted():
			return corev1.PodPending
		case c.State.Running != nil:
			running++
		case c.State.Terminated != nil && c.State.Terminated.ExitCode == 0:
			succeeded++
		case c.State.Terminated != nil:
			failed++
		default:
			// Waiting to be restarted.
			running++
		}
	}
	if running > 0 || pod.Spec.RestartPolicy == corev1.RestartPolicyAlways || pod.Spec.RestartPolicy == "" {
		return corev1.PodRunning
	}
	if failed > 0 {
		return corev1.PodFailed
	}
	if succeeded == len(s.Containers) {
		return corev1.PodSucceeded
	}
	return corev1.PodRunning
}

func toAPI(cs []ContainerStatus) []corev1.ContainerStatus {
	if len(cs) == 0 {
		return nil
	}
	out := make([]corev1.ContainerStatus, 0, len(cs))
	for _, c := range cs {
		started := c.Started
		out = append(out, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: c.Image, ContainerID: c.ContainerID,
			State: c.State, LastTerminationState: c.LastState, RestartCount: c.RestartCount,
			Ready: c.Ready, Started: &started,
		})
	}
	return out
}
