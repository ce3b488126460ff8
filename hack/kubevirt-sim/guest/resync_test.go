package main

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

func vmi(name, rv, phase string) unstructured.Unstructured {
	u := unstructured.Unstructured{Object: map[string]any{"status": map[string]any{}}}
	u.SetNamespace("ns")
	u.SetName(name)
	u.SetUID(types.UID(name + "-uid"))
	u.SetResourceVersion(rv)
	if phase != "" {
		u.Object["status"] = map[string]any{"phase": phase}
	}
	return u
}

func names(us []*unstructured.Unstructured) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.GetName())
	}
	return out
}

// An unfinished object is stuck only when a second look finds it unchanged:
// one that moved on, finished, or is being deleted is left to kwok.
func TestStalledObjectsAreThoseUnchangedSinceThePreviousLook(t *testing.T) {
	done := statusIs("phase", "Running")
	s := stalls{}
	first := []unstructured.Unstructured{vmi("stalled", "1", ""), vmi("moving", "1", ""), vmi("running", "1", "Running"), vmi("deleting", "1", "")}
	now := metav1.Now()
	first[3].SetDeletionTimestamp(&now)
	if got := s.stuck(first, done); len(got) != 0 {
		t.Fatalf("first look: stuck %v, want none (nothing was seen before)", names(got))
	}
	second := []unstructured.Unstructured{vmi("stalled", "1", ""), vmi("moving", "2", ""), vmi("running", "1", "Running"), first[3], vmi("new", "1", "")}
	if got := names(s.stuck(second, done)); len(got) != 1 || got[0] != "stalled" {
		t.Fatalf("second look: stuck %v, want [stalled]", got)
	}
	// Touched, it changed: not stuck again until a look finds it unchanged.
	third := []unstructured.Unstructured{vmi("stalled", "3", ""), vmi("moving", "2", "Running"), vmi("new", "1", "")}
	if got := names(s.stuck(third, done)); len(got) != 1 || got[0] != "new" {
		t.Fatalf("third look: stuck %v, want [new]", got)
	}
	// An object gone and made again under the same name is a new one.
	fourth := []unstructured.Unstructured{vmi("stalled", "3", "")}
	fourth[0].SetUID("other")
	if got := s.stuck(fourth, done); len(got) != 0 {
		t.Fatalf("fourth look: stuck %v, want none", names(got))
	}
}
