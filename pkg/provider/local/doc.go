// Package local is the provider that runs tenant control planes as local
// processes (etcd, kube-apiserver replicas, kube-controller-manager,
// kube-scheduler) under a state directory, and simulates worker nodes with
// kwok. It is what `make run` embeds.
//
// Processes are started in their own session without a parent-death signal,
// so they outlive the controller; their pid, start time and binary are kept
// in pid files, and a new controller adopts the live ones and restarts the
// dead ones. EnsureControlPlane never waits for a process to become ready: it
// starts what is missing, reports what it sees, and is called again.
package local
