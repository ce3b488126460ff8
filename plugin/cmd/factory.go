package cmd

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
	typedv1alpha1 "github.com/hikube/hikube/pkg/generated/clientset/versioned/typed/apps/v1alpha1"
	"github.com/hikube/hikube/plugin/pkg/kubeconfig"
	"github.com/hikube/hikube/plugin/pkg/printers"
	"github.com/hikube/hikube/plugin/pkg/term"
)

// Factory gives the verbs what they need from the kubeconfig and the streams.
type Factory struct {
	ConfigFlags *genericclioptions.ConfigFlags
	Streams     genericiooptions.IOStreams
}

// Namespace is -n, else the context's namespace, else "default".
func (f *Factory) Namespace() (string, error) {
	ns, _, err := f.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", fmt.Errorf("reading the namespace from the kubeconfig: %w", err)
	}
	return ns, nil
}

// RESTConfig is the client configuration of the selected context.
func (f *Factory) RESTConfig() (*rest.Config, error) {
	cfg, err := f.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	cfg.UserAgent = "kubectl-hikube"
	return cfg, nil
}

// Hikube is the generated clientset.
func (f *Factory) Hikube() (clientset.Interface, error) {
	cfg, err := f.RESTConfig()
	if err != nil {
		return nil, err
	}
	return clientset.NewForConfig(cfg)
}

// Clusters is the clusters client of namespace ns.
func (f *Factory) Clusters(ns string) (typedv1alpha1.ClusterInterface, error) {
	cs, err := f.Hikube()
	if err != nil {
		return nil, err
	}
	return cs.AppsV1alpha1().Clusters(ns), nil
}

// NamespacedClusters is the namespace of the command (-n, else the
// context's) and the clusters client for it: the start of most verbs.
func (f *Factory) NamespacedClusters() (string, typedv1alpha1.ClusterInterface, error) {
	ns, err := f.Namespace()
	if err != nil {
		return "", nil, err
	}
	clusters, err := f.Clusters(ns)
	return ns, clusters, err
}

// Kube is the core clientset (events).
func (f *Factory) Kube() (kubernetes.Interface, error) {
	cfg, err := f.RESTConfig()
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// Ref identifies a cluster for the kubeconfig entries: the host API server
// and the cluster's namespace and name.
func (f *Factory) Ref(ns, name string) (kubeconfig.ClusterRef, error) {
	cfg, err := f.RESTConfig()
	if err != nil {
		return kubeconfig.ClusterRef{}, err
	}
	return kubeconfig.ClusterRef{Host: cfg.Host, Namespace: ns, Name: name}, nil
}

// Style is the colour style of stdout.
func (f *Factory) Style() printers.Style {
	return printers.Style{Color: term.ColorEnabled(f.Streams.Out)}
}

// Context is cancelled by Ctrl-C.
func Context() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// WaitFlags are --wait and --timeout.
type WaitFlags struct {
	Wait    bool
	Timeout time.Duration
}
