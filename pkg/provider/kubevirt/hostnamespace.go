package kubevirt

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/hikube/hikube/pkg/provider"
)

// removeHostNamespace deletes the cluster's host namespace once none of the
// cluster's pods in it is still stopping, and reports whether it is gone.
//
// The pods go first for speed, not correctness: the namespace controller,
// finding pods that are still terminating, looks again only after half
// their grace period (15 s of the default 30), twice, however soon they
// stop; with the pods already gone it removes the rest in one pass.
func removeHostNamespace(ctx context.Context, host kubernetes.Interface, c provider.ClusterRef, now time.Time) (bool, error) {
	ns := HostNamespace(c)
	if waiting, err := stopPods(ctx, host, c, clusterSelector(c), now); err != nil || waiting {
		return false, err
	}
	err := host.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("deleting host namespace %s: %w", ns, err)
	}
	_, err = host.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("reading host namespace %s: %w", ns, err)
	}
	return false, nil
}

// stopPods deletes the cluster's pods that selector matches and that are
// not terminating yet, and reports whether any of them is still stopping.
// Their workloads are deleted by then: the garbage collector would delete
// these pods too, but not on a schedule worth waiting for; and a
// ReplicaSet it has not reached yet may make a pod again, which the next
// call deletes in turn.
func stopPods(ctx context.Context, host kubernetes.Interface, c provider.ClusterRef, selector string, now time.Time) (bool, error) {
	pods, err := host.CoreV1().Pods(HostNamespace(c)).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("listing the pods of %s: %w", c, err)
	}
	waiting := false
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp == nil {
			err := host.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &p.UID}})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return false, fmt.Errorf("deleting pod %s/%s of %s: %w", p.Namespace, p.Name, c, err)
			}
			waiting = true
			continue
		}
		// One past its deadline sits on a node that will not confirm; the
		// namespace controller is no slower with it than this would be.
		if now.Before(p.DeletionTimestamp.Time) {
			waiting = true
		}
	}
	return waiting, nil
}

// runsControlPlane reports whether the cluster's host namespace has a
// control-plane pod that is not terminating: the namespace is then the
// control-plane half's to remove, after its own workloads.
func runsControlPlane(ctx context.Context, host kubernetes.Interface, c provider.ClusterRef) (bool, error) {
	pods, err := host.CoreV1().Pods(HostNamespace(c)).List(ctx, metav1.ListOptions{LabelSelector: clusterSelector(c) + "," + labelComponent})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("listing the control-plane pods of %s: %w", c, err)
	}
	for i := range pods.Items {
		if pods.Items[i].DeletionTimestamp == nil {
			return true, nil
		}
	}
	return false, nil
}
