// Package chartsource fetches the add-ons' charts at exact versions from
// where the platform keeps them: an HTTPS chart repository (index.yaml,
// digest checked), an OCI registry, or a local directory for air-gapped
// platforms. hikube-controller's flags choose one.
package chartsource

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
)

// ErrNotFound is wrapped by Get when the source has no such chart or version.
var ErrNotFound = errors.New("chart not found")

// Source returns a chart at an exact version.
type Source interface {
	// Get returns the chart; an error wrapping ErrNotFound says the source
	// does not have it (as opposed to failing to answer).
	Get(ctx context.Context, name, version string) (*chartv2.Chart, error)
	// Ref is the reference Get tries for name and version, for messages.
	Ref(name, version string) string
}

// New picks the source of a reference: oci://… is a registry, http(s)://…
// a chart repository, anything else a local directory.
func New(ref string) (Source, error) {
	switch {
	case ref == "":
		return nil, errors.New("no chart source configured")
	case strings.HasPrefix(ref, "oci://"):
		return newOCI(ref)
	case strings.HasPrefix(ref, "http://"), strings.HasPrefix(ref, "https://"):
		return newRepo(ref), nil
	default:
		return newDir(ref), nil
	}
}

// cached keeps charts already fetched: a name and version is immutable.
type cached struct {
	Source
	mu     sync.Mutex
	charts map[string]*chartv2.Chart
}

// Cached wraps a source with an in-memory cache of the charts it returned.
func Cached(s Source) Source { return &cached{Source: s, charts: map[string]*chartv2.Chart{}} }

func (c *cached) Get(ctx context.Context, name, version string) (*chartv2.Chart, error) {
	key := name + "@" + version
	c.mu.Lock()
	ch, ok := c.charts[key]
	c.mu.Unlock()
	if ok {
		return ch, nil
	}
	ch, err := c.Source.Get(ctx, name, version)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.charts[key] = ch
	c.mu.Unlock()
	return ch, nil
}

func notFound(ref string, why string) error {
	return fmt.Errorf("%s: %w (%s)", ref, ErrNotFound, why)
}

// check makes sure the chart is the one asked for.
func check(ch *chartv2.Chart, ref, name, version string) error {
	if ch.Metadata == nil || ch.Metadata.Name != name || ch.Metadata.Version != version {
		got := "no metadata"
		if ch.Metadata != nil {
			got = ch.Metadata.Name + " " + ch.Metadata.Version
		}
		return fmt.Errorf("%s: the chart is %s, not %s %s", ref, got, name, version)
	}
	return nil
}
