package chartsource

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"
)

// maxChartSize bounds what is read from a repository.
const maxChartSize = 64 << 20

// repoSource is an HTTP(S) chart repository: index.yaml lists each chart
// version with its archive URL and sha256 digest, which is checked.
type repoSource struct {
	base   string
	client *http.Client
}

func newRepo(base string) *repoSource {
	return &repoSource{base: strings.TrimSuffix(base, "/"), client: &http.Client{Timeout: time.Minute}}
}

func (r *repoSource) Ref(name, version string) string {
	return fmt.Sprintf("%s/index.yaml: %s %s", r.base, name, version)
}

func (r *repoSource) Get(ctx context.Context, name, version string) (*chartv2.Chart, error) {
	ref := r.Ref(name, version)
	data, err := r.fetch(ctx, r.base+"/index.yaml")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	var idx repo.IndexFile
	if err := yaml.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("%s: reading the index: %w", ref, err)
	}
	var entry *repo.ChartVersion
	for _, v := range idx.Entries[name] {
		if v != nil && v.Metadata != nil && v.Version == version {
			entry = v
			break
		}
	}
	if entry == nil {
		return nil, notFound(ref, "not in the repository's index")
	}
	if len(entry.URLs) == 0 {
		return nil, fmt.Errorf("%s: the index has no URL for it", ref)
	}
	u, err := r.resolve(entry.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	archive, err := r.fetch(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	sum := sha256.Sum256(archive)
	if entry.Digest == "" || !strings.EqualFold(hex.EncodeToString(sum[:]), strings.TrimPrefix(entry.Digest, "sha256:")) {
		return nil, fmt.Errorf("%s: digest of %s is sha256:%x, the index says %q", ref, u, sum, entry.Digest)
	}
	ch, err := loader.LoadArchive(bytes.NewReader(archive))
	if err != nil {
		return nil, fmt.Errorf("%s: loading %s: %w", ref, u, err)
	}
	return ch, check(ch, ref, name, version)
}

// resolve makes an index URL absolute against the repository.
func (r *repoSource) resolve(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("chart URL %q: %w", s, err)
	}
	if u.IsAbs() {
		return u.String(), nil
	}
	base, err := url.Parse(r.base + "/")
	if err != nil {
		return "", err
	}
	return base.ResolveReference(u).String(), nil
}

func (r *repoSource) fetch(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, notFound(u, "HTTP 404")
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxChartSize))
}
