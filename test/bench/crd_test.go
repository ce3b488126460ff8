package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
)

// The CRD twin of clusters.apps.hikube.io.
const (
	crdGroup = "bench.hikube.io"
	crdName  = "clusters." + crdGroup
	// clusterDefinition is the name of our Cluster in the OpenAPI v3 document
	// of apps.hikube.io/v1alpha1.
	clusterDefinition = "io.hikube.apps.v1alpha1.Cluster"
	openAPIPath       = "/openapi/v3/apis/apps.hikube.io/v1alpha1"
	refPrefix         = "#/components/schemas/"
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// fetchClusterSchema reads our OpenAPI v3 document through kube-apiserver and
// turns the Cluster definition into an inline structural schema
// (JSONSchemaProps as a map). It also returns the definitions it inlined.
func fetchClusterSchema(ctx context.Context) (map[string]any, []string, error) {
	raw, err := env.kube.Discovery().RESTClient().Get().AbsPath(openAPIPath).DoRaw(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", openAPIPath, err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, nil, fmt.Errorf("decoding %s: %w", openAPIPath, err)
	}
	root, ok := doc.Components.Schemas[clusterDefinition]
	if !ok {
		var names []string
		for n := range doc.Components.Schemas {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, nil, fmt.Errorf("%s has no %s; it has %s", openAPIPath, clusterDefinition, strings.Join(names, ", "))
	}
	c := &converter{defs: doc.Components.Schemas, used: map[string]bool{}}
	s, err := c.convert(root, 0)
	if err != nil {
		return nil, nil, err
	}
	// At the root only apiVersion, kind, metadata, spec and status; metadata
	// is an opaque object (kube-apiserver validates ObjectMeta itself).
	props, _ := s["properties"].(map[string]any)
	if props == nil {
		return nil, nil, fmt.Errorf("%s has no properties", clusterDefinition)
	}
	props["metadata"] = map[string]any{"type": "object"}
	delete(s, "required")
	var used []string
	for n := range c.used {
		used = append(used, n)
	}
	sort.Strings(used)
	return s, used, nil
}

type converter struct {
	defs map[string]map[string]any
	used map[string]bool
}

// keep are the OpenAPI keys a CRD's JSONSchemaProps accepts and we carry
// over; everything else (default, oneOf/anyOf, x-kubernetes-patch-*,
// x-kubernetes-group-version-kind, example, ...) is dropped.
var keep = map[string]bool{
	"type": true, "format": true, "description": true, "required": true, "enum": true, "nullable": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true, "multipleOf": true,
	"minLength": true, "maxLength": true, "pattern": true, "minItems": true, "maxItems": true,
	"minProperties": true, "maxProperties": true,
	"x-kubernetes-list-type": true, "x-kubernetes-list-map-keys": true, "x-kubernetes-map-type": true,
	"x-kubernetes-int-or-string": true, "x-kubernetes-preserve-unknown-fields": true,
	"x-kubernetes-embedded-resource": true,
}

// wellKnown are the apimachinery types a CRD spells differently.
func wellKnown(name string) map[string]any {
	switch {
	case strings.HasSuffix(name, ".apis.meta.v1.ObjectMeta"):
		return map[string]any{"type": "object"}
	case strings.HasSuffix(name, ".api.resource.Quantity"):
		return map[string]any{"x-kubernetes-int-or-string": true}
	case strings.HasSuffix(name, ".pkg.runtime.RawExtension"):
		return map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}
	case strings.HasSuffix(name, ".apis.meta.v1.Time"), strings.HasSuffix(name, ".apis.meta.v1.MicroTime"):
		return map[string]any{"type": "string", "format": "date-time"}
	}
	return nil
}

func (c *converter) convert(in map[string]any, depth int) (map[string]any, error) {
	if depth > 32 {
		return nil, fmt.Errorf("schema too deep (recursive type?)")
	}
	out := map[string]any{}
	// $ref and allOf: [{$ref}] are resolved first; sibling keys (description
	// and the like) win over the referenced definition's.
	var bases []map[string]any
	if ref, ok := in["$ref"].(string); ok {
		bases = append(bases, map[string]any{"$ref": ref})
	}
	if all, ok := in["allOf"].([]any); ok {
		for _, a := range all {
			if m, ok := a.(map[string]any); ok {
				bases = append(bases, m)
			}
		}
	}
	for _, b := range bases {
		var resolved map[string]any
		if ref, ok := b["$ref"].(string); ok {
			name := strings.TrimPrefix(ref, refPrefix)
			c.used[name] = true
			if wk := wellKnown(name); wk != nil {
				resolved = wk
			} else {
				def, ok := c.defs[name]
				if !ok {
					return nil, fmt.Errorf("unresolved $ref %s", ref)
				}
				r, err := c.convert(def, depth+1)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				resolved = r
			}
		} else {
			r, err := c.convert(b, depth+1)
			if err != nil {
				return nil, err
			}
			resolved = r
		}
		for k, v := range resolved {
			out[k] = v
		}
	}
	for k, v := range in {
		switch k {
		case "properties":
			props := map[string]any{}
			for name, p := range v.(map[string]any) {
				cp, err := c.convert(p.(map[string]any), depth+1)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				props[name] = cp
			}
			out["properties"] = props
		case "items":
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("items is not a schema")
			}
			cp, err := c.convert(m, depth+1)
			if err != nil {
				return nil, fmt.Errorf("items: %w", err)
			}
			out["items"] = cp
		case "additionalProperties":
			switch ap := v.(type) {
			case map[string]any:
				cp, err := c.convert(ap, depth+1)
				if err != nil {
					return nil, fmt.Errorf("additionalProperties: %w", err)
				}
				out["additionalProperties"] = cp
			case bool:
				if ap {
					out["x-kubernetes-preserve-unknown-fields"] = true
				}
			}
		default:
			if keep[k] {
				out[k] = v
			}
		}
	}
	// A structural schema needs a type everywhere except on int-or-string
	// and preserve-unknown-fields nodes.
	if _, ok := out["type"]; !ok && out["x-kubernetes-int-or-string"] != true {
		if _, ok := out["properties"]; ok {
			out["type"] = "object"
		} else if _, ok := out["additionalProperties"]; ok {
			out["type"] = "object"
		} else if _, ok := out["items"]; ok {
			out["type"] = "array"
		} else {
			out["type"] = "object"
			out["x-kubernetes-preserve-unknown-fields"] = true
		}
	}
	// A CRD forbids uniqueItems and a set/map list needs its keys required;
	// we keep the list types as they come and let kube-apiserver judge.
	return out, nil
}

