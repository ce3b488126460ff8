// Package embeddedetcd runs an etcd server inside hikube-apiserver for
// installations without an external etcd (the default of the local platform).
// Production passes --etcd-servers instead.
package embeddedetcd

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/pkg/portalloc"
)

// Server is a running embedded etcd.
type Server struct {
	etcd *embed.Etcd
	// ClientURL is the address of the etcd server for clients outside this
	// process, and for the storage backend's health checks.
	ClientURL string
	// inProcess is the client of RESTOptionsGetter's storage.
	inProcess inProcess
}

// Start runs etcd with its data under dir, serving clients on a free loopback
// port only; the data survives restarts (and kill -9) of the process.
func Start(ctx context.Context, dir string) (*Server, error) {
	// Both ports are chosen while the other is held, so they differ.
	var clientPort, peerPort int
	if _, err := portalloc.Settle([]*int{&clientPort, &peerPort}, nil); err != nil {
		return nil, fmt.Errorf("embedded etcd: %w", err)
	}
	clientURL, peerURL := loopbackURL(clientPort), loopbackURL(peerPort)
	cfg := embed.NewConfig()
	cfg.Name = "hikube"
	cfg.Dir = dir
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	cfg.ListenPeerUrls = []url.URL{*peerURL}
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	cfg.InitialCluster = cfg.Name + "=" + peerURL.String()
	cfg.LogLevel = "warn"
	// The peer URL changes between runs; a single member may rewrite it.
	cfg.StrictReconfigCheck = false

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting embedded etcd in %s: %w", dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s failed: %w", dir, err)
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s not ready after 60s", dir)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	klog.InfoS("Embedded etcd ready", "dataDir", dir, "clientURL", clientURL.String())
	return &Server{etcd: e, ClientURL: clientURL.String()}, nil
}

// Stop closes the in-process client and etcd.
func (s *Server) Stop() {
	s.stopClients()
	s.etcd.Close()
}

func loopbackURL(port int) *url.URL {
	return &url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
}
