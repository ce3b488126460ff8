package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/dynamic"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/pkg/controller/cluster"
	"github.com/hikube/hikube/pkg/controller/quotastatus"
	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
	hikubescheme "github.com/hikube/hikube/pkg/generated/clientset/versioned/scheme"
	informers "github.com/hikube/hikube/pkg/generated/informers/externalversions"
	"github.com/hikube/hikube/pkg/platform"
	"github.com/hikube/hikube/pkg/provider"
	"github.com/hikube/hikube/pkg/provider/kubevirt"
	"github.com/hikube/hikube/pkg/provider/local"
	"github.com/hikube/hikube/pkg/quota"
	"github.com/hikube/hikube/pkg/version"
)

// Options are hikube-controller's flags.
type Options struct {
	Kubeconfig           string
	Provider             string
	NodeProvider         string
	KubeVirtNodes        kubevirt.NodesOptions
	KubeVirtCP           kubevirt.ControlPlaneOptions
	EtcdStorageSize      string
	EtcdBootstrapTimeout time.Duration
	EndpointService      string
	StateDir             string
	BinDir               string
	LocalTenantNice      int
	LocalTenantGOGC      int
	LocalSeeds           bool
	LocalSeedDir         string
	Workers              int
	LeaderElect          bool
	LeaderElectNS        string
	LeaderElection       LeaderElectionTimings
	KubeAPIQPS           float32
	KubeAPIBurst         int
	MetricsBindAddress   string
	Controller           cluster.Options
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		Provider:     "local",
		NodeProvider: "",
		KubeVirtNodes: kubevirt.NodesOptions{
			FieldManager: platform.ControllerName,
			Image:        "registry.hikube.io/node:%s",
			TokenTTL:     time.Hour,
			DrainTimeout: 5 * time.Minute,
		},
		KubeVirtCP:           kubevirt.DefaultControlPlaneOptions(),
		EtcdStorageSize:      "10Gi",
		EtcdBootstrapTimeout: kubevirt.DefaultEtcdBootstrapTimeout,
		EndpointService:      string(corev1.ServiceTypeLoadBalancer),
		StateDir:             "/var/lib/hikube/clusters",
		BinDir:               "/usr/local/lib/hikube/bin",
		LocalTenantNice:      DefaultLocalTenantNice,
		LocalTenantGOGC:      DefaultLocalTenantGOGC,
		LocalSeeds:           true,
		Workers:              4,
		LeaderElect:          true,
		LeaderElectNS:        platform.Namespace,
		LeaderElection:       DefaultLeaderElectionTimings(),
		KubeAPIQPS:           50,
		KubeAPIBurst:         100,
		MetricsBindAddress:   "127.0.0.1:9810",
		Controller:           cluster.DefaultOptions(),
	}
}

