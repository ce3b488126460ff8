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

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/plugin/pkg/printers"
)

type getOptions struct {
	f             *Factory
	output        *OutputFlags
	allNamespaces bool
	selector      string
	names         []string
}

func newGetCmd(f *Factory) *cobra.Command {
	o := &getOptions{f: f, output: newOutputFlags("")}
	get := &cobra.Command{Use: "get", Short: "List clusters"}
	c := &cobra.Command{
		Use:               "clusters [NAME...]",
		Aliases:           []string{"cluster", "cl"},
		Short:             "List clusters: NAME VERSION PHASE NODES GPUS AGE",
		Example:           "  kubectl hikube get clusters\n  kubectl hikube get clusters -o wide\n  kubectl hikube get cluster web -o yaml\n  kubectl hikube get clusters -A -o custom-columns=NS:.metadata.namespace,NAME:.metadata.name,PHASE:.status.phase",
		ValidArgsFunction: completeClusters(f),
		RunE: func(c *cobra.Command, args []string) error {
			o.names = args
			if err := o.output.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	c.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "list the clusters of every namespace you may read")
	c.Flags().StringVarP(&o.selector, "selector", "l", "", "label selector")
	o.output.AddFlags(c, true)
	get.AddCommand(c)
	return get
}

func (o *getOptions) Run() error {
	ctx, cancel := Context()
	defer cancel()
	ns := ""
	if !o.allNamespaces {
		var err error
		if ns, err = o.f.Namespace(); err != nil {
			return err
		}
	}
	clusters, err := o.f.Clusters(ns)
	if err != nil {
		return err
	}
	var items []v1alpha1.Cluster
	if len(o.names) > 0 {
		for _, n := range o.names {
			c, err := clusters.Get(ctx, n, metav1.GetOptions{})
			if err != nil {
				return err
			}
			items = append(items, *c)
		}
	} else {
		list, err := clusters.List(ctx, metav1.ListOptions{LabelSelector: o.selector})
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
	if o.output.Human() && o.output.Format() != "" && o.output.Format() != "wide" {
		return o.output.PrintObjects(o.f.Streams.Out, clusterObjects(items)...)
	}
	if o.output.Human() {
		if len(items) == 0 {
			where := "namespace " + ns
			if o.allNamespaces {
				where = "any namespace"
			}
			fmt.Fprintf(o.f.Streams.ErrOut, "No clusters in %s. Create one: kubectl hikube create cluster NAME --node-group name=workers,min=1\n", where)
			return nil
		}
		return printers.ClustersTable(o.f.Streams.Out, items, o.output.Format() == "wide", o.allNamespaces, time.Now())
	}
	if len(o.names) == 1 {
		setClusterKind(&items[0])
		return o.output.PrintObjects(o.f.Streams.Out, &items[0])
	}
	return o.output.PrintObjects(o.f.Streams.Out, clusterList(items))
}

type statusOptions struct {
	f      *Factory
	output *OutputFlags
}

func newStatusCmd(f *Factory) *cobra.Command {
	o := &statusOptions{f: f, output: newOutputFlags("")}
	c := &cobra.Command{
		Use:               "status NAME",
		Short:             "Show a cluster: summary, node groups, add-ons, conditions, events and what to do next",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.output.Validate(); err != nil {
				return err
			}
			return o.Run(args[0])
		},
	}
	o.output.AddFlags(c, true)
	return c
}

func (o *statusOptions) Run(name string) error {
	ctx, cancel := Context()
	defer cancel()
	ns, err := o.f.Namespace()
	if err != nil {
		return err
	}
	clusters, err := o.f.Clusters(ns)
	if err != nil {
		return err
	}
	c, err := clusters.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if !o.output.Human() || o.output.Format() != "" {
		setClusterKind(c)
		return o.output.PrintObjects(o.f.Streams.Out, c)
	}
	events, err := clusterEvents(o.f, ns, c)
	if err != nil {
		// Events are a bonus: a user who may not list them still gets the status.
		fmt.Fprintf(o.f.Streams.ErrOut, "Warning: events not shown: %v\n", err)
	}
	return printers.Status(o.f.Streams.Out, c, events, time.Now(), o.f.Style())
}

func eventSelector(c *v1alpha1.Cluster) string {
	return fields.Set{
		"involvedObject.kind": "Cluster",
		"involvedObject.name": c.Name,
	}.AsSelector().String()
}

func clusterEvents(f *Factory, ns string, c *v1alpha1.Cluster) ([]corev1.Event, error) {
	ctx, cancel := Context()
	defer cancel()
	kube, err := f.Kube()
	if err != nil {
		return nil, err
	}
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

func newEventsCmd(f *Factory) *cobra.Command {
	var watchFlag bool
	c := &cobra.Command{
		Use:               "events NAME",
		Short:             "Show the events of a cluster (--watch follows them)",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE: func(c *cobra.Command, args []string) error {
			ns, clusters, err := f.NamespacedClusters()
			if err != nil {
				return err
			}
			ctx, cancel := Context()
			defer cancel()
			cl, err := clusters.Get(ctx, args[0], metav1.GetOptions{})
			if err != nil {
				return err
			}
			events, err := clusterEvents(f, ns, cl)
			if err != nil {
				return err
			}
			if len(events) == 0 && !watchFlag {
				fmt.Fprintf(f.Streams.ErrOut, "No events for cluster %s/%s.\n", ns, cl.Name)
				return nil
			}
			if err := printers.EventsTable(f.Streams.Out, events, time.Now(), true); err != nil {
				return err
			}
			if !watchFlag {
				return nil
			}
			return watchEvents(ctx, f, ns, cl, len(events) == 0)
		},
	}
	c.Flags().BoolVarP(&watchFlag, "watch", "w", false, "after listing, print new events as they come (Ctrl-C stops)")
	return c
}

func watchEvents(ctx context.Context, f *Factory, ns string, cl *v1alpha1.Cluster, header bool) error {
	kube, err := f.Kube()
	if err != nil {
		return err
	}
	list, err := kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: eventSelector(cl), Limit: 1})
	if err != nil {
		return err
	}
	w, err := kube.CoreV1().Events(ns).Watch(ctx, metav1.ListOptions{FieldSelector: eventSelector(cl), ResourceVersion: list.ResourceVersion})
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
			if err := printers.EventsTable(f.Streams.Out, []corev1.Event{*e}, time.Now(), header); err != nil {
				return err
			}
			header = false
		}
	}
}
