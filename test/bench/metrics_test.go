package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// metricSum is the sum of the samples of metric whose labels contain every
// one of labels (`group="apps.hikube.io"`), in a Prometheus text exposition.
func metricSum(text []byte, metric string, labels ...string) float64 {
	var sum float64
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, metric) {
			continue
		}
		rest := line[len(metric):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue // another metric with this prefix
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(rest, l) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		f := strings.Fields(rest[strings.LastIndex(rest, "}")+1:])
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// apiserverMetrics reads /metrics of the server that serves be: hikube-apiserver
// itself for the aggregated backend, kube-apiserver for the CRD.
func apiserverMetrics(ctx context.Context, be backend) ([]byte, error) {
	rc := env.kube.CoreV1().RESTClient()
	if be.name == "aggregated" {
		if env.directKube == nil {
			return nil, fmt.Errorf("no direct client of hikube-apiserver")
		}
		rc = env.directKube.CoreV1().RESTClient()
	}
	return rc.Get().AbsPath("/metrics").DoRaw(ctx)
}

var embeddedEtcdURL = regexp.MustCompile(`"Embedded etcd ready".*clientURL="([^"]+)"`)

// etcdMetrics reads /metrics of the etcd that stores be: hikube-apiserver's
// embedded etcd (its client URL is in the server's log) for the aggregated
// backend, the host etcd for the CRD.
func etcdMetrics(ctx context.Context, be backend) ([]byte, error) {
	url := fmt.Sprintf("http://127.0.0.1:%d", env.platform.Ports().EtcdClient)
	if be.name == "aggregated" {
		log, err := os.ReadFile(env.platform.LogPath("hikube-apiserver"))
		if err != nil {
			return nil, err
		}
		m := embeddedEtcdURL.FindAllSubmatch(log, -1)
		if len(m) == 0 {
			return nil, fmt.Errorf("no embedded etcd URL in the hikube-apiserver log")
		}
		url = string(m[len(m)-1][1])
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("etcd metrics of %s: %w", be.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("etcd metrics of %s: %s", be.name, resp.Status)
	}
	return io.ReadAll(resp.Body)
}
