package localplatform

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"

	"github.com/hikube/hikube/pkg/atomicfile"
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

	// Hold every port we keep or pick until all are chosen, so that the
	// choices are distinct and another process cannot take one meanwhile.
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for _, port := range ports.fields() {
		if *port > 0 {
			if l, err := listenLoopback(*port); err == nil {
				held = append(held, l)
				continue
			}
		}
		l, err := listenLoopback(0)
		if err != nil {
			return Ports{}, fmt.Errorf("choosing a free loopback port: %w", err)
		}
		held = append(held, l)
		*port = l.Addr().(*net.TCPAddr).Port
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

func listenLoopback(port int) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
}
