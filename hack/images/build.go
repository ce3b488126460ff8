package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Binaries are the commands that ship as images.
var Binaries = []string{"hikube-apiserver", "hikube-controller"}

const (
	// DefaultRegistry is where hikube's images are published.
	DefaultRegistry = "ghcr.io/hikube"
	// DefaultSource is the repository, for the source label.
	DefaultSource = "https://github.com/hikube/hikube"
	// User is the numeric uid:gid the images run as (the "nonroot" of
	// distroless images); the base has no /etc/passwd to name it.
	User = "65532:65532"
	// binDir is where the binary lives in the image.
	binDir = "usr/local/bin"
	// module is our module path, for the version -X flags.
	module = "github.com/hikube/hikube"
)

// Options say what to build and how to stamp it.
type Options struct {
	// Dir is the module's root, where go build runs ("" is the current
	// directory).
	Dir      string
	Output   string
	Registry string
	Version  string
	Revision string
	Source   string
	Arch     string
	// Created is every timestamp of the image: the config's, the history's
	// and the files' in the layer.
	Created time.Time
}

// Result is one image written.
type Result struct {
	Archive   string
	Reference string
	Digest    v1.Hash
}

// Reference is the image reference of binary at version.
func Reference(registry, binary, version string) string {
	return registry + "/" + binary + ":" + version
}

// Build compiles ./cmd/<binary> and writes its image archive.
func Build(ctx context.Context, o Options, binary string) (Result, error) {
	tmp, err := os.MkdirTemp("", "hikube-image-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, binary)
	if err := compile(ctx, o, binary, bin); err != nil {
		return Result{}, err
	}
	img, err := Image(o, binary, bin)
	if err != nil {
		return Result{}, err
	}
	ref := Reference(o.Registry, binary, o.Version)
	archive := filepath.Join(o.Output, binary+".oci.tar")
	if err := WriteArchive(img, ref, o.Version, filepath.Join(tmp, "layout"), archive, o.Created); err != nil {
		return Result{}, err
	}
	digest, err := img.Digest()
	if err != nil {
		return Result{}, err
	}
	return Result{Archive: archive, Reference: ref, Digest: digest}, nil
}

// compile builds a static binary for linux/<arch>, reproducibly: no cgo,
// no file system paths, no VCS stamp (the revision is passed explicitly).
func compile(ctx context.Context, o Options, binary, out string) error {
	ldflags := fmt.Sprintf("-s -w -buildid= -X %s/pkg/version.Version=%s -X %s/pkg/version.Revision=%s", module, o.Version, module, o.Revision)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, "./cmd/"+binary)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+o.Arch)
	cmd.Dir = o.Dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building %s: %w", binary, err)
	}
	return nil
}

// Image is the image of the binary at path: one layer on an empty base.
func Image(o Options, binary, path string) (v1.Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	layerTar, err := layerTarball(binary, data, o.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("layer of %s: %w", binary, err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer:   layer,
		History: v1.History{CreatedBy: "hack/images: " + binary + " " + o.Version, Created: v1.Time{Time: o.Created}},
	})
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture, cfg.OS = o.Arch, "linux"
	cfg.Config = v1.Config{
		Entrypoint: []string{"/" + binDir + "/" + binary},
		User:       User,
		WorkingDir: "/tmp",
		Env:        []string{"PATH=/" + binDir},
		Labels:     Labels(o, binary),
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, err
	}
	// Every time in the config, history included.
	return mutate.CreatedAt(img, v1.Time{Time: o.Created})
}

// Labels are the OCI annotations of the image's config.
func Labels(o Options, binary string) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":    binary,
		"org.opencontainers.image.version":  o.Version,
		"org.opencontainers.image.revision": o.Revision,
		"org.opencontainers.image.source":   o.Source,
		"org.opencontainers.image.licenses": "Apache-2.0",
	}
}

// layerTarball is the layer: the binary, owned by root and not writable by
// the user it runs as, and a world-writable /tmp (the working directory:
// hikube-apiserver writes self-signed serving certificates there when given
// none). Every entry has the same fixed time.
func layerTarball(binary string, data []byte, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := []struct {
		name string
		mode int64
	}{{"tmp/", 0o1777}, {"usr/", 0o755}, {"usr/local/", 0o755}, {binDir + "/", 0o755}}
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d.name, Mode: d.mode, ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: binDir + "/" + binary, Mode: 0o755, Size: int64(len(data)), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteArchive writes img as an OCI image layout in dir, named ref (full
// reference for containerd, the tag for skopeo and podman), then tars the
// layout into archive with fixed times and sorted entries.
func WriteArchive(img v1.Image, ref, tag, dir, archive string, mtime time.Time) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("OCI layout: %w", err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": tag,
		"io.containerd.image.name":          ref,
	})); err != nil {
		return fmt.Errorf("writing %s to the OCI layout: %w", ref, err)
	}
	if err := os.MkdirAll(filepath.Dir(archive), 0o755); err != nil {
		return err
	}
	return tarDir(dir, archive, mtime)
}

// tarDir writes the files under dir into a tar at out, reproducibly.
func tarDir(dir, out string, mtime time.Time) error {
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	f, err := os.Create(out + ".tmp")
	if err != nil {
		return err
	}
	defer os.Remove(out + ".tmp")
	tw := tar.NewWriter(f)
	for _, path := range paths {
		rel := filepath.ToSlash(strings.TrimPrefix(path, dir+string(filepath.Separator)))
		info, err := os.Stat(path)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: rel, ModTime: mtime, Mode: 0o644, Format: tar.FormatPAX}
		if info.IsDir() {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, rel+"/", 0o755
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			continue
		}
		h.Typeflag, h.Size = tar.TypeReg, info.Size()
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, src)
		src.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(out+".tmp", out)
}
