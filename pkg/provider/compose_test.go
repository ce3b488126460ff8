package provider

import (
	"context"
	"testing"

	"k8s.io/client-go/rest"
)

type recorder struct {
	calls     *[]string
	nodesDone bool
}

func (r recorder) Name() string { return "fake" }
func (r recorder) EnsureControlPlane(context.Context, ClusterRef, ControlPlaneSpec) (ControlPlaneStatus, error) {
	*r.calls = append(*r.calls, "cp.ensure")
	return ControlPlaneStatus{}, nil
}
func (r recorder) AdminConfig(context.Context, ClusterRef) (*rest.Config, error) { return nil, nil }
func (r recorder) JoinEndpoint(context.Context, ClusterRef) (string, []byte, string, error) {
	return "", nil, "", nil
}
func (r recorder) Delete(context.Context, ClusterRef) (bool, error) {
	*r.calls = append(*r.calls, "cp.delete")
	return true, nil
}
func (r recorder) EnsureNodes(context.Context, ClusterRef, []NodeSpec) ([]NodeStatus, error) {
	*r.calls = append(*r.calls, "nodes.ensure")
	return nil, nil
}
func (r recorder) ListNodes(context.Context, ClusterRef) ([]NodeStatus, error) { return nil, nil }
func (r recorder) DeleteNodes(context.Context, ClusterRef) (bool, error) {
	*r.calls = append(*r.calls, "nodes.delete")
	return r.nodesDone, nil
}

func TestComposeDeletesWorkersBeforeTheControlPlane(t *testing.T) {
	var calls []string
	p := Compose(recorder{calls: &calls}, recorder{calls: &calls, nodesDone: false})
	done, err := p.Delete(context.Background(), ClusterRef{})
	if err != nil || done {
		t.Fatalf("Delete with nodes still going = %v, %v; want not done", done, err)
	}
	if len(calls) != 1 || calls[0] != "nodes.delete" {
		t.Errorf("calls = %v: the control plane went before its nodes", calls)
	}

	calls = nil
	p = Compose(recorder{calls: &calls}, recorder{calls: &calls, nodesDone: true})
	if done, err := p.Delete(context.Background(), ClusterRef{}); err != nil || !done {
		t.Fatalf("Delete = %v, %v", done, err)
	}
	if len(calls) != 2 || calls[0] != "nodes.delete" || calls[1] != "cp.delete" {
		t.Errorf("calls = %v, want nodes.delete then cp.delete", calls)
	}
	if _, err := p.EnsureNodes(context.Background(), ClusterRef{}, nil); err != nil || calls[2] != "nodes.ensure" {
		t.Errorf("EnsureNodes did not go to the worker half: %v", calls)
	}
	if p.Name() != "fake+fake" {
		t.Errorf("Name = %q", p.Name())
	}
}
