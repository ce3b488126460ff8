package integration

import (
	"context"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// TestSIGTERMEndsWatchesAndExits: hikube-apiserver, sent SIGTERM while a
// client watches clusters (as hikube-controller and the aggregator always
// do), ends the watch cleanly (the stream closes without an error event)
// and exits with status 0. How fast is a benchmark's business
// (test/bench, BenchmarkShutdown).
func TestSIGTERMEndsWatchesAndExits(t *testing.T) {
	r := startReplicas(t, 1)[0]
	w, err := r.Hikube.AppsV1alpha1().Clusters("tenant-a").Watch(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for ev := range w.ResultChan() {
		if ev.Type == watch.Error {
			t.Errorf("the watch got an error event at shutdown: %v", ev.Object)
		}
	}
	select {
	case <-r.Proc.Done():
	case <-time.After(60 * time.Second):
		t.Fatal("hikube-apiserver still running 60s after SIGTERM")
	}
	if err := r.Proc.Err(); err != nil {
		t.Errorf("hikube-apiserver exited with %v after SIGTERM, want status 0", err)
	}
}
