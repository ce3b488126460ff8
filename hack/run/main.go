// Command run starts the local hikube platform (`make run`): etcd, a host
// kube-apiserver, hikube-apiserver and its APIService, with two tenants. It
// prints how to use it and stops everything on Ctrl-C. State lives in
// $HIKUBE_HOME (default _output/local) and is reused by the next run.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/hikube/hikube/pkg/localplatform"
)

func main() {
	if err := run(os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "hikube-local: %v\n", err)
		os.Exit(1)
	}
}

func run(stdout, stderr io.Writer) error {
	home := os.Getenv("HIKUBE_HOME")
	if home == "" {
		home = filepath.Join("_output", "local")
	}
	binDir := os.Getenv("HIKUBE_BIN_DIR")
	if binDir == "" {
		binDir = filepath.Join("_output", "bin")
	}

	// A signal during start-up cancels it; after it, the same signal stops
	// the platform.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// HIKUBE_PROVIDER=kubevirt gives the clusters KubeVirt workers, on the
	// simulated KubeVirt of the local platform; the default is local.
	nodes := os.Getenv("HIKUBE_PROVIDER")
	switch nodes {
	case "", "local", localplatform.NodeProviderKubeVirt:
	default:
		return fmt.Errorf("HIKUBE_PROVIDER=%q: want local or kubevirt", nodes)
	}
	// HIKUBE_INSTALL=chart installs hikube itself with its Helm chart into
	// the host cluster, its pods run by the process node of the kubevirt
	// mode, which it therefore implies.
	install := os.Getenv("HIKUBE_INSTALL")
	switch install {
	case "", "processes":
		install = ""
	case localplatform.InstallChart:
		if nodes == "local" {
			return fmt.Errorf("HIKUBE_INSTALL=chart runs the chart's kubevirt providers: it does not combine with HIKUBE_PROVIDER=local")
		}
		nodes = localplatform.NodeProviderKubeVirt
	default:
		return fmt.Errorf("HIKUBE_INSTALL=%q: want chart, or unset", install)
	}
	// HIKUBE_TENANT_GOGC=N runs the local provider's tenant processes with
	// GOGC=N: less memory per tenant, slower starts (docs/local-provider.md).
	var tenantGOGC int
	if v := os.Getenv("HIKUBE_TENANT_GOGC"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("HIKUBE_TENANT_GOGC=%q: want a positive percentage, e.g. 50", v)
		}
		if nodes == localplatform.NodeProviderKubeVirt {
			return fmt.Errorf("HIKUBE_TENANT_GOGC applies to the local provider's tenant processes: it does not combine with the kubevirt mode")
		}
		tenantGOGC = n
	}
	p, err := localplatform.Start(ctx, localplatform.Options{Home: home, BinDir: binDir, Log: stderr, NodeProvider: nodes, Install: install, Supervise: true, TenantGOGC: tenantGOGC})
	if err != nil {
		return err
	}
	printUsage(stdout, p)
	if install == localplatform.InstallChart {
		fmt.Fprintf(stdout, `hikube itself is the Helm release hikube-system/hikube of artifacts/charts/hikube, its pods run
by the process node: kubectl --kubeconfig %s -n hikube-system get pods -o wide
`, p.KubeconfigPath("admin"))
	}

	<-ctx.Done()
	stop() // a second Ctrl-C ends us at once; the children die with us
	fmt.Fprintln(stderr, "hikube-local: stopping")
	return p.Stop()
}

func printUsage(w io.Writer, p *localplatform.Platform) {
	alice, bob := p.KubeconfigPath("alice"), p.KubeconfigPath("bob")
	fmt.Fprintf(w, `
hikube is ready.

  export KUBECONFIG=%s

Tenant users (each admin of its own namespace only, which is their default):
  alice (tenant-a): %s
  bob   (tenant-b): %s

Try (as alice):
  export KUBECONFIG=%s
  kubectl apply -f artifacts/examples/
  kubectl wait --for=condition=Ready clusters --all --timeout=3m
  kubectl get clusters
  kubectl get --raw /apis/apps.hikube.io/v1alpha1/namespaces/tenant-a/clusters/ml/kubeconfig > ml.kubeconfig
  kubectl --kubeconfig ml.kubeconfig get nodes

Add-ons (kubectl hikube addon enable CLUSTER cert-manager ...) are Helm releases of
local stand-in charts (test/charts) served by this process, not the real charts;
HIKUBE_ADDON_CHART_SOURCE=https://... or oci://... (or a directory of .tgz) makes
hikube-controller pull the real ones from a chart repository.

Tenant clusters run under %s; logs are in %s. Press Ctrl-C to stop.
`, p.KubeconfigPath("admin"), alice, bob, alice, p.ClustersDir(), filepath.Join(p.Home(), "logs"))
}
