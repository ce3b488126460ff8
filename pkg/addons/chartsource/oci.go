package chartsource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/registry"
)

// ociSource is an OCI registry holding charts as <base>/<name>:<version>.
// The registry client checks every layer against the manifest's digests.
type ociSource struct {
	base   string // without oci://
	client *registry.Client
}

func newOCI(ref string) (*ociSource, error) {
	c, err := registry.NewClient()
	if err != nil {
		return nil, fmt.Errorf("OCI registry client: %w", err)
	}
	return &ociSource{base: strings.TrimSuffix(strings.TrimPrefix(ref, "oci://"), "/"), client: c}, nil
}

func (o *ociSource) Ref(name, version string) string {
	return fmt.Sprintf("oci://%s/%s:%s", o.base, name, version)
}

func (o *ociSource) Get(_ context.Context, name, version string) (*chartv2.Chart, error) {
	ref := o.Ref(name, version)
	res, err := o.client.Pull(strings.TrimPrefix(ref, "oci://"), registry.PullOptWithChart(true))
	if err != nil {
		if strings.Contains(err.Error(), "not found") {
			return nil, notFound(ref, err.Error())
		}
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	if res.Chart == nil || len(res.Chart.Data) == 0 {
		return nil, errors.New(ref + ": no chart layer")
	}
	ch, err := loader.LoadArchive(bytes.NewReader(res.Chart.Data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return ch, check(ch, ref, name, version)
}
