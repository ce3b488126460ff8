package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	rspb "helm.sh/helm/v4/pkg/release/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// workloadRef is a Deployment, DaemonSet or StatefulSet of a release.
type workloadRef struct{ kind, namespace, name string }

func (w workloadRef) String() string { return w.kind + " " + w.namespace + "/" + w.name }

// workloadsOf lists the workloads of a release's manifest.
func workloadsOf(rel *rspb.Release) []workloadRef {
	var out []workloadRef
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(rel.Manifest)), 4096)
	for {
		var obj struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := dec.Decode(&obj); err != nil {
			if !errors.Is(err, io.EOF) {
				continue
			}
			return out
		}
		switch obj.Kind {
		case "Deployment", "DaemonSet", "StatefulSet":
			ns := obj.Metadata.Namespace
			if ns == "" {
				ns = rel.Namespace
			}
			out = append(out, workloadRef{kind: obj.Kind, namespace: ns, name: obj.Metadata.Name})
		}
	}
}

// unavailable says which workloads are not available yet ("" when all are),
// from their status: one read each, no waiting.
func unavailable(ctx context.Context, s *state, refs []workloadRef) (string, error) {
	apps := s.tenant.kube.AppsV1()
	var waiting []string
	for _, w := range refs {
		var ok bool
		var err error
		switch w.kind {
		case "Deployment":
			d, e := apps.Deployments(w.namespace).Get(ctx, w.name, metav1.GetOptions{})
			err = e
			if e == nil {
				want := int32(1)
				if d.Spec.Replicas != nil {
					want = *d.Spec.Replicas
				}
				ok = d.Status.ObservedGeneration >= d.Generation && d.Status.AvailableReplicas >= want
			}
		case "DaemonSet":
			d, e := apps.DaemonSets(w.namespace).Get(ctx, w.name, metav1.GetOptions{})
			err = e
			if e == nil {
				ok = d.Status.ObservedGeneration >= d.Generation && d.Status.NumberAvailable >= d.Status.DesiredNumberScheduled
			}
		case "StatefulSet":
			d, e := apps.StatefulSets(w.namespace).Get(ctx, w.name, metav1.GetOptions{})
			err = e
			if e == nil {
				want := int32(1)
				if d.Spec.Replicas != nil {
					want = *d.Spec.Replicas
				}
				ok = d.Status.ObservedGeneration >= d.Generation && d.Status.AvailableReplicas >= want
			}
		}
		if apierrors.IsNotFound(err) {
			waiting = append(waiting, w.String()+" missing")
			continue
		}
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", w, err)
		}
		if !ok {
			waiting = append(waiting, w.String())
		}
	}
	if len(waiting) == 0 {
		return "", nil
	}
	return "not available yet: " + strings.Join(waiting, ", "), nil
}
