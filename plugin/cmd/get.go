package cmd

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	typedv1alpha1 "github.com/hikube/hikube/pkg/generated/clientset/versioned/typed/apps/v1alpha1"
	"github.com/hikube/hikube/plugin/pkg/printers"
)

// GetOptions are the options of `get clusters`.
type GetOptions struct {
	genericiooptions.IOStreams
	Output        *OutputFlags
	AllNamespaces bool
	Selector      string
	Names         []string

	// Set by Complete (or by a test).
	Namespace string // "" with AllNamespaces
	Clusters  typedv1alpha1.ClusterInterface
}

// NewGetOptions returns the options of `get clusters` with their defaults.
func NewGetOptions(streams genericiooptions.IOStreams) *GetOptions {
	return &GetOptions{IOStreams: streams, Output: newTableOutputFlags()}
}

func newGetCmd(f *Factory) *cobra.Command {
	o := NewGetOptions(f.Streams)
	get := &cobra.Command{Use: "get", Short: "List clusters"}
	c := &cobra.Command{
		Use:               "clusters [NAME...]",
		Aliases:           []string{"cluster", "cl"},
		Short:             "List clusters: NAME VERSION PHASE NODES GPUS AGE",
		Example:           "  kubectl hikube get clusters\n  kubectl hikube get clusters -o wide\n  kubectl hikube get cluster web -o yaml\n  kubectl hikube get clusters -A -o custom-columns=NS:.metadata.namespace,NAME:.metadata.name,PHASE:.status.phase",
		ValidArgsFunction: completeClusters(f),
		RunE:              runE(f, o),
	}
	c.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "list the clusters of every namespace you may read")
	c.Flags().StringVarP(&o.Selector, "selector", "l", "", "label selector")
	o.Output.AddFlags(c)
	get.AddCommand(c)
	return get
}

// Complete takes the names and makes the clusters client of the namespace
// (of every namespace with -A).
func (o *GetOptions) Complete(f *Factory, _ *cobra.Command, args []string) error {
	o.Names = args
	if !o.AllNamespaces {
		ns, err := f.Namespace()
		if err != nil {
			return err
		}
		o.Namespace = ns
	}
	var err error
	o.Clusters, err = f.Clusters(o.Namespace)
	return err
}

// Validate refuses an unknown -o.
func (o *GetOptions) Validate() error { return o.Output.Validate() }

// Run lists (or gets) the clusters and prints them.
func (o *GetOptions) Run(ctx context.Context) error {
	var items []v1alpha1.Cluster
	if len(o.Names) > 0 {
		for _, n := range o.Names {
			c, err := o.Clusters.Get(ctx, n, metav1.GetOptions{})
			if err != nil {
				return err
			}
			items = append(items, *c)
		}
	} else {
		list, err := o.Clusters.List(ctx, metav1.ListOptions{LabelSelector: o.Selector})
		if err != nil {
			return err
		}
		items = list.Items
		sort.Slice(items, func(i, j int) bool {
			if items[i].Namespace != items[j].Namespace {
				return items[i].Namespace < items[j].Namespace
			}
			return items[i].Name < items[j].Name
		})
	}
	if o.Output.Human() && o.Output.Format() != "" && o.Output.Format() != "wide" {
		return o.Output.PrintObjects(o.Out, clusterObjects(items)...)
	}
	if o.Output.Human() {
		if len(items) == 0 {
			where := "namespace " + o.Namespace
			if o.AllNamespaces {
				where = "any namespace"
			}
			fmt.Fprintf(o.ErrOut, "No clusters in %s. Create one: kubectl hikube create cluster NAME --node-group name=workers,min=1\n", where)
			return nil
		}
		return printers.ClustersTable(o.Out, items, o.Output.Format() == "wide", o.AllNamespaces, time.Now())
	}
	if len(o.Names) == 1 {
		setClusterKind(&items[0])
		return o.Output.PrintObjects(o.Out, &items[0])
	}
	return o.Output.PrintObjects(o.Out, clusterList(items))
}

// StatusOptions are the options of `status`.
type StatusOptions struct {
	genericiooptions.IOStreams
	Output *OutputFlags
	Name   string

	// Set by Complete (or by a test).
	Namespace string
	Clusters  typedv1alpha1.ClusterInterface
	Kube      kubernetes.Interface // events
	Style     printers.Style
}

// NewStatusOptions returns the options of `status` with their defaults.
func NewStatusOptions(streams genericiooptions.IOStreams) *StatusOptions {
	return &StatusOptions{IOStreams: streams, Output: newTableOutputFlags()}
}

func newStatusCmd(f *Factory) *cobra.Command {
	o := NewStatusOptions(f.Streams)
	c := &cobra.Command{
		Use:               "status NAME",
		Short:             "Show a cluster: summary, node groups, add-ons, conditions, events and what to do next",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE:              runE(f, o),
	}
	o.Output.AddFlags(c)
	return c
}