// NewCommand returns the command that runs the controller.
func NewCommand(ctx context.Context, o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hikube-controller",
		Short: "Reconcile hikube clusters: control planes, node groups, add-ons",
		// --version prints it (stamped by make images).
		Version: version.String(),
		RunE: func(c *cobra.Command, _ []string) error {
			// component-base's cli turns contextual logging off (its default
			// until the feature is GA; kube-apiserver turns it back on by its
			// feature gate): the keys our loggers carry, such as the cluster
			// of a reconcile, would be dropped.
			klog.EnableContextualLogging(true)
			return o.Run(c.Context())
		},
	}
	cmd.SetContext(ctx)
	fs := cmd.Flags()
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Kubeconfig of the host cluster; in-cluster configuration when empty.")
	fs.StringVar(&o.Provider, "control-plane-provider", o.Provider, "Provider of the control planes: local (processes on this machine) or kubevirt (workloads in each cluster's host namespace).")
	fs.StringVar(&o.Provider, "provider", o.Provider, "Provider of the control planes.")
	_ = fs.MarkDeprecated("provider", "use --control-plane-provider")
	fs.StringVar(&o.KubeVirtCP.EtcdStorageClass, "etcd-storage-class", o.KubeVirtCP.EtcdStorageClass, "Host storage class of the etcd members' volumes (kubevirt control planes).")
	fs.StringVar(&o.EtcdStorageSize, "etcd-storage-size", o.EtcdStorageSize, "Volume of each etcd member (kubevirt control planes).")
	fs.DurationVar(&o.EtcdBootstrapTimeout, "etcd-bootstrap-timeout", o.EtcdBootstrapTimeout, "How long every member of a new cluster's etcd may run without becoming ready before its data is made afresh: an etcd killed in its first second can come back unable ever to elect a leader, and a new one holds no data yet (both providers).")
	fs.StringVar(&o.EndpointService, "control-plane-service-type", o.EndpointService, "Type of the Service tenants reach their API through (kubevirt control planes): LoadBalancer, whose ingress address is the endpoint, or ClusterIP.")
	fs.StringToStringVar(&o.KubeVirtCP.NodeSelector, "control-plane-node-selector", o.KubeVirtCP.NodeSelector, "Labels of the host nodes that run control-plane and etcd pods (kubevirt control planes); they tolerate a NoSchedule taint of the first key.")
	fs.StringToStringVar(&o.KubeVirtCP.Versions, "control-plane-versions", o.KubeVirtCP.Versions, "Full version of the control-plane images per minor (v1.37=v1.37.2,…), on top of the built-in table (kubevirt control planes).")
	fs.StringVar(&o.NodeProvider, "node-provider", o.NodeProvider, "Provider of the worker nodes: local (kwok nodes of the local control-plane provider) or kubevirt (KubeVirt VirtualMachines in the host cluster); empty means the control-plane provider's own kind.")
	fs.StringVar(&o.KubeVirtNodes.Image, "kubevirt-node-image", o.KubeVirtNodes.Image, "Node OS image of the KubeVirt workers; %s is the Kubernetes minor (v1.37).")
	fs.StringToStringVar(&o.KubeVirtNodes.StorageClasses, "kubevirt-storage-classes", o.KubeVirtNodes.StorageClasses, "Host storage class of each tenant-facing class for KubeVirt root disks (local=…,replicated=…); unlisted classes keep their name.")
	fs.DurationVar(&o.KubeVirtNodes.TokenTTL, "kubevirt-bootstrap-token-ttl", o.KubeVirtNodes.TokenTTL, "How long a new KubeVirt worker may take to join with its bootstrap token.")
	fs.DurationVar(&o.KubeVirtNodes.DrainTimeout, "kubevirt-drain-timeout", o.KubeVirtNodes.DrainTimeout, "How long a removed KubeVirt worker is drained before its VM is deleted anyway.")
	fs.StringVar(&o.StateDir, "state-dir", o.StateDir, "Directory of the local provider's per-cluster state.")
	fs.StringVar(&o.BinDir, "bin-dir", o.BinDir, "Directory of the upstream binaries the local provider runs (per-minor subdirectories v1.NN).")
	fs.BoolVar(&o.LocalSeeds, "local-bootstrap-seeds", o.LocalSeeds, "Write the default objects a new tenant kube-apiserver would write into its empty etcd (RBAC roles and bindings, priority classes, flow-control schemas and levels) from a copy captured once per kube-apiserver binary in a private run, with fresh UIDs, so that the new control plane is ready sooner (local provider).")
	fs.StringVar(&o.LocalSeedDir, "local-seed-dir", o.LocalSeedDir, "Directory of the bootstrap seeds, one file per kube-apiserver binary; may be shared by several controllers. Empty: bootstrap-seeds beside --state-dir.")
	fs.IntVar(&o.LocalTenantNice, "local-tenant-nice", o.LocalTenantNice, "Nice value (0–19) of the local provider's tenant processes, so that the platform's own (host API, etcd, hikube-apiserver, this controller) come first when the tenants' control planes would take every core; 0 runs them at our priority.")
	fs.IntVar(&o.LocalTenantGOGC, "local-tenant-gogc", o.LocalTenantGOGC, "Garbage-collection target (Go's GOGC, percent) of the local provider's tenant processes: lower keeps less idle heap per tenant for a little more CPU; 0 keeps Go's default (100).")
	fs.IntVar(&o.Workers, "workers", o.Workers, "Clusters reconciled in parallel.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Hold a Lease in the host cluster so that one replica works at a time.")
	fs.StringVar(&o.LeaderElectNS, "leader-elect-namespace", o.LeaderElectNS, "Namespace of the leader-election Lease.")
	fs.DurationVar(&o.LeaderElection.LeaseDuration, "leader-elect-lease-duration", o.LeaderElection.LeaseDuration, "How long a standby waits after the last renewal before it takes the Lease: the longest failover.")
	fs.DurationVar(&o.LeaderElection.RenewDeadline, "leader-elect-renew-deadline", o.LeaderElection.RenewDeadline, "How long the leader keeps retrying a renewal before it gives up leading (and exits); shorter than the lease duration.")
	fs.DurationVar(&o.LeaderElection.RetryPeriod, "leader-elect-retry-period", o.LeaderElection.RetryPeriod, "How often the leader renews and a standby tries to acquire; shorter than the renew deadline.")
	fs.Float32Var(&o.KubeAPIQPS, "kube-api-qps", o.KubeAPIQPS, "Sustained requests per second to the host API (clusters, Secrets, the provider's objects, events).")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", o.KubeAPIBurst, "Requests the host client may send in a burst above --kube-api-qps.")
	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", o.MetricsBindAddress, "Address of the Prometheus /metrics and the /healthz endpoints; empty disables them.")
	fs.DurationVar(&o.Controller.ScaleDownGrace, "scale-down-grace", o.Controller.ScaleDownGrace, "How long a node must stay empty before the autoscaler removes it.")
	fs.DurationVar(&o.Controller.ResyncReady, "resync-ready", o.Controller.ResyncReady, "How often a Ready cluster is checked again when nothing happened: a safety net, as each tenant's node and pod informers and its health check requeue the cluster on the events that matter.")
	fs.DurationVar(&o.Controller.TenantHealthInterval, "tenant-health-interval", o.Controller.TenantHealthInterval, "How often each tenant API is probed (/readyz); a failed probe requeues its cluster. 0 disables the probes.")
	fs.StringVar(&o.Controller.Addons.ChartSource, "addon-chart-source", o.Controller.Addons.ChartSource, "Where add-on charts are pulled from, at the catalog's exact versions: an https:// chart repository (index.yaml, digests checked), an oci:// registry (oci://host/path holding <chart>:<version>), or a local directory of <chart>-<version>.tgz. Empty: add-ons report ChartUnavailable.")
	fs.DurationVar(&o.Controller.Addons.Timeout, "addon-timeout", o.Controller.Addons.Timeout, "Deadline of one Helm action of an add-on, hooks included; a release left pending longer is rolled back or reinstalled.")
	fs.DurationVar(&o.Controller.Addons.Recheck, "addon-recheck", o.Controller.Addons.Recheck, "How often an unchanged add-on is compared with its release again.")
	fs.BoolVar(&o.Controller.Addons.AdmissionWebhooks, "addon-admission-webhooks", o.Controller.Addons.AdmissionWebhooks, "Keep the add-on charts' admission webhooks; false where the tenant API server cannot reach pods (simulated nodes), so charts run without them.")
	return cmd
}

