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

// TenantStorage is implemented by a provider whose tenant clusters get
// their volumes from a driver of its own (the KubeVirt CSI driver, say):
// it names the provisioner and parameters of each tenant-facing storage
// class (local, replicated, replicated-async). ok is false for a class the
// provider leaves to the platform's defaults.
type TenantStorage interface {
	TenantStorageClass(class string) (provisioner string, parameters map[string]string, ok bool)
}

// ChangeNotifier is implemented by a provider that tells the core when a
// cluster changed on its own, say when a control plane it started became
// ready, so that the core looks again at once instead of at its next
// resync. fn must not block; it is set once, before the first call.
type ChangeNotifier interface {
	NotifyChanges(fn func(ClusterRef))
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

// TenantStorageClass is the control-plane half's, which runs the volume
// driver's controller, when it has one.
func (p composed) TenantStorageClass(class string) (string, map[string]string, bool) {
	if ts, ok := p.ControlPlanes.(TenantStorage); ok {
		return ts.TenantStorageClass(class)
	}
	return "", nil, false
}

// NotifyChanges passes fn to the control-plane half, when it notifies.
func (p composed) NotifyChanges(fn func(ClusterRef)) {
	if n, ok := p.ControlPlanes.(ChangeNotifier); ok {
		n.NotifyChanges(fn)
	}
}

func (p composed) Delete(ctx context.Context, c ClusterRef) (bool, error) {
	done, err := p.w.DeleteNodes(ctx, c)
	if err != nil || !done {
		return false, err
	}
	return p.ControlPlanes.Delete(ctx, c)
}
