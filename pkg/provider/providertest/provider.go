// Package providertest is an in-memory provider.Provider for unit tests of
// the core: it records every call in order, and tests script what it reports
// (control-plane status, node readiness, whether a deletion is done) and which
// calls fail. It runs nothing.
package providertest

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"k8s.io/client-go/rest"

	"github.com/hikube/hikube/pkg/provider"
)

// Method names, as recorded in Call.Method and passed to Provider.Err.
const (
	EnsureControlPlane = "EnsureControlPlane"
	AdminConfig        = "AdminConfig"
	EnsureNodes        = "EnsureNodes"
	Delete             = "Delete"
)

// Call is one call the core made.
type Call struct {
	Method  string
	Cluster provider.ClusterRef
	// ControlPlane is the spec of an EnsureControlPlane call.
	ControlPlane provider.ControlPlaneSpec
	// Nodes are the specs of an EnsureNodes call.
	Nodes []provider.NodeSpec
}

// Provider is the fake. The zero value is a provider whose control planes
// are Ready at once (at "<minor>.0"), whose nodes are Ready as soon as they
// are asked for, and whose deletions finish at once. Set the func fields
// before the core runs; they may be changed between reconciles.
type Provider struct {
	// ControlPlaneStatus, when set, is what EnsureControlPlane reports.
	ControlPlaneStatus func(c provider.ClusterRef, spec provider.ControlPlaneSpec) provider.ControlPlaneStatus
	// NodeReady, when set, says which nodes are reported Ready.
	NodeReady func(provider.NodeSpec) bool
	// DeleteDone, when set, says whether Delete has finished.
	DeleteDone func(c provider.ClusterRef) bool
	// Endpoint, when set, is where the API of a cluster serves (by default
	// DefaultEndpoint: by name, so a cluster re-created under the same name
	// gets the same endpoint, as a provider reusing its ports would).
	Endpoint func(c provider.ClusterRef) string
	// Err, when set, makes a call fail with the error it returns for the
	// method (one of the constants above); nil lets the call succeed.
	Err func(method string, c provider.ClusterRef) error
	// DiscardCalls keeps no record of the calls (Calls stays empty), for
	// benchmarks that reconcile thousands of clusters for minutes.
	DiscardCalls bool

	mu    sync.Mutex
	calls []Call
	nodes map[string][]provider.NodeSpec // by cluster UID: what EnsureNodes was last asked
}

var _ provider.Provider = &Provider{}

// Name is "fake".
func (p *Provider) Name() string { return "fake" }

// DefaultEndpoint is where the API of cluster c serves unless
// Provider.Endpoint says otherwise.
func DefaultEndpoint(c provider.ClusterRef) string {
	return fmt.Sprintf("https://%s.%s.test:6443", c.Name, c.Namespace)
}

func (p *Provider) endpoint(c provider.ClusterRef) string {
	if p.Endpoint != nil {
		return p.Endpoint(c)
	}
	return DefaultEndpoint(c)
}

// EnsureControlPlane records the call and reports the scripted status.
func (p *Provider) EnsureControlPlane(_ context.Context, c provider.ClusterRef, spec provider.ControlPlaneSpec) (provider.ControlPlaneStatus, error) {
	if err := p.record(Call{Method: EnsureControlPlane, Cluster: c, ControlPlane: spec}); err != nil {
		return provider.ControlPlaneStatus{}, err
	}
	if p.ControlPlaneStatus != nil {
		return p.ControlPlaneStatus(c, spec), nil
	}
	return provider.ControlPlaneStatus{
		Endpoint: p.endpoint(c), Version: spec.Minor + ".0",
		Replicas: spec.Replicas, ReadyReplicas: spec.Replicas, Ready: true,
	}, nil
}

// AdminConfig records the call and returns a configuration for the cluster's endpoint;
// nothing listens there: tests give the core a fake client for it.
func (p *Provider) AdminConfig(_ context.Context, c provider.ClusterRef) (*rest.Config, error) {
	if err := p.record(Call{Method: AdminConfig, Cluster: c}); err != nil {
		return nil, err
	}
	return &rest.Config{Host: p.endpoint(c)}, nil
}

// EnsureNodes records the call, remembers the nodes and reports them.
func (p *Provider) EnsureNodes(_ context.Context, c provider.ClusterRef, nodes []provider.NodeSpec) ([]provider.NodeStatus, error) {
	if err := p.record(Call{Method: EnsureNodes, Cluster: c, Nodes: slices.Clone(nodes)}); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.nodes == nil {
		p.nodes = map[string][]provider.NodeSpec{}
	}
	p.nodes[c.UID] = slices.Clone(nodes)
	out := make([]provider.NodeStatus, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, provider.NodeStatus{Name: n.Name, Group: n.Group, Zone: n.Zone, Ready: p.NodeReady == nil || p.NodeReady(n)})
	}
	return out, nil
}

// ListNodes reports the nodes EnsureNodes was last asked for. It is not
// recorded as a call: it only reads.
func (p *Provider) ListNodes(_ context.Context, c provider.ClusterRef) ([]provider.NodeStatus, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]provider.NodeStatus, 0, len(p.nodes[c.UID]))
	for _, n := range p.nodes[c.UID] {
		out = append(out, provider.NodeStatus{Name: n.Name, Group: n.Group, Zone: n.Zone, Ready: p.NodeReady == nil || p.NodeReady(n)})
	}
	return out, nil
}

// Delete records the call and says whether the deletion is done.
func (p *Provider) Delete(_ context.Context, c provider.ClusterRef) (bool, error) {
	if err := p.record(Call{Method: Delete, Cluster: c}); err != nil {
		return false, err
	}
	done := p.DeleteDone == nil || p.DeleteDone(c)
	if done {
		p.mu.Lock()
		delete(p.nodes, c.UID)
		p.mu.Unlock()
	}
	return done, nil
}

// record appends the call and returns the scripted error, if any.
func (p *Provider) record(c Call) error {
	if !p.DiscardCalls {
		p.mu.Lock()
		p.calls = append(p.calls, c)
		p.mu.Unlock()
	}
	if p.Err != nil {
		return p.Err(c.Method, c.Cluster)
	}
	return nil
}

// Calls returns the calls made so far, oldest first.
func (p *Provider) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// Methods returns the methods called so far, oldest first, as
// "Method namespace/name", which makes the order easy to compare.
func (p *Provider) Methods() []string {
	var out []string
	for _, c := range p.Calls() {
		out = append(out, c.Method+" "+c.Cluster.String())
	}
	return out
}

// Reset forgets the calls recorded so far (not the nodes).
func (p *Provider) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = nil
}

// Nodes returns the nodes EnsureNodes was last asked for cluster uid.
func (p *Provider) Nodes(uid string) []provider.NodeSpec {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.nodes[uid])
}

// FailWith returns an Err func that fails the given methods with err.
func FailWith(err error, methods ...string) func(string, provider.ClusterRef) error {
	return func(m string, _ provider.ClusterRef) error {
		if slices.Contains(methods, m) {
			return err
		}
		return nil
	}
}
