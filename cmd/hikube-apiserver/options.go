package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/spf13/cobra"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/group"
	unionauth "k8s.io/apiserver/pkg/authentication/request/union"
	"k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/util/compatibility"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	netutils "k8s.io/utils/net"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	catalogadmission "github.com/hikube/hikube/pkg/admission/catalog"
	quotaadmission "github.com/hikube/hikube/pkg/admission/quota"
	"github.com/hikube/hikube/pkg/admission/reserved"
	"github.com/hikube/hikube/pkg/admission/tenancy"
	"github.com/hikube/hikube/pkg/apiserver"
	"github.com/hikube/hikube/pkg/apiserver/authzretry"
	"github.com/hikube/hikube/pkg/apiserver/frontproxy"
	"github.com/hikube/hikube/pkg/embeddedetcd"
	generatedopenapi "github.com/hikube/hikube/pkg/generated/openapi"
	"github.com/hikube/hikube/pkg/quota"
	"github.com/hikube/hikube/pkg/version"
)

const etcdPathPrefix = "/registry/apps.hikube.io"

// Options are the flags of hikube-apiserver: k8s.io/apiserver's recommended
// options plus the embedded etcd's data directory.
type Options struct {
	Recommended *genericoptions.RecommendedOptions
	// EtcdDataDir holds the embedded etcd's data when --etcd-servers is empty.
	EtcdDataDir string
	// EtcdInProcessClient has the storage reach the embedded etcd by function
	// calls instead of gRPC over loopback.
	EtcdInProcessClient bool
	// GPUCapacitySource is where quota admission and the gpumodels catalog
	// read the GPU capacity: "inventory" or "nodes".
	GPUCapacitySource string
	// Shutdown is how the server drains on SIGTERM (the flags of
	// kube-apiserver's that matter to an aggregated server).
	Shutdown ShutdownOptions

	Stdout, Stderr io.Writer
}

// NewOptions returns the defaults.
func NewOptions(stdout, stderr io.Writer) *Options {
	o := &Options{
		Recommended: genericoptions.NewRecommendedOptions(etcdPathPrefix,
			apiserver.Codecs.LegacyCodec(v1alpha1.SchemeGroupVersion)),
		EtcdDataDir: "/var/lib/hikube-apiserver/etcd",
		// No protobuf, HTTP/2 or goroutine hand-offs between the storage
		// and the etcd in the same process (see pkg/embeddedetcd).
		EtcdInProcessClient: true,
		Stdout:              stdout,
		Stderr:              stderr,
	}
	// --storage-media-type picks the storage codec (Config builds it).
	o.Recommended.Etcd.DefaultStorageMediaType = apiserver.DefaultStorageMediaType
	// The catalog checks come first: a cluster that names what the platform
	// does not offer is refused with its field errors (422) before tenancy or
	// quota judge it, as when these checks were part of validation.
	catalogadmission.Register(o.Recommended.Admission.Plugins)
	tenancy.Register(o.Recommended.Admission.Plugins)
	o.Recommended.Admission.RecommendedPluginOrder = append(o.Recommended.Admission.RecommendedPluginOrder,
		catalogadmission.PluginName, tenancy.PluginName)
	quotaadmission.Register(o.Recommended.Admission.Plugins)
	reserved.Register(o.Recommended.Admission.Plugins)
	o.Recommended.Admission.RecommendedPluginOrder = append(o.Recommended.Admission.RecommendedPluginOrder,
		reserved.PluginName, quotaadmission.PluginName)
	// Priority and fairness is off by default: every request reaches this
	// server through kube-apiserver's aggregation proxy, which has already
	// queued it under kube-apiserver's APF and holds that seat until our
	// answer is back (RequestDelegated frees nothing for a non-watch
	// request). A second dispatch here only adds work to each request, and
	// informers on the host's FlowSchemas. The generic max-in-flight limits
	// still bound what a direct client can open.
	o.Recommended.Features.EnablePriorityAndFairness = false
	o.GPUCapacitySource = quota.CapacitySourceInventory
	o.Shutdown = DefaultShutdownOptions()
	return o
}

// NewCommand returns the cobra command that runs the server.
func NewCommand(ctx context.Context, o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hikube-apiserver",
		Short: "Serve the apps.hikube.io API behind the Kubernetes aggregation layer",
		// --version prints it (stamped by make images).
		Version: version.String(),
		RunE: func(c *cobra.Command, _ []string) error {
			// component-base's cli turns contextual logging off; kube-apiserver
			// turns it back on by its feature gate, and so do we.
			klog.EnableContextualLogging(true)
			return o.Run(c.Context())
		},
	}
	cmd.SetContext(ctx)
	fs := cmd.Flags()
	o.Recommended.AddFlags(fs)
	fs.StringVar(&o.EtcdDataDir, "etcd-data-dir", o.EtcdDataDir,
		"Directory of the embedded etcd, used when --etcd-servers is empty.")
	fs.BoolVar(&o.EtcdInProcessClient, "etcd-in-process-client", o.EtcdInProcessClient,
		"With the embedded etcd, store resources through etcd's in-process client instead of gRPC over the loopback client URL (which still serves health checks).")
	fs.StringVar(&o.GPUCapacitySource, "gpu-capacity-source", o.GPUCapacitySource,
		"Where the GPU capacity per model and datacenter comes from: inventory (the ConfigMap hikube-system/gpu-inventory) or nodes (allocatable GPUs of the host's nodes per topology.kubernetes.io/zone).")
	o.Shutdown.AddFlags(fs)
	// --feature-gates, for k8s.io/apiserver's gates such as
	// CBORServingAndStorage (CBOR besides JSON, YAML and protobuf).
	utilfeature.DefaultMutableFeatureGate.AddFlag(fs)
	return cmd
}

