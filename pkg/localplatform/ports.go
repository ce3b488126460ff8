package localplatform

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/hikube/hikube/pkg/atomicfile"
	"github.com/hikube/hikube/pkg/portalloc"
)

// Ports are the loopback ports of the platform, chosen once and kept in
// Home/ports.json so that kubeconfigs stay valid across restarts.
type Ports struct {
	EtcdClient      int `json:"etcdClient"`
	EtcdPeer        int `json:"etcdPeer"`
	KubeAPIServer   int `json:"kubeAPIServer"`
	HikubeAPIServer int `json:"hikubeAPIServer"`
}

func (p *Ports) fields() []*int {
	return []*int{&p.EtcdClient, &p.EtcdPeer, &p.KubeAPIServer, &p.HikubeAPIServer}
}

// loadOrChoosePorts reads Home/ports.json, replaces every port that is unset,
// duplicated or taken by another process with a free one, and writes the
// result back.
func loadOrChoosePorts(path string) (Ports, error) {
	var ports Ports
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &ports); err != nil {
			// A corrupt file only costs new ports; kubeconfigs are rewritten.
			ports = Ports{}
		}
	case !errors.Is(err, fs.ErrNotExist):
		return Ports{}, fmt.Errorf("reading %s: %w", path, err)
	}

	// A port that is unset, duplicated or taken by another process is
	// replaced; all are held while choosing, so the choices are distinct.
	if _, err := portalloc.Settle(ports.fields(), nil); err != nil {
		return Ports{}, err
	}

	out, err := json.MarshalIndent(ports, "", "  ")
	if err != nil {
		return Ports{}, fmt.Errorf("encoding ports: %w", err)
	}
	// A torn ports.json would cost the next start its ports and rewrite
	// every kubeconfig: write it whole or not at all.
	if err := atomicfile.Write(path, append(out, '\n'), 0o600); err != nil {
		return Ports{}, err
	}
	return ports, nil
}
