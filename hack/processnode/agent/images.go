package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The images whose binaries the agent runs: upstream control-plane images,
// by the minor of their tag from <bin>/vX.Y/, and etcd from <bin>/etcd.
const (
	imageRegistry = "registry.k8s.io/"
	imageEtcd     = "etcd"
)

var kubeComponents = []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler"}

// ErrNotAllowed marks an image the agent does not run as a process.
type ErrNotAllowed struct{ Image string }

func (e ErrNotAllowed) Error() string {
	return fmt.Sprintf("image %s is not on the process node's allow-list", e.Image)
}

// ResolveBinary returns the binary of bin that stands for image, or
// ErrNotAllowed. The component must be the container's command: the images
// hold nothing else the agent could run.
func ResolveBinary(bin, image string, command []string) (string, error) {
	if !strings.HasPrefix(image, imageRegistry) {
		return "", ErrNotAllowed{image}
	}
	name, tag, ok := strings.Cut(strings.TrimPrefix(image, imageRegistry), ":")
	if !ok || tag == "" {
		return "", ErrNotAllowed{image}
	}
	var path string
	switch {
	case name == imageEtcd:
		path = filepath.Join(bin, "etcd")
	case contains(kubeComponents, name):
		v := strings.Split(strings.TrimPrefix(tag, "v"), ".")
		if !strings.HasPrefix(tag, "v") || len(v) < 2 {
			return "", fmt.Errorf("image %s: tag is not vX.Y.Z", image)
		}
		path = filepath.Join(bin, "v"+v[0]+"."+v[1], name)
	default:
		return "", ErrNotAllowed{image}
	}
	if len(command) == 0 || filepath.Base(command[0]) != name {
		return "", fmt.Errorf("image %s: command must start with %q, got %q", image, name, command)
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("image %s: no binary for it here: %w", image, err)
	}
	return path, nil
}

// Entrypoints map image repositories (the reference without tag or digest,
// "ghcr.io/hikube/hikube-apiserver") to the binary of this machine that is
// the image's entrypoint: hikube's own images, which hold one binary and run
// it without a command. Any tag runs the same binary.
type Entrypoints map[string]string

// ParseEntrypoint reads a --image flag, "<repository>=<binary>".
func ParseEntrypoint(s string) (repository, binary string, err error) {
	repo, bin, ok := strings.Cut(s, "=")
	if !ok || repo == "" || bin == "" || strings.Contains(repo, "@") || strings.Contains(repo[strings.LastIndex(repo, "/")+1:], ":") {
		return "", "", fmt.Errorf("--image %q: want <repository without tag>=<binary>", s)
	}
	return repo, bin, nil
}

// Resolve returns the binary that stands for image and the command line's
// first words: for an image of e, its binary (the container's command, when
// set, must name it, as an entrypoint would be overridden by itself); for
// the upstream images, ResolveBinary's.
func (e Entrypoints) Resolve(bin, image string, command []string) (string, []string, error) {
	if binary, ok := e[repository(image)]; ok {
		name := filepath.Base(binary)
		if len(command) > 0 && filepath.Base(command[0]) != name {
			return "", nil, fmt.Errorf("image %s: command must be empty (the entrypoint) or start with %q, got %q", image, name, command)
		}
		if _, err := os.Stat(binary); err != nil {
			return "", nil, fmt.Errorf("image %s: no binary for it here: %w", image, err)
		}
		if len(command) == 0 {
			command = []string{name}
		}
		return binary, command, nil
	}
	binary, err := ResolveBinary(bin, image, command)
	return binary, command, err
}

// repository is an image reference without its digest and tag.
func repository(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	return image
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
