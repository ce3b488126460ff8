package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/test/harness"
)

// BenchmarkShutdown measures how long hikube-apiserver takes from SIGTERM to
// exit: "idle" with no request open, "watch" with a client watching
// clusters (as hikube-controller and the aggregator always do). Each
// iteration starts a server on the host's etcd (not timed) and stops it;
// run it with a small -benchtime (make bench uses 5x).
func BenchmarkShutdown(b *testing.B) {
	bin := filepath.Join(env.root, "_output", "bin")
	for _, variant := range []string{"idle", "watch"} {
		b.Run(variant, func(b *testing.B) {
			var total time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				name := fmt.Sprintf("bench-shutdown-%s-%d-%d", variant, i, time.Now().UnixNano())
				r, err := harness.StartReplica(env.platform, bin, "/hikube-bench-shutdown/"+name, name)
				if err != nil {
					b.Fatal(err)
				}
				if err := r.WaitServing(context.Background(), 90*time.Second); err != nil {
					_ = r.Stop(time.Second)
					b.Fatal(err)
				}
				if variant == "watch" {
					w, err := r.Hikube.AppsV1alpha1().Clusters("default").Watch(context.Background(), metav1.ListOptions{})
					if err != nil {
						b.Fatal(err)
					}
					defer w.Stop()
				}
				b.StartTimer()
				began := time.Now()
				if err := r.Proc.Signal(syscall.SIGTERM); err != nil {
					b.Fatal(err)
				}
				select {
				case <-r.Proc.Done():
				case <-time.After(90 * time.Second):
					b.Fatal("still running 90s after SIGTERM")
				}
				total += time.Since(began)
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/shutdown")
		})
	}
}
