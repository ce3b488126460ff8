// Command hikube-process-node is a SIMULATION for the test environment of
// the local kubevirt mode (docs/process-node.md): it registers host Nodes
// process-<datacenter> and plays their kubelet, running the pods of the
// allow-listed control-plane images (registry.k8s.io/kube-apiserver,
// kube-controller-manager, kube-scheduler, etcd) as processes from
// _output/bin, each pod in a network namespace of its own. It also stands in
// for a LoadBalancer implementation and for the host's storage provisioner.
// It needs root. SIGINT or SIGTERM stops every pod process and removes every
// namespace, link and address it made; `cleanup <home>` removes what an
// agent killed before it could do so left.
//
//	hikube-process-node --kubeconfig admin.kubeconfig --bin _output/bin --home _output/local/process-node
//	hikube-process-node cleanup _output/local/process-node
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/hack/processnode/agent"
	"github.com/hikube/hikube/pkg/catalog"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == agent.LaunchCommand {
		err := agent.Launch(os.Args[2:])
		fmt.Fprintln(os.Stderr, err)
		os.Exit(127)
	}
	if len(os.Args) > 1 && os.Args[1] == "cleanup" {
		// hikube-process-node cleanup <home>: what a killed agent left.
		if len(os.Args) != 3 {
			fmt.Fprintln(os.Stderr, "usage: hikube-process-node cleanup <home>")
			os.Exit(2)
		}
		if err := agent.Cleanup(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	klog.InitFlags(nil)
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the host cluster")
	bin := flag.String("bin", "_output/bin", "directory of etcd and vX.Y/<component> binaries")
	home := flag.String("home", "_output/local/process-node", "state directory")
	dcs := flag.String("datacenters", strings.Join(catalog.Datacenters, ","), "one process node per datacenter")
	entrypoints := agent.Entrypoints{}
	flag.Func("image", "<repository>=<binary>: run containers of that image (any tag) as that binary, the image's entrypoint (repeatable)", func(s string) error {
		repo, bin, err := agent.ParseEntrypoint(s)
		if err == nil {
			entrypoints[repo] = bin
		}
		return err
	})
	flag.Parse()
	if err := run(*kubeconfig, *bin, *home, strings.Split(*dcs, ","), entrypoints); err != nil {
		klog.ErrorS(err, "Process node failed")
		os.Exit(1)
	}
}

func run(kubeconfig, bin, home string, dcs []string, entrypoints agent.Entrypoints) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("loading the host kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	self, err := os.Executable()
	if err != nil {
		return err
	}
	// Pods' kubernetes Service leads where the agent's own client goes.
	server, err := url.Parse(cfg.Host)
	if err != nil || server.Host == "" {
		return fmt.Errorf("the host kubeconfig's server %q: want https://host:port", cfg.Host)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return agent.Run(ctx, agent.Options{
		Client: kubernetes.NewForConfigOrDie(cfg), Bin: bin, Home: home, Datacenters: dcs, Self: self,
		Entrypoints: entrypoints, APIServer: server.Host,
	})
}