// seedDir is where the local provider keeps bootstrap seeds; empty when
// they are off.
func (o *Options) seedDir() string {
	switch {
	case !o.LocalSeeds:
		return ""
	case o.LocalSeedDir != "":
		return o.LocalSeedDir
	}
	return filepath.Join(filepath.Dir(filepath.Clean(o.StateDir)), "bootstrap-seeds")
}

// DefaultLocalTenantNice runs tenant processes at the lowest priority:
// tenants still get every core nobody else wants, but under autogroup
// scheduling each tenant process is a session of its own, and at a higher
// priority a few dozen of them would leave the platform's one session a
// few percent of the machine.
const DefaultLocalTenantNice = 19

// DefaultLocalTenantGOGC keeps Go's own garbage-collection target in tenant
// processes. A lower one trades start-up CPU for idle memory: at 50 a small
// tenant takes ~30 MB less and its control plane ~0.4 s longer to be Ready
// (docs/benchmarks.md, "Tenant GOGC"); dense hosts may choose it.
const DefaultLocalTenantGOGC = 0

// LeaderElectionTimings are the Lease's timings, kube-controller-manager's
// flags and defaults: a loaded host that answers a renewal slower than the
// renew deadline costs a restart, so platforms on busy hosts raise them.
type LeaderElectionTimings struct {
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
}

// DefaultLeaderElectionTimings are kube-controller-manager's defaults.
func DefaultLeaderElectionTimings() LeaderElectionTimings {
	return LeaderElectionTimings{LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second}
}

// Validate checks the flags that depend on each other.
func (o *Options) Validate() error {
	var errs []error
	le := o.LeaderElection
	if o.LeaderElect {
		// client-go's leaderelection panics on these; say which flag is wrong.
		if le.RetryPeriod <= 0 {
			errs = append(errs, fmt.Errorf("--leader-elect-retry-period must be positive, got %s", le.RetryPeriod))
		}
		if float64(le.RenewDeadline) <= leaderelection.JitterFactor*float64(le.RetryPeriod) {
			errs = append(errs, fmt.Errorf("--leader-elect-renew-deadline (%s) must be longer than %g × --leader-elect-retry-period (%s)", le.RenewDeadline, leaderelection.JitterFactor, le.RetryPeriod))
		}
		if le.LeaseDuration <= le.RenewDeadline {
			errs = append(errs, fmt.Errorf("--leader-elect-lease-duration (%s) must be longer than --leader-elect-renew-deadline (%s)", le.LeaseDuration, le.RenewDeadline))
		}
	}
	if o.EtcdBootstrapTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--etcd-bootstrap-timeout must be positive, got %s", o.EtcdBootstrapTimeout))
	}
	if o.KubeAPIQPS <= 0 {
		errs = append(errs, fmt.Errorf("--kube-api-qps must be positive, got %g", o.KubeAPIQPS))
	}
	if o.KubeAPIBurst < 1 {
		errs = append(errs, fmt.Errorf("--kube-api-burst must be at least 1, got %d", o.KubeAPIBurst))
	}
	return errors.Join(errs...)
}