// Validate checks the flags.
func (o *Options) Validate() error {
	return utilerrors.NewAggregate(append(o.Recommended.Validate(), o.Shutdown.Validate()...))
}

// Config builds the server configuration from the flags.
func (o *Options) Config() (*apiserver.Config, error) {
	if err := o.Recommended.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil,
		[]net.IP{netutils.ParseIPSloppy("127.0.0.1")}); err != nil {
		return nil, fmt.Errorf("creating self-signed serving certificates: %w", err)
	}
	cfg := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	namer := openapi.NewDefinitionNamer(apiserver.Scheme)
	cfg.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(generatedopenapi.GetOpenAPIDefinitions, namer)
	cfg.OpenAPIConfig.Info.Title = "hikube"
	cfg.OpenAPIConfig.Info.Version = v1alpha1.SchemeGroupVersion.Version
	cfg.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(generatedopenapi.GetOpenAPIDefinitions, namer)
	cfg.OpenAPIV3Config.Info.Title = "hikube"
	cfg.OpenAPIV3Config.Info.Version = v1alpha1.SchemeGroupVersion.Version
	cfg.FeatureGate = utilfeature.DefaultFeatureGate
	cfg.EffectiveVersion = compatibility.DefaultBuildEffectiveVersion()
	// The quota tracker is built with the admission chain (its informers
	// start with the server's) and shared with the gpumodels catalog.
	var tracker *quota.Tracker
	extraInitializers := o.Recommended.ExtraAdmissionInitializers
	o.Recommended.ExtraAdmissionInitializers = func(c *genericapiserver.RecommendedConfig) ([]admission.PluginInitializer, error) {
		inits, err := extraInitializers(c)
		if err != nil {
			return nil, err
		}
		if tracker, err = quotaadmission.NewTracker(c, o.GPUCapacitySource); err != nil {
			return nil, err
		}
		return append(inits, quotaadmission.Initializer{Tracker: tracker}), nil
	}
	// k8s.io/apiserver's simple storage factory takes the codec as given and
	// ignores --storage-media-type: build the codec for it here.
	codec, versioner, err := apiserver.StorageCodec(o.Recommended.Etcd.DefaultStorageMediaType)
	if err != nil {
		return nil, err
	}
	o.Recommended.Etcd.StorageConfig.Codec = codec
	o.Recommended.Etcd.StorageConfig.EncodeVersioner = versioner
	if err := o.Recommended.ApplyTo(cfg); err != nil {
		return nil, fmt.Errorf("applying options: %w", err)
	}
	o.Shutdown.ApplyTo(&cfg.Config)
	// The aggregator's requests first, through the authenticator that
	// verifies the front proxy's certificate once per connection; the
	// generic chain (request header, client certificates, TokenReview) stays
	// behind it for everything else.
	if rh := cfg.Authentication.RequestHeaderConfig; rh != nil && cfg.Authentication.Authenticator != nil {
		cfg.Authentication.Authenticator = unionauth.New(
			group.NewAuthenticatedGroupAdder(frontproxy.New(rh)), cfg.Authentication.Authenticator)
	}
	// A SubjectAccessReview that ran out of time on a loaded host is asked
	// again while the tenant's request has time, instead of becoming a 500.
	if cfg.Authorization.Authorizer != nil {
		cfg.Authorization.Authorizer = authzretry.New(cfg.Authorization.Authorizer, authzretry.DefaultBackoff)
	}
	host, err := kubernetes.NewForConfig(cfg.ClientConfig)
	if err != nil {
		return nil, fmt.Errorf("client of the host cluster: %w", err)
	}
	return &apiserver.Config{GenericConfig: cfg, Host: host, Quota: tracker}, nil
}

// Run starts the embedded etcd when no external one is given, then serves
// until ctx ends.
func (o *Options) Run(ctx context.Context) error {
	var etcd *embeddedetcd.Server
	if len(o.Recommended.Etcd.StorageConfig.Transport.ServerList) == 0 {
		var err error
		if etcd, err = embeddedetcd.Start(ctx, o.EtcdDataDir); err != nil {
			return err
		}
		defer etcd.Stop()
		o.Recommended.Etcd.StorageConfig.Transport.ServerList = []string{etcd.ClientURL}
	}
	if err := o.Validate(); err != nil {
		return err
	}
	cfg, err := o.Config()
	if err != nil {
		return err
	}
	if etcd != nil && o.EtcdInProcessClient {
		sizes, err := genericoptions.ParseWatchCacheSizes(o.Recommended.Etcd.WatchCacheSizes)
		if err != nil {
			return fmt.Errorf("--watch-cache-sizes: %w", err)
		}
		cfg.GenericConfig.RESTOptionsGetter = etcd.RESTOptionsGetter(cfg.GenericConfig.RESTOptionsGetter,
			o.Recommended.Etcd.EnableWatchCache, sizes)
	}
	server, err := cfg.Complete().New()
	if err != nil {
		return err
	}
	klog.InfoS("Starting hikube-apiserver", "etcd", o.Recommended.Etcd.StorageConfig.Transport.ServerList)
	return server.GenericAPIServer.PrepareRun().RunWithContext(ctx)
}
