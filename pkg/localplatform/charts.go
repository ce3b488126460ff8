package localplatform

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hikube/hikube/pkg/addons/catalog"
	"github.com/hikube/hikube/pkg/addons/chartrepo"
)

// Environment of the add-on charts of the local platform.
const (
	// EnvAddonChartSource names a real chart source (https://, oci:// or a
	// directory) for hikube-controller's --addon-chart-source; unset, the
	// platform serves its stand-in charts.
	EnvAddonChartSource = "HIKUBE_ADDON_CHART_SOURCE"
	// EnvAddonChartsDir is the directory of the stand-in charts (test/charts
	// of the repository, found from the working directory when unset).
	EnvAddonChartsDir = "HIKUBE_ADDON_CHARTS_DIR"
	// EnvAddonFailing lists charts (by catalog chart name, comma-separated)
	// served by the chart that fails on purpose, for tests of the failure path.
	EnvAddonFailing = "HIKUBE_ADDON_FAILING"
	// EnvAddonTimeout is hikube-controller's --addon-timeout (default 1m).
	EnvAddonTimeout = "HIKUBE_ADDON_TIMEOUT"
)

// chartRepos are the stand-in repositories served by this process, by
// platform home: a restarted controller gets the same one.
var chartRepos = struct {
	sync.Mutex
	byHome map[string]*chartrepo.Server
}{byHome: map[string]*chartrepo.Server{}}

// addonChartArgs are hikube-controller's add-on flags. Unless
// HIKUBE_ADDON_CHART_SOURCE names a real source, it packages the stand-in
// charts of test/charts under every catalog chart's name and pinned version
// and serves them over HTTP, so that pull, install, upgrade and uninstall
// run for real. Tenant nodes are kwok's: pods have no network, so the
// charts' admission webhooks are turned off.
func (p *Platform) addonChartArgs() ([]string, error) {
	timeout := os.Getenv(EnvAddonTimeout)
	if timeout == "" {
		timeout = "1m"
	}
	args := []string{"--addon-admission-webhooks=false", "--addon-timeout=" + timeout}
	if src := os.Getenv(EnvAddonChartSource); src != "" {
		p.logf("add-on charts from %s", src)
		return append(args, "--addon-chart-source="+src), nil
	}
	chartRepos.Lock()
	defer chartRepos.Unlock()
	srv, ok := chartRepos.byHome[p.home]
	if !ok {
		repoDir, err := p.buildStandInCharts()
		if err != nil {
			return nil, err
		}
		if repoDir == "" {
			// The platform still runs; its add-ons report ChartUnavailable.
			return args, nil
		}
		if srv, err = chartrepo.Serve(repoDir); err != nil {
			return nil, err
		}
		chartRepos.byHome[p.home] = srv
		p.logf("add-on charts: the local stand-ins of %s, served at %s; set %s=https://… or oci://… to use a real chart repository",
			repoDir, srv.URL, EnvAddonChartSource)
	}
	return append(args, "--addon-chart-source="+srv.URL), nil
}

// buildStandInCharts packages the stand-in charts of test/charts under every
// catalog chart's name and pinned version into Home/charts (<chart>-<version>.tgz
// and an index.yaml: a directory source and a repository at once) and
// returns that directory; "" when test/charts is not found.
func (p *Platform) buildStandInCharts() (string, error) {
	dir, err := standInChartsDir()
	if err != nil {
		p.logf("%v: add-ons will report ChartUnavailable", err)
		return "", nil
	}
	failing := map[string]bool{}
	for _, c := range strings.Split(os.Getenv(EnvAddonFailing), ",") {
		failing[strings.TrimSpace(c)] = true
	}
	var charts []chartrepo.Chart
	for _, a := range catalog.Addons {
		for _, r := range a.Releases {
			c := chartrepo.Chart{Dir: filepath.Join(dir, "standin"), Name: r.Chart, Version: r.Version,
				ValuesFile: filepath.Join(dir, "profiles", r.Chart+".yaml")}
			if failing[r.Chart] {
				c = chartrepo.Chart{Dir: filepath.Join(dir, "failing"), Name: r.Chart, Version: r.Version}
			}
			charts = append(charts, c)
		}
	}
	repoDir := filepath.Join(p.home, "charts")
	if err := os.RemoveAll(repoDir); err != nil {
		return "", err
	}
	if err := chartrepo.Build(repoDir, charts); err != nil {
		return "", fmt.Errorf("add-on stand-in charts: %w", err)
	}
	return repoDir, nil
}

// standInChartsDir finds test/charts from the working directory upwards.
func standInChartsDir() (string, error) {
	if d := os.Getenv(EnvAddonChartsDir); d != "" {
		return filepath.Abs(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "test", "charts", "standin", "Chart.yaml")); err == nil {
			return filepath.Join(d, "test", "charts"), nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("add-on stand-in charts: test/charts not found above " + wd + "; set " + EnvAddonChartsDir + " or " + EnvAddonChartSource)
		}
	}
}
