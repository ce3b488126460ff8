package provisioning

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

var clustersGVR = schema.GroupVersionResource{Group: "apps.hikube.io", Version: "v1alpha1", Resource: "clusters"}

// watchFrom opens a watch that survives server-side closes (a RetryWatcher)
// from resourceVersion rv, which must come from a list.
func watchFrom(ctx context.Context, rv string, w func(context.Context, metav1.ListOptions) (watch.Interface, error)) (watch.Interface, error) {
	return watchtools.NewRetryWatcherWithContext(ctx, rv, &cache.ListWatch{WatchFuncWithContext: w})
}

// watchClusters watches the clusters of ns from now on.
func watchClusters(ctx context.Context, dyn dynamic.Interface, ns string) (watch.Interface, error) {
	c := dyn.Resource(clustersGVR).Namespace(ns)
	l, err := c.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	return watchFrom(ctx, l.GetResourceVersion(), func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		return c.Watch(ctx, o)
	})
}

// conditionTrue reports whether the cluster's condition typ is True.
func conditionTrue(u *unstructured.Unstructured, typ string) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == typ {
			return m["status"] == "True"
		}
	}
	return false
}

// next returns the next event of w about the object called name, or an
// error at the deadline or when the watch ends.
func next(ctx context.Context, w watch.Interface, name string, deadline time.Time) (watch.Event, time.Time, error) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-w.ResultChan():
			now := time.Now()
			if !ok {
				return watch.Event{}, now, fmt.Errorf("watch closed")
			}
			if ev.Type == watch.Error {
				return ev, now, fmt.Errorf("watch error: %v", ev.Object)
			}
			if o, ok := ev.Object.(metav1.Object); ok && o.GetName() == name {
				return ev, now, nil
			}
		case <-timer.C:
			return watch.Event{}, time.Now(), fmt.Errorf("timed out")
		case <-ctx.Done():
			return watch.Event{}, time.Now(), ctx.Err()
		}
	}
}
