package integration

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
)

const watchTimeout = 30 * time.Second

// seen is one watch event, reduced to what the tests compare.
type seen struct {
	typ  watch.EventType
	name string
	rv   string
}

// collect reads events from w until it has n of the given names' events or
// the timeout passes; bookmarks and other clusters' events are skipped.
func collect(t *testing.T, w watch.Interface, names map[string]bool, n int) []seen {
	t.Helper()
	var out []seen
	deadline := time.After(watchTimeout)
	for len(out) < n {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed after %d of %d events: %v", len(out), n, out)
			}
			if ev.Type == watch.Error {
				t.Fatalf("watch error: %v", apierrors.FromObject(ev.Object))
			}
			c, ok := ev.Object.(*v1alpha1.Cluster)
			if !ok || ev.Type == watch.Bookmark || !names[c.Name] {
				continue
			}
			out = append(out, seen{ev.Type, c.Name, c.ResourceVersion})
		case <-deadline:
			t.Fatalf("%d of %d events within %s: %v", len(out), n, watchTimeout, out)
		}
	}
	return out
}

func nameSet(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// TestWatchResumesAcrossAPIServerRestart watches clusters, kills
// hikube-apiserver with SIGKILL, writes again once it is back, and resumes
// the watch from the last resourceVersion it saw: every change after that
// point arrives exactly once, in order, and nothing before it again.
func TestWatchResumesAcrossAPIServerRestart(t *testing.T) {
	ctx := context.Background()
	cs := hikubeClient(t, "alice").AppsV1alpha1().Clusters(tenantA)
	names := nameSet("w-resume-a", "w-resume-b", "w-resume-c")
	list, err := cs.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cs.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	createCluster(t, "alice", tenantA, newCluster("w-resume-a"))
	createCluster(t, "alice", tenantA, newCluster("w-resume-b"))
	before := collect(t, w, names, 2)
	w.Stop()
	last := before[len(before)-1].rv

	if err := env.Platform.KillHikubeAPIServer(); err != nil {
		t.Fatalf("killing hikube-apiserver: %v", err)
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := env.Platform.StartHikubeAPIServer(rctx); err != nil {
		t.Fatalf("restarting hikube-apiserver: %v", err)
	}

	// Changes made while nobody watched.
	createCluster(t, "alice", tenantA, newCluster("w-resume-c"))
	if err := cs.Delete(ctx, "w-resume-a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	w, err = cs.Watch(ctx, metav1.ListOptions{ResourceVersion: last})
	if err != nil {
		t.Fatalf("resuming the watch from %s: %v", last, err)
	}
	defer w.Stop()
	after := collect(t, w, names, 2)
	want := []seen{{watch.Added, "w-resume-c", ""}, {watch.Deleted, "w-resume-a", ""}}
	for i := range want {
		if after[i].typ != want[i].typ || after[i].name != want[i].name {
			t.Fatalf("resumed events = %v, want %v", after, want)
		}
	}
	// Nothing more: no repeat of the events before the restart.
	select {
	case ev := <-w.ResultChan():
		if c, ok := ev.Object.(*v1alpha1.Cluster); ok && ev.Type != watch.Bookmark && names[c.Name] {
			t.Errorf("unexpected event after the resumed ones: %s %s rv %s", ev.Type, c.Name, c.ResourceVersion)
		}
	case <-time.After(2 * time.Second):
	}
}

// TestWatchFromATooOldResourceVersionIsGone asks for history compaction
// removed: the answer is 410 Gone, and a list then gives a resourceVersion
// a new watch accepts (what every reflector does).
func TestWatchFromATooOldResourceVersionIsGone(t *testing.T) {
	ctx := context.Background()
	cs := hikubeClient(t, "alice").AppsV1alpha1().Clusters(tenantA)
	w, err := cs.Watch(ctx, metav1.ListOptions{ResourceVersion: "1"})
	switch {
	case err != nil:
		if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
			t.Fatalf("watch from rv 1: %v, want 410 Gone", err)
		}
	default:
		select {
		case ev := <-w.ResultChan():
			st := apierrors.FromObject(ev.Object)
			if ev.Type != watch.Error || !(apierrors.IsResourceExpired(st) || apierrors.IsGone(st)) {
				t.Fatalf("watch from rv 1: first event %s %v, want an error with 410 Gone", ev.Type, st)
			}
			var status apierrors.APIStatus
			if s, ok := st.(apierrors.APIStatus); ok {
				status = s
			}
			if status == nil || status.Status().Code != http.StatusGone {
				t.Errorf("status %v, want code 410", st)
			}
		case <-time.After(watchTimeout):
			t.Fatal("no answer to a watch from rv 1")
		}
		w.Stop()
	}
	list, err := cs.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err = cs.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatalf("watch from the relisted rv %s: %v", list.ResourceVersion, err)
	}
	defer w.Stop()
	createCluster(t, "alice", tenantA, newCluster("w-gone"))
	collect(t, w, nameSet("w-gone"), 1)
}

// TestWatchListSendsTheInitialEventsThenABookmark: with sendInitialEvents
// and bookmarks, the server streams the current clusters and then the
// bookmark that marks their end, as client-go's WatchList expects.
func TestWatchListSendsTheInitialEventsThenABookmark(t *testing.T) {
	ctx := context.Background()
	createCluster(t, "alice", tenantA, newCluster("w-initial"))
	cs := hikubeClient(t, "alice").AppsV1alpha1().Clusters(tenantA)
	w, err := cs.Watch(ctx, metav1.ListOptions{
		SendInitialEvents:    ptr.To(true),
		ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan,
		AllowWatchBookmarks:  true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	sawInitial := false
	deadline := time.After(watchTimeout)
	for {
		select {
		case ev := <-w.ResultChan():
			c, _ := ev.Object.(*v1alpha1.Cluster)
			switch {
			case ev.Type == watch.Added && c != nil && c.Name == "w-initial":
				sawInitial = true
			case ev.Type == watch.Bookmark && c != nil && c.Annotations[metav1.InitialEventsAnnotationKey] == "true":
				if !sawInitial {
					t.Fatal("the initial-events bookmark came before the existing cluster w-initial")
				}
				if c.ResourceVersion == "" {
					t.Error("the bookmark carries no resourceVersion")
				}
				return
			case ev.Type == watch.Error:
				t.Fatalf("watch error: %v", apierrors.FromObject(ev.Object))
			}
		case <-deadline:
			t.Fatalf("no initial-events bookmark within %s (saw w-initial: %v)", watchTimeout, sawInitial)
		}
	}
}

// TestEveryDeleteIsDelivered deletes many clusters at once, with a watcher
// started before: a DELETED event arrives for each, never dropped.
func TestEveryDeleteIsDelivered(t *testing.T) {
	ctx := context.Background()
	admin := hikubeClient(t, "admin").AppsV1alpha1().Clusters(tenantB)
	const n = 20
	names := map[string]bool{}
	for i := range n {
		name := fmt.Sprintf("w-del-%02d", i)
		names[name] = true
		if _, err := admin.Create(ctx, newCluster(name), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := admin.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := admin.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var wg sync.WaitGroup
	for name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := admin.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
				t.Errorf("deleting %s: %v", name, err)
			}
		}()
	}
	wg.Wait()
	got := collect(t, w, names, n)
	deleted := map[string]int{}
	for _, e := range got {
		if e.typ == watch.Deleted {
			deleted[e.name]++
		}
	}
	for name := range names {
		if deleted[name] != 1 {
			t.Errorf("%s: %d DELETED events, want 1", name, deleted[name])
		}
	}
}

// TestPagedListIsOneSnapshotWhileClustersAreCreated lists in pages of 7
// while other clusters are being created: the pages together are exactly the
// clusters of the first page's resourceVersion, each once.
func TestPagedListIsOneSnapshotWhileClustersAreCreated(t *testing.T) {
	ctx := context.Background()
	admin := hikubeClient(t, "admin").AppsV1alpha1().Clusters(tenantB)
	existing := map[string]bool{}
	for i := range 25 {
		name := fmt.Sprintf("w-page-%02d", i)
		existing[name] = true
		createCluster(t, "admin", tenantB, newCluster(name))
	}
	first, err := admin.List(ctx, metav1.ListOptions{Limit: 7})
	if err != nil {
		t.Fatal(err)
	}
	snapshot, _ := strconv.ParseUint(first.ResourceVersion, 10, 64)

	// Writers race the rest of the pages.
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("w-late-%02d", i)
			if _, err := admin.Create(ctx, newCluster(name), metav1.CreateOptions{}); err != nil {
				t.Errorf("creating %s: %v", name, err)
				return
			}
			t.Cleanup(func() { deleteCluster(t, tenantB, name) })
		}()
	}
	items := first.Items
	cont := first.Continue
	for cont != "" {
		page, err := admin.List(ctx, metav1.ListOptions{Limit: 7, Continue: cont})
		if err != nil {
			t.Fatalf("next page: %v", err)
		}
		if page.ResourceVersion != first.ResourceVersion {
			t.Errorf("page resourceVersion %s, want the snapshot's %s", page.ResourceVersion, first.ResourceVersion)
		}
		items = append(items, page.Items...)
		cont = page.Continue
	}
	wg.Wait()

	var got []string
	count := map[string]int{}
	for _, c := range items {
		count[c.Name]++
		got = append(got, c.Name)
		if rv, _ := strconv.ParseUint(c.ResourceVersion, 10, 64); rv > snapshot {
			t.Errorf("%s has resourceVersion %d, newer than the snapshot %d", c.Name, rv, snapshot)
		}
	}
	sort.Strings(got)
	for name := range existing {
		if count[name] != 1 {
			t.Errorf("%s listed %d times, want once: %v", name, count[name], got)
		}
	}
	for name, n := range count {
		if n > 1 {
			t.Errorf("%s listed %d times", name, n)
		}
	}
}
