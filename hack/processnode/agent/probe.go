package agent

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// probeClient does httpGet probes like the kubelet: no certificate checks,
// no keep-alive, redirects not followed (a 3xx counts as success).
var probeClient = &http.Client{
	Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // probes, as the kubelet's
		DisableKeepAlives: true,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Probe runs one check of p against a container at podIP. Exec probes cannot
// run (the image's other binaries do not exist here) and count as success;
// gRPC probes are a TCP connect to their port.
func Probe(ctx context.Context, p *corev1.Probe, c *corev1.Container, podIP string) error {
	timeout := time.Duration(max(p.TimeoutSeconds, 1)) * time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case p.HTTPGet != nil:
		g := p.HTTPGet
		port, err := resolvePort(g.Port, c)
		if err != nil {
			return err
		}
		host := g.Host
		if host == "" {
			host = podIP
		}
		scheme := "http"
		if g.Scheme == corev1.URISchemeHTTPS {
			scheme = "https"
		}
		url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, strconv.Itoa(port)), g.Path)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("User-Agent", "kube-probe/hikube-process-node")
		for _, h := range g.HTTPHeaders {
			req.Header.Set(h.Name, h.Value)
		}
		resp, err := probeClient.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
		}
		return nil
	case p.TCPSocket != nil, p.GRPC != nil:
		var port int
		var err error
		host := podIP
		if p.TCPSocket != nil {
			port, err = resolvePort(p.TCPSocket.Port, c)
			if p.TCPSocket.Host != "" {
				host = p.TCPSocket.Host
			}
		} else {
			port = int(p.GRPC.Port)
		}
		if err != nil {
			return err
		}
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return conn.Close()
	}
	return nil
}

func resolvePort(p intstr.IntOrString, c *corev1.Container) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("container %s has no port named %q", c.Name, p.StrVal)
}

// prober tracks the consecutive results of one probe against its thresholds.
type prober struct {
	probe              *corev1.Probe
	successes, fails   int32
	successThreshold   int32
	failureThreshold   int32
	period, initialDel time.Duration
}

func newProber(p *corev1.Probe) *prober {
	return &prober{
		probe:            p,
		successThreshold: max(p.SuccessThreshold, 1),
		failureThreshold: max(p.FailureThreshold, 1),
		period:           time.Duration(max(p.PeriodSeconds, 1)) * time.Second,
		initialDel:       time.Duration(p.InitialDelaySeconds) * time.Second,
	}
}

// record returns +1 when the success threshold is reached, -1 when the
// failure threshold is, 0 otherwise.
func (p *prober) record(err error) int {
	if err == nil {
		p.fails = 0
		p.successes++
		if p.successes >= p.successThreshold {
			return 1
		}
		return 0
	}
	p.successes = 0
	p.fails++
	if p.fails >= p.failureThreshold {
		return -1
	}
	return 0
}