// Run starts the controller; with leader election, only while leading.
func (o *Options) Run(ctx context.Context) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	if err != nil {
		return fmt.Errorf("host cluster configuration: %w", err)
	}
	if err := o.Validate(); err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = o.KubeAPIQPS, o.KubeAPIBurst
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	hikube, err := clientset.NewForConfig(cfg)
	if err != nil {
		return err
	}
	p, err := o.newProvider(cfg, kube)
	if err != nil {
		return err
	}
	// Events have a client (and a rate limit) of their own: a thousand
	// clusters converging at once tell many stories, which must not slow
	// the reconciles' own requests.
	events, err := kubernetes.NewForConfig(rest.CopyConfig(cfg))
	if err != nil {
		return err
	}
	if err := o.serveMetrics(ctx); err != nil {
		return err
	}
	run := func(ctx context.Context) {
		if err := o.runController(ctx, kube, events, hikube, p); err != nil {
			klog.FromContext(ctx).Error(err, "Controller stopped")
			os.Exit(1)
		}
	}
	if !o.LeaderElect {
		run(ctx)
		return nil
	}
	return o.leaderElect(ctx, cfg, kube, run)
}

// newProvider builds the control-plane provider and, unless it also runs
// the workers, composes it with the worker half --node-provider names.
func (o *Options) newProvider(cfg *rest.Config, kube kubernetes.Interface) (provider.Provider, error) {
	var cp provider.ControlPlanes
	switch o.Provider {
	case "local", "":
		l, err := local.New(local.Options{StateDir: o.StateDir, BinDir: o.BinDir, EtcdBootstrapTimeout: o.EtcdBootstrapTimeout, Nice: o.LocalTenantNice, GOGC: o.LocalTenantGOGC, SeedDir: o.seedDir(), Log: klog.Background().WithName("local")})
		if err != nil {
			return nil, err
		}
		if o.NodeProvider == "local" || o.NodeProvider == "" {
			return l, nil
		}
		cp = l
	case "kubevirt":
		kcp, err := o.kubevirtControlPlane(kube)
		if err != nil {
			return nil, err
		}
		cp = kcp
	default:
		return nil, fmt.Errorf("--control-plane-provider=%q: want local or kubevirt", o.Provider)
	}
	switch o.NodeProvider {
	case "kubevirt", "":
		dyn, err := dynamic.NewForConfig(cfg)
		if err != nil {
			return nil, err
		}
		return provider.Compose(cp, kubevirt.NewNodes(kube, dyn, kubevirt.TenantOf(cp), o.KubeVirtNodes)), nil
	case "local":
		return nil, fmt.Errorf("--node-provider=local runs with --control-plane-provider=local only: kubevirt control planes have KubeVirt workers")
	default:
		return nil, fmt.Errorf("--node-provider=%q: want local or kubevirt", o.NodeProvider)
	}
}

// kubevirtControlPlane is the kubevirt control-plane half from the flags.
func (o *Options) kubevirtControlPlane(kube kubernetes.Interface) (*kubevirt.ControlPlane, error) {
	size, err := resource.ParseQuantity(o.EtcdStorageSize)
	if err != nil {
		return nil, fmt.Errorf("--etcd-storage-size=%q: %w", o.EtcdStorageSize, err)
	}
	opts := o.KubeVirtCP
	opts.EtcdStorageSize = size
	opts.EtcdBootstrapTimeout = o.EtcdBootstrapTimeout
	switch t := corev1.ServiceType(o.EndpointService); t {
	case corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeClusterIP:
		opts.EndpointServiceType = t
	default:
		return nil, fmt.Errorf("--control-plane-service-type=%q: want LoadBalancer or ClusterIP", o.EndpointService)
	}
	// Each key of the node selector may also be a NoSchedule taint of
	// those nodes, keeping other pods off them. Sorted: the pod spec must
	// not change from one start to the next.
	opts.Tolerations = nil
	for _, k := range slices.Sorted(maps.Keys(opts.NodeSelector)) {
		opts.Tolerations = append(opts.Tolerations, corev1.Toleration{Key: k, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})
	}
	opts.StorageClasses = o.KubeVirtNodes.StorageClasses
	return kubevirt.NewControlPlane(kube, opts), nil
}

