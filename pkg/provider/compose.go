package provider

import (
	"context"

	"k8s.io/client-go/rest"
)

// ControlPlanes runs tenant control planes: the half of a provider that
// EnsureControlPlane, AdminConfig and the join endpoint belong to.
type ControlPlanes interface {
	Name() string
	EnsureControlPlane(ctx context.Context, c ClusterRef, spec ControlPlaneSpec) (ControlPlaneStatus, error)
	AdminConfig(ctx context.Context, c ClusterRef) (*rest.Config, error)
	// JoinEndpoint is where worker machines reach the tenant API (host:port),
	// the CA that serves it (PEM), and the minor it runs.
	JoinEndpoint(ctx context.Context, c ClusterRef) (endpoint string, caPEM []byte, minor string, err error)
	// Delete removes the control plane and its state.
	Delete(ctx context.Context, c ClusterRef) (done bool, err error)
}

// Workers runs worker nodes: the other half.
type Workers interface {
	Name() string
	EnsureNodes(ctx context.Context, c ClusterRef, nodes []NodeSpec) ([]NodeStatus, error)
	ListNodes(ctx context.Context, c ClusterRef) ([]NodeStatus, error)
	// DeleteNodes removes every node of the cluster and what they use.
	DeleteNodes(ctx context.Context, c ClusterRef) (done bool, err error)
}

// Compose makes one Provider of a control-plane half and a worker half, so
// that, say, KubeVirt workers run with local control-plane processes.
// Delete removes the workers before the control plane they joined.
func Compose(cp ControlPlanes, w Workers) Provider { return composed{cp, w} }

type composed struct {
	ControlPlanes
	w Workers
}

func (p composed) Name() string { return p.ControlPlanes.Name() + "+" + p.w.Name() }

func (p composed) EnsureNodes(ctx context.Context, c ClusterRef, nodes []NodeSpec) ([]NodeStatus, error) {
	return p.w.EnsureNodes(ctx, c, nodes)
}

func (p composed) ListNodes(ctx context.Context, c ClusterRef) ([]NodeStatus, error) {
	return p.w.ListNodes(ctx, c)
}

func (p composed) Delete(ctx context.Context, c ClusterRef) (bool, error) {
	done, err := p.w.DeleteNodes(ctx, c)
	if err != nil || !done {
		return false, err
	}
	return p.ControlPlanes.Delete(ctx, c)
}
