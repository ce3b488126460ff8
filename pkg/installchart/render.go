// Package installchart renders hikube's install chart (artifacts/charts/hikube)
// with the Helm SDK, as `helm template` would, without a cluster: the local
// platform applies the RBAC it renders, and the tests lint it and dry-run every
// object against a real kube-apiserver.
package installchart

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	release "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/hikube/hikube/artifacts"
	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/platform"
)

// ReleaseName is the release the documentation installs ("helm install hikube").
const ReleaseName = "hikube"

// Load reads the chart embedded in the binary.
func Load() (*chart.Chart, error) {
	var files []*archive.BufferedFile
	err := fs.WalkDir(artifacts.FS, artifacts.ChartDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(artifacts.FS, p)
		if err != nil {
			return err
		}
		files = append(files, &archive.BufferedFile{Name: strings.TrimPrefix(p, artifacts.ChartDir+"/"), Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the embedded chart %s: %w", artifacts.ChartDir, err)
	}
	c, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("loading the embedded chart %s: %w", artifacts.ChartDir, err)
	}
	return c, nil
}

// Render renders c with values (merged over the chart's values.yaml) into
// objects, in the order Helm would install them, hooks left out, for a host
// cluster of the newest minor hikube supports.
func Render(ctx context.Context, c *chart.Chart, values map[string]any) ([]*unstructured.Unstructured, error) {
	return RenderFor(ctx, c, catalog.NewestVersion()+".0", values)
}

// RenderFor renders c for a host cluster of kubeVersion ("v1.37.2"), which
// the chart's kubeVersion constraint and .Capabilities see.
func RenderFor(ctx context.Context, c *chart.Chart, kubeVersion string, values map[string]any) ([]*unstructured.Unstructured, error) {
	kv, err := common.ParseKubeVersion(kubeVersion)
	if err != nil {
		return nil, fmt.Errorf("rendering the chart %s for Kubernetes %q: %w", c.Name(), kubeVersion, err)
	}
	install := action.NewInstall(&action.Configuration{})
	install.KubeVersion = kv
	install.DryRunStrategy = action.DryRunClient
	install.ReleaseName = ReleaseName
	install.Namespace = platform.Namespace
	install.Replace = true
	install.DisableHooks = true
	rel, err := install.RunWithContext(ctx, c, values)
	if err != nil {
		return nil, fmt.Errorf("rendering the chart %s: %w", c.Name(), err)
	}
	r, ok := rel.(*release.Release)
	if !ok {
		return nil, fmt.Errorf("rendering the chart %s: unexpected release type %T", c.Name(), rel)
	}
	return decode(r.Manifest)
}

// decode splits a rendered manifest into objects; "# Source:" comments and
// empty documents are skipped.
func decode(manifest string) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader([]byte(manifest))))
	for i := 0; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading rendered document %d: %w", i, err)
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("decoding rendered document %d: %w", i, err)
		}
		if string(bytes.TrimSpace(js)) == "null" {
			continue // empty or comment-only document
		}
		// UnmarshalJSON keeps integers int64, as the API machinery expects.
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(js); err != nil {
			return nil, fmt.Errorf("decoding rendered document %d: %w", i, err)
		}
		if obj.GetAPIVersion() == "" || obj.GetKind() == "" || obj.GetName() == "" {
			return nil, fmt.Errorf("rendered document %d: apiVersion, kind and metadata.name are required", i)
		}
		objs = append(objs, obj)
	}
}

// Path is the chart's directory in the repository, relative to its root, for
// tools that read it from disk (lint).
var Path = path.Join("artifacts", artifacts.ChartDir)
