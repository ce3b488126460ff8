// Package edit changes a live cluster the way kubectl-hikube's verbs do:
// server-side apply with field manager kubectl-hikube of exactly the fields a
// verb is about. It extracts what the manager already owns (client-go's
// Extract pattern), changes the fields asked, checks the result with the
// API's validation, and applies it with force (the user asked for this very
// field). Removals use a JSON merge patch, since apply can only drop fields
// its manager alone owns.
package edit

import (
	"context"
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	applyv1alpha1 "github.com/hikube/hikube/pkg/generated/applyconfiguration/apps/v1alpha1"
	typedv1alpha1 "github.com/hikube/hikube/pkg/generated/clientset/versioned/typed/apps/v1alpha1"
	"github.com/hikube/hikube/plugin/pkg/clusterspec"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
)

// FieldManager is the field manager of every write of kubectl-hikube.
const FieldManager = "kubectl-hikube"

// Edit is one change: on the typed object (to validate the result) and on
// the apply configuration (what is sent).
type Edit struct {
	Typed func(*v1alpha1.Cluster) error
	Apply func(obj map[string]any) error
	// Remove, when set, is a JSON merge patch sent instead of an apply.
	Remove map[string]any
}

// Options of Run.
type Options struct {
	DryRun bool // server-side dry run
}

// Run applies the edits to live and returns the cluster the server answered.
func Run(ctx context.Context, client typedv1alpha1.ClusterInterface, live *v1alpha1.Cluster, o Options, edits ...Edit) (*v1alpha1.Cluster, error) {
	desired := live.DeepCopy()
	for _, e := range edits {
		if err := e.Typed(desired); err != nil {
			return nil, err
		}
	}
	if err := clusterspec.Validate(desired, live); err != nil {
		return nil, exitcode.Wrap(exitcode.Usage, err)
	}
	var dryRun []string
	if o.DryRun {
		dryRun = []string{metav1.DryRunAll}
	}
	var removals []map[string]any
	owned, err := Owned(live)
	if err != nil {
		return nil, err
	}
	applyNeeded := false
	for _, e := range edits {
		if e.Remove != nil {
			removals = append(removals, e.Remove)
			continue
		}
		applyNeeded = true
		if err := e.Apply(owned); err != nil {
			return nil, err
		}
	}
	result := live
	for _, patch := range removals {
		body, err := json.Marshal(patch)
		if err != nil {
			return nil, err
		}
		result, err = client.Patch(ctx, live.Name, types.MergePatchType, body, metav1.PatchOptions{FieldManager: FieldManager, DryRun: dryRun})
		if err != nil {
			return nil, err
		}
	}
	if applyNeeded {
		body, err := json.Marshal(owned)
		if err != nil {
			return nil, err
		}
		result, err = client.Patch(ctx, live.Name, types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: FieldManager, Force: ptr.To(true), DryRun: dryRun})
		if err != nil {
			return nil, err
		}
	}
	return result, nil
}

// Owned is the apply configuration of the fields kubectl-hikube owns in live,
// as a JSON object.
func Owned(live *v1alpha1.Cluster) (map[string]any, error) {
	ac, err := applyv1alpha1.ExtractCluster(live, FieldManager)
	if err != nil {
		return nil, fmt.Errorf("reading the fields %s owns in cluster %s: %w", FieldManager, live.Name, err)
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ac)
	if err != nil {
		return nil, err
	}
	obj["apiVersion"] = v1alpha1.SchemeGroupVersion.String()
	obj["kind"] = "Cluster"
	return obj, nil
}

func groupOf(c *v1alpha1.Cluster, name string) (v1alpha1.NodeGroup, error) {
	g, ok := c.Spec.NodeGroups[name]
	if !ok {
		return g, notFoundGroup(c, name)
	}
	return g, nil
}

// Scale sets a node group's bounds; nil leaves a bound as it is.
func Scale(group string, min, max *int32) Edit {
	return Edit{
		Typed: func(c *v1alpha1.Cluster) error {
			g, err := groupOf(c, group)
			if err != nil {
				return err
			}
			if min != nil {
				g.MinReplicas = ptr.To(*min)
			}
			if max != nil {
				g.MaxReplicas = ptr.To(*max)
			}
			c.Spec.NodeGroups[group] = g
			return nil
		},
		Apply: func(obj map[string]any) error {
			if min != nil {
				if err := unstructured.SetNestedField(obj, int64(*min), "spec", "nodeGroups", group, "minReplicas"); err != nil {
					return err
				}
			}
			if max != nil {
				return unstructured.SetNestedField(obj, int64(*max), "spec", "nodeGroups", group, "maxReplicas")
			}
			return nil
		},
	}
}

// SetGPUs replaces a node group's GPU entries; none removes them.
func SetGPUs(group string, gpus []v1alpha1.GPU) Edit {
	e := Edit{
		Typed: func(c *v1alpha1.Cluster) error {
			g, err := groupOf(c, group)
			if err != nil {
				return err
			}
			g.GPUs = gpus
			c.Spec.NodeGroups[group] = g
			return nil
		},
		Apply: func(obj map[string]any) error {
			list := make([]any, 0, len(gpus))
			for _, g := range gpus {
				list = append(list, map[string]any{"name": g.Name})
			}
			return unstructured.SetNestedSlice(obj, list, "spec", "nodeGroups", group, "gpus")
		},
	}
	if len(gpus) == 0 {
		e.Remove = map[string]any{"spec": map[string]any{"nodeGroups": map[string]any{group: map[string]any{"gpus": nil}}}}
	}
	return e
}

// AddNodeGroup adds a node group; it must not exist yet.
func AddNodeGroup(name string, g v1alpha1.NodeGroup) Edit {
	return Edit{
		Typed: func(c *v1alpha1.Cluster) error {
			if _, ok := c.Spec.NodeGroups[name]; ok {
				return fmt.Errorf("cluster %s already has a node group %q; change it with `kubectl hikube scale` or `kubectl hikube gpu attach`", c.Name, name)
			}
			if c.Spec.NodeGroups == nil {
				c.Spec.NodeGroups = map[string]v1alpha1.NodeGroup{}
			}
			c.Spec.NodeGroups[name] = g
			return nil
		},
		Apply: func(obj map[string]any) error {
			m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&g)
			if err != nil {
				return err
			}
			return unstructured.SetNestedMap(obj, m, "spec", "nodeGroups", name)
		},
	}
}

// DeleteNodeGroup removes a node group.
func DeleteNodeGroup(name string) Edit {
	return Edit{
		Typed: func(c *v1alpha1.Cluster) error {
			if _, err := groupOf(c, name); err != nil {
				return err
			}
			delete(c.Spec.NodeGroups, name)
			return nil
		},
		Remove: map[string]any{"spec": map[string]any{"nodeGroups": map[string]any{name: nil}}},
	}
}

// SetAddon switches an add-on (spec key) on or off.
func SetAddon(key string, enabled bool) Edit {
	return Edit{
		Typed: func(c *v1alpha1.Cluster) error {
			clusterspec.SetAddon(&c.Spec.Addons, key, enabled)
			return nil
		},
		Apply: func(obj map[string]any) error {
			return unstructured.SetNestedField(obj, enabled, "spec", "addons", key, "enabled")
		},
	}
}

// SetVersion sets the Kubernetes minor.
func SetVersion(v string) Edit {
	return Edit{
		Typed: func(c *v1alpha1.Cluster) error {
			c.Spec.Version = v
			return nil
		},
		Apply: func(obj map[string]any) error {
			return unstructured.SetNestedField(obj, v, "spec", "version")
		},
	}
}
