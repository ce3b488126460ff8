package chartsource_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube/fake"
	rspb "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"

	"github.com/hikube/hikube/pkg/addons/catalog"
	"github.com/hikube/hikube/pkg/addons/chartrepo"
	"github.com/hikube/hikube/pkg/addons/chartsource"
)

const charts = "../../../test/charts"

// standIns are the stand-in charts under every catalog chart's name and version.
func standIns(t *testing.T) []chartrepo.Chart {
	var out []chartrepo.Chart
	for _, a := range catalog.Addons {
		for _, r := range a.Releases {
			out = append(out, chartrepo.Chart{Dir: filepath.Join(charts, "standin"), Name: r.Chart, Version: r.Version,
				ValuesFile: filepath.Join(charts, "profiles", r.Chart+".yaml")})
		}
	}
	return out
}

func TestRepositoryAndDirectorySources(t *testing.T) {
	dir := t.TempDir()
	if err := chartrepo.Build(dir, standIns(t)); err != nil {
		t.Fatal(err)
	}
	srv, err := chartrepo.Serve(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, ref := range []string{srv.URL, dir} {
		src, err := chartsource.New(ref)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range catalog.Addons {
			for _, r := range a.Releases {
				ch, err := src.Get(context.Background(), r.Chart, r.Version)
				if err != nil {
					t.Fatalf("%s: %v", ref, err)
				}
				if ch.Metadata.Name != r.Chart || ch.Metadata.Version != r.Version {
					t.Errorf("%s: got %s %s", ref, ch.Metadata.Name, ch.Metadata.Version)
				}
			}
		}
		_, err = src.Get(context.Background(), "cert-manager", "v0.0.1")
		if !errors.Is(err, chartsource.ErrNotFound) || !strings.Contains(err.Error(), src.Ref("cert-manager", "v0.0.1")) {
			t.Errorf("%s: missing version: %v, want ErrNotFound naming %s", ref, err, src.Ref("cert-manager", "v0.0.1"))
		}
	}
}

func TestRepositoryDigestIsChecked(t *testing.T) {
	dir := t.TempDir()
	if err := chartrepo.Build(dir, standIns(t)[:1]); err != nil {
		t.Fatal(err)
	}
	c := standIns(t)[0]
	tgz := filepath.Join(dir, c.Name+"-"+c.Version+".tgz")
	data, err := os.ReadFile(tgz)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tgz, append(data, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := chartrepo.Serve(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	src, _ := chartsource.New(srv.URL)
	if _, err := src.Get(context.Background(), c.Name, c.Version); err == nil || !strings.Contains(err.Error(), "digest") {
		t.Errorf("a tampered archive: %v, want a digest error", err)
	}
}

// TestStandInsRenderPlacement renders each stand-in with its catalog values:
// the workloads carry the role's nodeSelector and the GPU toleration where
// the real chart would, and the ingress Service type follows exposeMethod.
func TestStandInsRenderPlacement(t *testing.T) {
	dir := t.TempDir()
	if err := chartrepo.Build(dir, standIns(t)); err != nil {
		t.Fatal(err)
	}
	src, _ := chartsource.New(dir)
	for _, a := range catalog.Addons {
		for _, r := range a.Releases {
			ch, err := src.Get(context.Background(), r.Chart, r.Version)
			if err != nil {
				t.Fatal(err)
			}
			in := catalog.Inputs{Role: a.Role, RoleNodes: true, ExposeMethod: "LoadBalancer"}
			cfg := &action.Configuration{Releases: storage.Init(driver.NewMemory()), KubeClient: &fake.PrintingKubeClient{Out: os.Stderr}}
			inst := action.NewInstall(cfg)
			inst.DryRunStrategy = action.DryRunClient
			inst.ReleaseName, inst.Namespace = r.Name, a.Namespace
			rel, err := inst.Run(ch, r.ValuesFor(in, nil))
			if err != nil {
				t.Fatalf("%s: rendering: %v", r.Chart, err)
			}
			out := rel.(*rspb.Release)
			if !strings.Contains(out.Manifest, "kind: Deployment") && !strings.Contains(out.Manifest, "kind: DaemonSet") {
				t.Errorf("%s: no workload:\n%s", r.Chart, out.Manifest)
			}
			if len(out.Hooks) != 1 || !strings.Contains(out.Hooks[0].Manifest, "kind: Job") {
				t.Errorf("%s: hooks %v, want the hook Job", r.Chart, out.Hooks)
			}
			roleSel := "node-role.kubernetes.io/" + a.Role + `: ""`
			switch r.Chart {
			case "cert-manager", "ingress-nginx", "kube-state-metrics", "gpu-operator", "velero", "gateway-helm", "flux2":
				if !strings.Contains(out.Manifest, roleSel) {
					t.Errorf("%s: the Deployment is not placed on %s:\n%s", r.Chart, roleSel, out.Manifest)
				}
			}
			switch r.Chart {
			case "gpu-operator", "prometheus-node-exporter", "fluent-bit", "velero":
				if !strings.Contains(out.Manifest, "key: nvidia.com/gpu") {
					t.Errorf("%s: the DaemonSet does not tolerate GPU nodes:\n%s", r.Chart, out.Manifest)
				}
			}
			if r.Chart == "ingress-nginx" && !strings.Contains(out.Manifest, "type: LoadBalancer") {
				t.Errorf("ingress-nginx: Service type is not LoadBalancer:\n%s", out.Manifest)
			}
		}
	}
}
