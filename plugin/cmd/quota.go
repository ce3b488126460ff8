package cmd

import (
	"context"
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"

	"github.com/hikube/hikube/pkg/quota"
	"github.com/hikube/hikube/plugin/pkg/printers"
)

const quotaLong = `Show the usage and limits of your tenant (the namespace): clusters, worker nodes, vCPU,
memory, control-plane replicas and GPUs per model, as 'kubectl describe quota' shows them.

The limits are the hikube.io/ keys (and count/clusters.apps.hikube.io) of the tenant's
ResourceQuotas; the platform writes their usage to the quota's status, counted at each node
group's maxReplicas (what a group may grow to without asking again). A create or scale that
would go over a limit is refused with the numbers. Without a quota the tenant is unlimited;
GPU capacity still applies ('kubectl hikube gpu list').`

// QuotaOptions are the options of `quota`.
type QuotaOptions struct {
	genericiooptions.IOStreams

	// Set by Complete (or by a test).
	Namespace string
	Kube      kubernetes.Interface
}

// NewQuotaOptions returns the options of `quota`.
func NewQuotaOptions(streams genericiooptions.IOStreams) *QuotaOptions {
	return &QuotaOptions{IOStreams: streams}
}

func newQuotaCmd(f *Factory) *cobra.Command {
	o := NewQuotaOptions(f.Streams)
	return &cobra.Command{
		Use:     "quota",
		Aliases: []string{"quotas", "usage"},
		Short:   "Show the tenant's usage and limits: clusters, nodes, vCPU, memory, GPUs per model",
		Long:    quotaLong,
		Example: "  kubectl hikube quota\n  kubectl hikube quota -n tenant-b",
		Args:    exactArgs(),
		RunE:    runE(f, o),
	}
}

// Complete reads the namespace and makes the client.
func (o *QuotaOptions) Complete(f *Factory, _ *cobra.Command, _ []string) error {
	var err error
	if o.Namespace, err = f.Namespace(); err != nil {
		return err
	}
	o.Kube, err = f.Kube()
	return err
}

// Validate has nothing to check.
func (o *QuotaOptions) Validate() error { return nil }

// Run prints the quotas that limit clusters.
func (o *QuotaOptions) Run(ctx context.Context) error {
	list, err := o.Kube.CoreV1().ResourceQuotas(o.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var applies []corev1.ResourceQuota
	for i := range list.Items {
		if quota.Applies(&list.Items[i]) {
			applies = append(applies, list.Items[i])
		}
	}
	if len(applies) == 0 {
		fmt.Fprintf(o.ErrOut, "No quota limits clusters in namespace %s: clusters, nodes, vCPU, memory and GPUs are unlimited (GPU capacity still applies: kubectl hikube gpu list).\n", o.Namespace)
		return nil
	}
	sort.Slice(applies, func(i, j int) bool { return applies[i].Name < applies[j].Name })
	return printers.Quotas(o.Out, applies)
}
