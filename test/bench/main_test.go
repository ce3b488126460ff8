// Package bench compares clusters.apps.hikube.io served by hikube-apiserver
// through the aggregation layer with the same shape served as a CRD
// (clusters.bench.hikube.io) by the same kube-apiserver. One local platform
// (the same as `make run`) serves the whole package; the results and the
// aggregated/CRD ratios are printed at the end of the run.
//
//	go test -count=1 -run '^$' -bench . -benchtime 200x -timeout 60m ./test/bench/
//
// The controller-driven benchmarks (create→Ready, autoscaler reaction) are
// in the provisioning sub-package, with their own platform.
package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/hikube/hikube/pkg/localplatform"
	"github.com/hikube/hikube/test/benchsamples"
)

var env struct {
	platform *localplatform.Platform
	root     string
	cfg      *rest.Config // admin, no client-side rate limit to speak of
	dyn      dynamic.Interface
	kube     kubernetes.Interface
	// direct talks to hikube-apiserver itself, without kube-apiserver's
	// aggregation hop; nil when that does not work (informational only).
	direct dynamic.Interface
	// directKube is the REST side of direct, for the raw variants; nil with direct.
	directKube kubernetes.Interface
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	_, file, _, _ := runtime.Caller(0)
	env.root = filepath.Join(filepath.Dir(file), "..", "..")
	// The binaries `make build` and `make tools` put in _output/bin.
	bin := filepath.Join(env.root, "_output", "bin")
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubectl", "hikube-apiserver"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s missing; run `make tools build` (or `make bench`) first\n", b)
			return 1
		}
	}
	home, err := os.MkdirTemp("", "hikube-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// The API alone: without hikube-controller, which would provision (start
	// processes for) every one of the 11,000 aggregated clusters.
	p, err := localplatform.Start(ctx, localplatform.Options{Home: home, BinDir: bin, Log: os.Stderr, SkipController: true})
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: starting the local platform: %v\n(logs in %s)\n", err, filepath.Join(home, "logs"))
		return 1
	}
	env.platform = p
	code := 1
	if err := initClients(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: clients: %v\n", err)
	} else {
		code = m.Run()
		printSummary(os.Stdout)
		if path, err := benchsamples.Flush("api"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = max(code, 1)
		} else if path != "" {
			fmt.Fprintln(os.Stderr, "samples written to", path)
		}
	}
	if err := p.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: stopping the platform: %v\n", err)
	}
	if code == 0 {
		os.RemoveAll(home)
	} else {
		fmt.Fprintf(os.Stderr, "bench: state and logs kept in %s\n", home)
	}
	return code
}

func initClients() error {
	cfg, err := env.platform.RESTConfig("admin")
	if err != nil {
		return err
	}
	// The setup creates 22,000 objects with 16 workers: no client-side
	// throttling. (kube-apiserver's priority and fairness still applies.)
	cfg.QPS, cfg.Burst = 100000, 100000
	cfg.Timeout = 5 * time.Minute
	// Our admission warns about the production shape (GPUs without the GPU
	// operator); 22,000 times is noise.
	cfg.WarningHandler = rest.NoWarnings{}
	env.cfg = cfg
	if env.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		return err
	}
	if env.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	// hikube-apiserver delegates authentication and authorization to
	// kube-apiserver, so the admin certificate works there too; its serving
	// certificate is not the one kube-apiserver's CA signs, hence Insecure.
	direct := rest.CopyConfig(cfg)
	direct.Host = fmt.Sprintf("https://127.0.0.1:%d", env.platform.Ports().HikubeAPIServer)
	direct.TLSClientConfig.CAData, direct.TLSClientConfig.CAFile = nil, ""
	direct.TLSClientConfig.Insecure = true
	d, err := dynamic.NewForConfig(direct)
	if err != nil {
		return nil
	}
	k, err := kubernetes.NewForConfig(direct)
	if err != nil {
		return nil
	}
	env.direct, env.directKube = d, k
	return nil
}
