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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
