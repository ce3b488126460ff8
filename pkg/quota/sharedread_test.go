package quota

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSharedReadsNeverServeAReadOlderThanTheRequest: requests that arrive
// while a read runs do not take its result (it may predate what they must
// see); they share the next one.
func TestSharedReadsNeverServeAReadOlderThanTheRequest(t *testing.T) {
	var reads atomic.Int64
	release := make(chan struct{})
	started := make(chan int64, 10)
	s := newSharedReads(func(ctx context.Context, key string) (int64, error) {
		n := reads.Add(1)
		started <- n
		if n == 1 {
			<-release // the first read hangs until the others have arrived
		}
		return n, nil
	})
	ctx := context.Background()
	first := make(chan int64)
	go func() {
		v, _ := s.get(ctx, "tenant-a")
		first <- v
	}()
	<-started // read 1 is running

	const late = 5
	var wg sync.WaitGroup
	got := make([]int64, late)
	for i := range late {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = s.get(ctx, "tenant-a")
		}()
	}
	// Let the late requests queue behind read 1, then end it.
	time.Sleep(50 * time.Millisecond)
	close(release)
	if v := <-first; v != 1 {
		t.Errorf("the first request got read %d, want 1", v)
	}
	wg.Wait()
	for i, v := range got {
		if v < 2 {
			t.Errorf("late request %d got read %d, which began before it arrived", i, v)
		}
	}
	if n := reads.Load(); n != 2 {
		t.Errorf("%d reads for 1+%d requests, want 2 (one for the first, one shared by the late ones)", n, late)
	}
}

// TestSharedReadsAreByKey: namespaces do not share reads.
func TestSharedReadsAreByKey(t *testing.T) {
	s := newSharedReads(func(ctx context.Context, key string) (string, error) { return key, nil })
	for _, k := range []string{"tenant-a", "tenant-b", "tenant-a"} {
		if v, err := s.get(context.Background(), k); err != nil || v != k {
			t.Errorf("get(%s) = %q, %v", k, v, err)
		}
	}
}