// Complete takes the name and makes the clients.
func (o *StatusOptions) Complete(f *Factory, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	var err error
	if o.Namespace, o.Clusters, err = f.NamespacedClusters(); err != nil {
		return err
	}
	if o.Kube, err = f.Kube(); err != nil {
		return err
	}
	o.Style = f.Style()
	return nil
}

// Validate refuses an unknown -o.
func (o *StatusOptions) Validate() error { return o.Output.Validate() }

// Run prints the status page (or the object in a machine format).
func (o *StatusOptions) Run(ctx context.Context) error {
	c, err := o.Clusters.Get(ctx, o.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if !o.Output.Human() || o.Output.Format() != "" {
		setClusterKind(c)
		return o.Output.PrintObjects(o.Out, c)
	}
	events, err := clusterEvents(ctx, o.Kube, o.Namespace, c)
	if err != nil {
		// Events are a bonus: a user who may not list them still gets the status.
		fmt.Fprintf(o.ErrOut, "Warning: events not shown: %v\n", err)
	}
	return printers.Status(o.Out, c, events, time.Now(), o.Style)
}

func eventSelector(c *v1alpha1.Cluster) string {
	return fields.Set{
		"involvedObject.kind": "Cluster",
		"involvedObject.name": c.Name,
	}.AsSelector().String()
}

func clusterEvents(ctx context.Context, kube kubernetes.Interface, ns string, c *v1alpha1.Cluster) ([]corev1.Event, error) {
	list, err := kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: eventSelector(c)})
	if err != nil {
		return nil, err
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if e.InvolvedObject.UID == "" || e.InvolvedObject.UID == c.UID {
			out = append(out, e)
		}
	}
	return out, nil
}

// EventsOptions are the options of `events`.
type EventsOptions struct {
	genericiooptions.IOStreams
	Name  string
	Watch bool

	// Set by Complete (or by a test).
	Namespace string
	Clusters  typedv1alpha1.ClusterInterface
	Kube      kubernetes.Interface
}

// NewEventsOptions returns the options of `events` with their defaults.
func NewEventsOptions(streams genericiooptions.IOStreams) *EventsOptions {
	return &EventsOptions{IOStreams: streams}
}

func newEventsCmd(f *Factory) *cobra.Command {
	o := NewEventsOptions(f.Streams)
	c := &cobra.Command{
		Use:               "events NAME",
		Short:             "Show the events of a cluster (--watch follows them)",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE:              runE(f, o),
	}
	c.Flags().BoolVarP(&o.Watch, "watch", "w", false, "after listing, print new events as they come (Ctrl-C stops)")
	return c
}

// Complete takes the name and makes the clients.
func (o *EventsOptions) Complete(f *Factory, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	var err error
	if o.Namespace, o.Clusters, err = f.NamespacedClusters(); err != nil {
		return err
	}
	o.Kube, err = f.Kube()
	return err
}

// Validate has nothing to check: the name is the only input.
func (o *EventsOptions) Validate() error { return nil }

// Run lists the events and, with --watch, follows them until ctx ends.
func (o *EventsOptions) Run(ctx context.Context) error {
	cl, err := o.Clusters.Get(ctx, o.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	events, err := clusterEvents(ctx, o.Kube, o.Namespace, cl)
	if err != nil {
		return err
	}
	if len(events) == 0 && !o.Watch {
		fmt.Fprintf(o.ErrOut, "No events for cluster %s/%s.\n", o.Namespace, cl.Name)
		return nil
	}
	if len(events) > 0 {
		if err := printers.EventsTable(o.Out, events, time.Now(), true); err != nil {
			return err
		}
	}
	if !o.Watch {
		return nil
	}
	// The header comes with the first event, listed or watched, once.
	return o.watch(ctx, cl, len(events) == 0)
}

func (o *EventsOptions) watch(ctx context.Context, cl *v1alpha1.Cluster, header bool) error {
	events := o.Kube.CoreV1().Events(o.Namespace)
	list, err := events.List(ctx, metav1.ListOptions{FieldSelector: eventSelector(cl), Limit: 1})
	if err != nil {
		return err
	}
	w, err := events.Watch(ctx, metav1.ListOptions{FieldSelector: eventSelector(cl), ResourceVersion: list.ResourceVersion})
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return fmt.Errorf("the event watch closed; run the command again")
			}
			if ev.Type != watch.Added && ev.Type != watch.Modified {
				continue
			}
			e, ok := ev.Object.(*corev1.Event)
			if !ok {
				continue
			}
			if err := printers.EventsTable(o.Out, []corev1.Event{*e}, time.Now(), header); err != nil {
				return err
			}
			header = false
		}
	}
}