func (o *Options) runController(ctx context.Context, kube, events kubernetes.Interface, hikube clientset.Interface, p provider.Provider) error {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(hikubescheme.AddToScheme(scheme))
	// The default spam filter gives all events of one object a single bucket
	// (25, then one per 5 minutes): a busy cluster would lose its scaling
	// decisions. One bucket per reason keeps each kind of story told.
	broadcaster := record.NewBroadcaster(record.WithContext(ctx), record.WithCorrelatorOptions(record.CorrelatorOptions{
		SpamKeyFunc: func(e *corev1.Event) string {
			return e.Source.Component + "/" + string(e.InvolvedObject.UID) + "/" + e.Reason
		},
	}))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: events.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	recorder := broadcaster.NewRecorder(scheme, corev1.EventSource{Component: platform.ControllerName})

	factory := informers.NewSharedInformerFactory(hikube, 10*time.Minute)
	ctrl, err := cluster.New(hikube, kube, factory.Apps().V1alpha1().Clusters(), p, recorder, o.Controller)
	if err != nil {
		return err
	}
	cluster.RegisterPhaseCollector(prometheus.DefaultRegisterer, factory.Apps().V1alpha1().Clusters().Lister())
	// The usage records are kept exact by hikube-apiserver as it admits;
	// their reconciler, which corrects drift, needs one writer: the leader.
	kubeFactory := kubeinformers.NewSharedInformerFactory(kube, 10*time.Minute)
	// Of the ConfigMaps, only hikube-system's GPU usage record matters.
	systemFactory := kubeinformers.NewSharedInformerFactoryWithOptions(kube, 10*time.Minute,
		kubeinformers.WithNamespace(platform.Namespace),
		kubeinformers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", quota.GPUUsageName).String()
		}))
	quotaStatus, err := quotastatus.New(kube, factory.Apps().V1alpha1().Clusters(), kubeFactory.Core().V1().ResourceQuotas(),
		systemFactory.Core().V1().ConfigMaps())
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	kubeFactory.Start(ctx.Done())
	systemFactory.Start(ctx.Done())
	go func() {
		if err := quotaStatus.Run(ctx, 1); err != nil {
			klog.FromContext(ctx).Error(err, "Quota status controller stopped")
		}
	}()
	return ctrl.Run(ctx, o.Workers)
}

func (o *Options) leaderElect(ctx context.Context, cfg *rest.Config, kube kubernetes.Interface, run func(context.Context)) error {
	id, err := os.Hostname()
	if err != nil {
		return err
	}
	id = fmt.Sprintf("%s_%d", id, os.Getpid())
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, o.LeaderElectNS, platform.ControllerName,
		kube.CoreV1(), kube.CoordinationV1(), resourcelock.ResourceLockConfig{Identity: id})
	if err != nil {
		return fmt.Errorf("leader-election lock: %w", err)
	}
	leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   o.LeaderElection.LeaseDuration,
		RenewDeadline:   o.LeaderElection.RenewDeadline,
		RetryPeriod:     o.LeaderElection.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            "hikube-controller",
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: run,
			OnStoppedLeading: func() { klog.InfoS("Leadership lost or released", "identity", id) },
		},
	})
	// Losing the lease while nobody asked us to stop (the host API was
	// unreachable past the renew deadline) is a failure, as for
	// kube-controller-manager: exit non-zero so that whatever supervises us
	// counts and shows it, and restarts us to compete again.
	if ctx.Err() == nil {
		return fmt.Errorf("leader election lost (identity %s): the Lease could not be renewed within %s", id, o.LeaderElection.RenewDeadline)
	}
	return nil
}

func (o *Options) serveMetrics(ctx context.Context) error {
	cluster.Register(prometheus.DefaultRegisterer)
	if o.MetricsBindAddress == "" {
		return nil
	}
	l, err := net.Listen("tcp", o.MetricsBindAddress)
	if err != nil {
		return fmt.Errorf("metrics endpoint %s: %w", o.MetricsBindAddress, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.Handler())
	// /healthz answers while the process serves, leader or standby: the
	// install chart's probes use it.
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			klog.ErrorS(err, "Metrics endpoint stopped")
		}
	}()
	klog.InfoS("Serving metrics", "address", l.Addr().String())
	return nil
}
