package agent

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func condition(st corev1.PodStatus, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

func TestBuildStatus(t *testing.T) {
	earlier := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	now := metav1.NewTime(earlier.Add(time.Hour))
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Generation: 3},
		Spec:       corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways, Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}},
		Status: corev1.PodStatus{QOSClass: corev1.PodQOSBurstable, Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: earlier},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: earlier},
		}},
	}
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: earlier}}
	waiting := corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
	s := PodState{PodIP: "10.1.1.1", HostIP: "10.1.0.1", StartTime: earlier, SandboxReady: true, InitDone: true,
		Containers: []ContainerStatus{{Name: "a", State: running, Ready: true, Started: true}, {Name: "b", State: waiting}}}

	// One container not started yet: Pending, not ready.
	st := BuildStatus(pod, s, now)
	if st.Phase != corev1.PodPending || condition(st, corev1.PodReady).Status != corev1.ConditionFalse {
		t.Fatalf("phase %s ready %v", st.Phase, condition(st, corev1.PodReady))
	}
	if st.ObservedGeneration != 3 || condition(st, corev1.PodReady).ObservedGeneration != 3 {
		t.Fatalf("observed generation: %d, %d", st.ObservedGeneration, condition(st, corev1.PodReady).ObservedGeneration)
	}
	if st.QOSClass != corev1.PodQOSBurstable || condition(st, corev1.PodScheduled).Status != corev1.ConditionTrue {
		t.Fatal("fields the agent does not own were lost")
	}
	if c := condition(st, corev1.PodInitialized); !c.LastTransitionTime.Equal(&earlier) {
		t.Fatalf("Initialized moved its transition time: %v", c.LastTransitionTime)
	}
	if c := condition(st, corev1.ContainersReady); c.Message != "containers with unready status: [b]" || !c.LastTransitionTime.Equal(&now) {
		t.Fatalf("ContainersReady: %+v", c)
	}

	// Both running and ready: Running, Ready, addresses reported.
	s.Containers[1] = ContainerStatus{Name: "b", State: running, Ready: true, Started: true, ContainerID: "process://42", RestartCount: 1,
		LastState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error"}}}
	st = BuildStatus(pod, s, now)
	if st.Phase != corev1.PodRunning || condition(st, corev1.PodReady).Status != corev1.ConditionTrue {
		t.Fatalf("phase %s ready %v", st.Phase, condition(st, corev1.PodReady))
	}
	if st.PodIP != "10.1.1.1" || len(st.PodIPs) != 1 || st.HostIP != "10.1.0.1" || len(st.HostIPs) != 1 || !st.StartTime.Equal(&earlier) {
		t.Fatalf("addresses: %+v", st)
	}
	b := st.ContainerStatuses[1]
	if b.RestartCount != 1 || b.LastTerminationState.Terminated.ExitCode != 137 || b.ContainerID != "process://42" || !*b.Started || !b.Ready {
		t.Fatalf("container status: %+v", b)
	}

	// A container waiting to be restarted keeps the pod Running (restartPolicy Always).
	s.Containers[1].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
	s.Containers[1].Ready = false
	if st := BuildStatus(pod, s, now); st.Phase != corev1.PodRunning || condition(st, corev1.PodReady).Status != corev1.ConditionFalse {
		t.Fatalf("restarting: phase %s", st.Phase)
	}

	// restartPolicy Never: all exited 0 is Succeeded, any failure is Failed.
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	done := func(code int32) corev1.ContainerState {
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}
	}
	s.Containers[0].State, s.Containers[1].State = done(0), done(0)
	if st := BuildStatus(pod, s, now); st.Phase != corev1.PodSucceeded {
		t.Fatalf("want Succeeded, got %s", st.Phase)
	}
	s.Containers[1].State = done(2)
	if st := BuildStatus(pod, s, now); st.Phase != corev1.PodFailed {
		t.Fatalf("want Failed, got %s", st.Phase)
	}

	// No sandbox yet: Pending.
	s.SandboxReady = false
	if st := BuildStatus(pod, s, now); st.Phase != corev1.PodPending || condition(st, corev1.PodReadyToStartContainers).Status != corev1.ConditionFalse {
		t.Fatalf("no sandbox: phase %s", st.Phase)
	}
}

func TestInitialStateAdoptsRestarts(t *testing.T) {
	now := metav1.Now()
	pod := &corev1.Pod{
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Image: "i"}, {Name: "b"}, {Name: "c"}}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{
			{Name: "a", RestartCount: 2, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}},
			{Name: "b", RestartCount: 1, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{}}},
			{Name: "c", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 143}}},
		}},
	}
	s := initialState(pod, now)
	if c := s.Containers[2]; c.RestartCount != 1 || c.LastState.Terminated == nil || c.LastState.Terminated.ExitCode != 143 {
		t.Fatalf("a container stopped with the agent counts one restart: %+v", c)
	}
	if s.Containers[0].RestartCount != 3 || s.Containers[0].LastState.Terminated == nil || s.Containers[0].Image != "i" {
		t.Fatalf("a running container counts one restart: %+v", s.Containers[0])
	}
	if s.Containers[1].RestartCount != 1 || s.Containers[1].State.Waiting == nil {
		t.Fatalf("b: %+v", s.Containers[1])
	}
}
