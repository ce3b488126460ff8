// Package chartrepo builds and serves a Helm chart repository (index.yaml
// and packaged .tgz) over HTTP from chart directories, with Helm's SDK. The
// local platform and the tests use it to serve the charts hikube-controller
// pulls.
package chartrepo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartsave "helm.sh/helm/v4/pkg/chart/v2/util"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"
)

// Chart is a chart directory to package under a given name and version,
// with values laid over its values.yaml.
type Chart struct {
	Dir           string
	Name, Version string
	// ValuesFile, when set, is merged over the chart's values.yaml.
	ValuesFile string
}

// Build packages the charts into dir and writes its index.yaml.
func Build(dir string, charts []Chart) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("chart repository %s: %w", dir, err)
	}
	for _, c := range charts {
		if err := pack(dir, c); err != nil {
			return err
		}
	}
	idx, err := repo.IndexDirectory(dir, "")
	if err != nil {
		return fmt.Errorf("indexing %s: %w", dir, err)
	}
	idx.SortEntries()
	return idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644)
}

func pack(dir string, c Chart) error {
	ch, err := loader.LoadDir(c.Dir)
	if err != nil {
		return fmt.Errorf("loading chart %s: %w", c.Dir, err)
	}
	ch.Metadata.Name, ch.Metadata.Version = c.Name, c.Version
	if c.ValuesFile != "" {
		data, err := os.ReadFile(c.ValuesFile)
		if err != nil {
			return fmt.Errorf("values of %s: %w", c.Name, err)
		}
		var over map[string]any
		if err := yaml.Unmarshal(data, &over); err != nil {
			return fmt.Errorf("values %s: %w", c.ValuesFile, err)
		}
		ch.Values = chartutil.CoalesceTables(over, ch.Values)
		// Save writes values.yaml from the chart's raw files: put the merged
		// values there.
		merged, err := yaml.Marshal(ch.Values)
		if err != nil {
			return fmt.Errorf("values of %s: %w", c.Name, err)
		}
		for _, f := range ch.Raw {
			if f.Name == "values.yaml" {
				f.Data = merged
			}
		}
	}
	if _, err := chartsave.Save(ch, dir); err != nil {
		return fmt.Errorf("packaging %s %s: %w", c.Name, c.Version, err)
	}
	return nil
}

// Server serves a chart repository directory on 127.0.0.1.
type Server struct {
	URL string
	srv *http.Server
}

// Serve starts serving dir on a free port of 127.0.0.1 until Close.
func Serve(dir string) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("chart repository listener: %w", err)
	}
	s := &Server{URL: "http://" + l.Addr().String(), srv: &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "chart repository %s: %v\n", s.URL, err)
		}
	}()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}
