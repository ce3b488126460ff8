package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/hikube/hikube/pkg/installchart"
	"github.com/hikube/hikube/pkg/version"
)

// TestImageIsReproducibleStaticNonRootAndRuns builds the hikube-controller
// image, then assembles it again from the binary in its layer into another
// archive: the same bytes and digest (the Go build itself is reproducible
// with -trimpath and no VCS stamp; one build keeps the test affordable).
// Loaded from the archive, its config has the entrypoint, the non-root user
// and the OCI labels, and the binary of its layer is static and runs
// --version with the stamped version.
func TestImageIsReproducibleStaticNonRootAndRuns(t *testing.T) {
	o := Options{
		Dir:      filepath.Join("..", ".."),
		Registry: DefaultRegistry,
		Version:  "v9.8.7-test",
		Revision: "0123456789abcdef",
		Source:   DefaultSource,
		Arch:     runtime.GOARCH,
		Created:  time.Unix(1767225600, 0).UTC(),
	}
	ctx := context.Background()
	o.Output = t.TempDir()
	first, err := Build(ctx, o, "hikube-controller")
	if err != nil {
		t.Fatal(err)
	}
	if want := "ghcr.io/hikube/hikube-controller:v9.8.7-test"; first.Reference != want {
		t.Errorf("reference %q, want %q", first.Reference, want)
	}
	img := load(t, first.Archive, first.Reference)
	if d, err := img.Digest(); err != nil || d != first.Digest {
		t.Errorf("the archive holds digest %s (%v), want %s", d, err, first.Digest)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Config.Entrypoint; len(got) != 1 || got[0] != "/usr/local/bin/hikube-controller" {
		t.Errorf("entrypoint %q", got)
	}
	if cfg.Config.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", cfg.Config.User)
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.version":  "v9.8.7-test",
		"org.opencontainers.image.revision": "0123456789abcdef",
		"org.opencontainers.image.source":   "https://github.com/hikube/hikube",
	} {
		if got := cfg.Config.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
	if !cfg.Created.Time.Equal(o.Created) || cfg.OS != "linux" || cfg.Architecture != runtime.GOARCH {
		t.Errorf("created %s, platform %s/%s; want %s, linux/%s", cfg.Created, cfg.OS, cfg.Architecture, o.Created, runtime.GOARCH)
	}

	bin := extract(t, img, "usr/local/bin/hikube-controller")
	again, err := Image(o, "hikube-controller", bin)
	if err != nil {
		t.Fatal(err)
	}
	secondArchive := filepath.Join(t.TempDir(), "hikube-controller.oci.tar")
	if err := WriteArchive(again, first.Reference, o.Version, filepath.Join(t.TempDir(), "layout"), secondArchive, o.Created); err != nil {
		t.Fatal(err)
	}
	if d, err := again.Digest(); err != nil || d != first.Digest || sum(t, secondArchive) != sum(t, first.Archive) {
		t.Fatalf("assembled twice: digests %s and %s (%v), or the archives differ", first.Digest, d, err)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has an ELF interpreter: it is not static")
		}
	}
	f.Close()
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "v9.8.7-test (0123456789abcdef)") {
		t.Errorf("%s --version: %v\n%s", bin, err, out)
	}
}

// TestChartRunsTheImagesMakeImagesBuilds: with its default values the
// install chart runs the image references make images writes for an
// unstamped version.
func TestChartRunsTheImagesMakeImagesBuilds(t *testing.T) {
	c, err := installchart.Load()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := installchart.Render(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, obj := range objs {
		if obj.GetKind() != "Deployment" {
			continue
		}
		containers, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
		for _, c := range containers {
			image, _ := c.(map[string]any)["image"].(string)
			binary := obj.GetName()
			if want := Reference(DefaultRegistry, binary, version.Default); image != want {
				t.Errorf("Deployment %s runs %s, want %s", binary, image, want)
			}
			seen[binary] = true
		}
	}
	for _, b := range Binaries {
		if !seen[b] {
			t.Errorf("the chart has no Deployment %s", b)
		}
	}
}

func sum(t *testing.T, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// load unpacks an OCI archive and returns the image named ref.
func load(t *testing.T, archive, ref string) v1.Image {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range m.Manifests {
		if d.Annotations["io.containerd.image.name"] == ref {
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			return img
		}
	}
	t.Fatalf("no image named %s in %s", ref, archive)
	return nil
}

// extract writes the file at name in the image's layers to a temporary
// executable.
func extract(t *testing.T, img v1.Image, name string) string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Name != name {
				continue
			}
			if h.Uid != 0 || h.Mode&0o111 == 0 {
				t.Errorf("%s: uid %d mode %o; want root-owned and executable", name, h.Uid, h.Mode)
			}
			var buf bytes.Buffer
			if _, err := io.Copy(&buf, tr); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), filepath.Base(name))
			if err := os.WriteFile(path, buf.Bytes(), 0o755); err != nil {
				t.Fatal(err)
			}
			rc.Close()
			return path
		}
		rc.Close()
	}
	t.Fatalf("%s not in the image", name)
	return ""
}
