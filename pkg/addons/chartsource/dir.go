package chartsource

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

// dirSource is a local directory of packaged charts, <name>-<version>.tgz,
// as `helm pull` or `helm package` leave them: for platforms without access
// to a repository.
type dirSource struct{ dir string }

func newDir(dir string) *dirSource { return &dirSource{dir: dir} }

func (d *dirSource) Ref(name, version string) string {
	return filepath.Join(d.dir, name+"-"+version+".tgz")
}

func (d *dirSource) Get(_ context.Context, name, version string) (*chartv2.Chart, error) {
	ref := d.Ref(name, version)
	if _, err := os.Stat(ref); errors.Is(err, fs.ErrNotExist) {
		return nil, notFound(ref, "no such file")
	}
	ch, err := loader.LoadFile(ref)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return ch, check(ch, ref, name, version)
}
