package printers

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/printers"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/plugin/pkg/clusterspec"
)

// Style colours words when the output is a terminal that allows it.
type Style struct{ Color bool }

func (s Style) paint(code, text string) string {
	if !s.Color {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

// Good, Bad and Warn colour a word green, red and yellow.
func (s Style) Good(t string) string { return s.paint("32", t) }
func (s Style) Bad(t string) string  { return s.paint("31", t) }
func (s Style) Warn(t string) string { return s.paint("33", t) }
func (s Style) Bold(t string) string { return s.paint("1", t) }

func (s Style) phase(p string) string {
	switch p {
	case string(v1alpha1.ClusterReady):
		return s.Good(p)
	case string(v1alpha1.ClusterFailed):
		return s.Bad(p)
	}
	return s.Warn(p)
}

// Status prints the status page of one cluster (cnpg style): a summary, the
// node groups, the add-ons, the conditions, recent events and, when
// something is not right, the next command to run.
func Status(out io.Writer, c *v1alpha1.Cluster, events []corev1.Event, now time.Time, st Style) error {
	w := printers.GetNewTabWriter(out)
	ready, desired := Nodes(c)
	fmt.Fprintf(w, "%s\n", st.Bold("Cluster Summary"))
	fmt.Fprintf(w, "Name:\t%s/%s\n", c.Namespace, c.Name)
	fmt.Fprintf(w, "Phase:\t%s\n", st.phase(phase(c)))
	version := orDash(c.Spec.Version)
	if c.Status.Version != "" && c.Status.Version != c.Spec.Version {
		version += fmt.Sprintf(" (running %s)", c.Status.Version)
	}
	fmt.Fprintf(w, "Version:\t%s\n", version)
	fmt.Fprintf(w, "Endpoint:\t%s\n", orDash(c.Status.Endpoint))
	fmt.Fprintf(w, "Control plane:\t%d/%d ready (preset %s)\n", c.Status.ControlPlane.ReadyReplicas, i32(c.Spec.ControlPlane.Replicas), orDash(c.Spec.ControlPlane.ResourcesPreset))
	fmt.Fprintf(w, "Nodes:\t%d/%d ready\n", ready, desired)
	if gr, gm := GPUs(c); gm > 0 {
		fmt.Fprintf(w, "GPUs:\t%d on ready nodes, up to %d at max size\n", gr, gm)
	}
	fmt.Fprintf(w, "Storage class:\t%s\n", orDash(c.Spec.StorageClass))
	fmt.Fprintf(w, "Generation:\t%d (observed %d)\n", c.Generation, c.Status.ObservedGeneration)
	fmt.Fprintf(w, "Age:\t%s\n", Age(c.CreationTimestamp.Time, now))
	if err := w.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(out, "\n%s\n", st.Bold("Node Groups"))
	if len(c.Spec.NodeGroups) == 0 {
		fmt.Fprintln(out, "No node groups: add one with `kubectl hikube nodegroup add "+c.Name+" --node-group name=workers,...`.")
	} else if err := NodeGroupsTable(out, c); err != nil {
		return err
	}

	fmt.Fprintf(out, "\n%s\n", st.Bold("Add-ons"))
	if err := addonsTable(out, c, st); err != nil {
		return err
	}

	fmt.Fprintf(out, "\n%s\n", st.Bold("Conditions"))
	if err := conditionsTable(out, c.Status.Conditions, now, st); err != nil {
		return err
	}

	if len(events) > 0 {
		fmt.Fprintf(out, "\n%s\n", st.Bold("Recent Events"))
		SortEvents(events)
		if len(events) > 10 {
			events = events[len(events)-10:]
		}
		if err := EventsTable(out, events, now, true); err != nil {
			return err
		}
	}

	if hints := NextSteps(c); len(hints) > 0 {
		fmt.Fprintf(out, "\n%s\n", st.Bold("Next"))
		for _, h := range hints {
			fmt.Fprintf(out, "  %s\n", h)
		}
	}
	return nil
}

func addonsTable(out io.Writer, c *v1alpha1.Cluster, st Style) error {
	w := printers.GetNewTabWriter(out)
	row(w, "NAME", "ENABLED", "STATE", "MESSAGE")
	any := false
	for _, key := range catalog.Addons {
		enabled, set := clusterspec.AddonEnabled(&c.Spec.Addons, key)
		s, reported := c.Status.Addons[key]
		if !set && !reported {
			continue
		}
		any = true
		state := "-"
		if reported {
			state = string(s.State)
			switch s.State {
			case v1alpha1.AddonReady:
				state = st.Good(state)
			case v1alpha1.AddonFailed:
				state = st.Bad(state)
			default:
				state = st.Warn(state)
			}
		}
		row(w, clusterspec.AddonFlagName(key), fmt.Sprint(enabled), state, orDash(s.Message))
	}
	if !any {
		fmt.Fprintln(out, "No add-ons enabled.")
		return nil
	}
	return w.Flush()
}

var conditionOrder = []string{v1alpha1.ConditionReady, v1alpha1.ConditionControlPlaneReady, v1alpha1.ConditionNodeGroupsReady, v1alpha1.ConditionAddonsReady}

func conditionsTable(out io.Writer, conds []metav1.Condition, now time.Time, st Style) error {
	if len(conds) == 0 {
		fmt.Fprintln(out, "None reported yet: the controller has not seen this cluster.")
		return nil
	}
	sorted := append([]metav1.Condition(nil), conds...)
	rank := func(t string) int {
		for i, o := range conditionOrder {
			if o == t {
				return i
			}
		}
		return len(conditionOrder)
	}
	sort.SliceStable(sorted, func(i, j int) bool { return rank(sorted[i].Type) < rank(sorted[j].Type) })
	w := printers.GetNewTabWriter(out)
	row(w, "TYPE", "STATUS", "REASON", "AGE", "MESSAGE")
	for _, cd := range sorted {
		status := string(cd.Status)
		if cd.Status == metav1.ConditionTrue {
			status = st.Good(status)
		} else {
			status = st.Bad(status)
		}
		row(w, cd.Type, status, orDash(cd.Reason), Age(cd.LastTransitionTime.Time, now), orDash(cd.Message))
	}
	return w.Flush()
}

// NextSteps says what to run when the cluster is not ready, or how to use it
// when it is.
func NextSteps(c *v1alpha1.Cluster) []string {
	ns := ""
	if c.Namespace != "" {
		ns = " -n " + c.Namespace
	}
	if c.DeletionTimestamp != nil {
		return []string{fmt.Sprintf("The cluster is being deleted; follow it with `kubectl hikube wait %s%s --for=delete`.", c.Name, ns)}
	}
	readyCond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionReady)
	if readyCond != nil && readyCond.Status == metav1.ConditionTrue && c.Status.ObservedGeneration >= c.Generation {
		return []string{fmt.Sprintf("kubectl hikube kubeconfig %s%s --merge --switch   # then: kubectl get nodes", c.Name, ns)}
	}
	var out []string
	if c.Status.ObservedGeneration < c.Generation {
		out = append(out, "The controller has not acted on the latest spec yet.")
	}
	for _, cd := range c.Status.Conditions {
		if cd.Type != v1alpha1.ConditionReady && cd.Status != metav1.ConditionTrue && cd.Message != "" {
			out = append(out, fmt.Sprintf("%s is %s (%s): %s", cd.Type, cd.Status, cd.Reason, cd.Message))
		}
	}
	for _, key := range catalog.Addons {
		if s, ok := c.Status.Addons[key]; ok && s.State == v1alpha1.AddonFailed {
			out = append(out, fmt.Sprintf("Add-on %s failed: %s", clusterspec.AddonFlagName(key), orDash(s.Message)))
		}
	}
	out = append(out,
		fmt.Sprintf("kubectl hikube wait %s%s            # follow it until Ready", c.Name, ns),
		fmt.Sprintf("kubectl hikube events %s%s --watch  # what the controller does", c.Name, ns))
	return out
}

// Progress is the one-line summary printed while waiting: phase, control
// plane, each node group's ready/desired and the add-ons not ready yet.
func Progress(c *v1alpha1.Cluster) string {
	parts := []string{"phase " + phase(c)}
	parts = append(parts, fmt.Sprintf("control plane %d/%d", c.Status.ControlPlane.ReadyReplicas, i32(c.Spec.ControlPlane.Replicas)))
	for _, n := range SortedGroups(c) {
		s := c.Status.NodeGroups[n]
		parts = append(parts, fmt.Sprintf("%s %d/%d", n, s.ReadyReplicas, s.DesiredReplicas))
	}
	var waiting []string
	for _, key := range catalog.Addons {
		if s, ok := c.Status.Addons[key]; ok && s.State != v1alpha1.AddonReady {
			waiting = append(waiting, clusterspec.AddonFlagName(key)+" "+string(s.State))
		}
	}
	if len(waiting) > 0 {
		parts = append(parts, "add-ons: "+strings.Join(waiting, ", "))
	}
	return strings.Join(parts, ", ")
}