// clusterCRD is the CustomResourceDefinition of clusters.bench.hikube.io with
// the given schema and the status subresource.
func clusterCRD(openAPISchema map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": crdName},
		"spec": map[string]any{
			"group": crdGroup,
			"scope": "Namespaced",
			"names": map[string]any{
				"plural":   "clusters",
				"singular": "cluster",
				"kind":     "Cluster",
				"listKind": "ClusterList",
			},
			"versions": []any{map[string]any{
				"name":         "v1alpha1",
				"served":       true,
				"storage":      true,
				"schema":       map[string]any{"openAPIV3Schema": openAPISchema},
				"subresources": map[string]any{"status": map[string]any{}},
			}},
		},
	}}
}

// installCRD creates the CRD (or reuses it) and waits until it is
// Established and its resource answers.
func installCRD(ctx context.Context) ([]string, error) {
	s, used, err := fetchClusterSchema(ctx)
	if err != nil {
		return nil, err
	}
	_, err = env.dyn.Resource(crdGVR).Create(ctx, clusterCRD(s), metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("creating CRD %s: %w", crdName, err)
	}
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		crd, err := env.dyn.Resource(crdGVR).Get(ctx, crdName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("waiting for CRD %s to be Established: %w", crdName, err)
	}
	// Established can precede the handler by a moment.
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := env.dyn.Resource(backends[1].gvr).Namespace(nsSmall).List(ctx, metav1.ListOptions{Limit: 1})
		return err == nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("waiting for %s to be served: %w", crdName, err)
	}
	return used, nil
}
