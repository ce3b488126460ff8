// Package apiserver assembles hikube-apiserver: the scheme of the
// apps.hikube.io group and the storage of every resource it serves, following
// the Config → Complete → New pattern of k8s.io/apiserver.
package apiserver

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/kubernetes"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/install"
	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/quota"
	catalogregistry "github.com/hikube/hikube/pkg/registry/apps/catalog"
	clusterregistry "github.com/hikube/hikube/pkg/registry/apps/cluster"
	"github.com/hikube/hikube/pkg/tenantrbac"
)

var (
	// Scheme knows the internal and versioned apps.hikube.io types.
	Scheme = runtime.NewScheme()
	// Codecs encodes and decodes them.
	Codecs = serializer.NewCodecFactory(Scheme)
)

func init() {
	install.Install(Scheme)
	// The generic server decodes options (ListOptions, DeleteOptions...) as v1.
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	Scheme.AddUnversionedTypes(unversioned,
		&metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroupList{}, &metav1.APIGroup{}, &metav1.APIResourceList{})
}

// Config is the configuration of hikube-apiserver.
type Config struct {
	GenericConfig *genericapiserver.RecommendedConfig
	// Host is a client of the host cluster, where the tenant clusters' PKI
	// Secrets live.
	Host kubernetes.Interface
	// Quota is quota admission's Tracker: it gives the gpumodels catalog its
	// capacity figures and the clusters registry the usage to give back; nil
	// leaves them off.
	Quota *quota.Tracker
}

type completedConfig struct {
	GenericConfig genericapiserver.CompletedConfig
	Host          kubernetes.Interface
	Quota         *quota.Tracker
}

// CompletedConfig can only be obtained through Complete, so that New never
// sees a configuration with unset defaults.
type CompletedConfig struct {
	*completedConfig
}

// Server is a running hikube-apiserver.
type Server struct {
	GenericAPIServer *genericapiserver.GenericAPIServer
}

// Complete fills in the defaults of the generic configuration.
func (c *Config) Complete() CompletedConfig {
	return CompletedConfig{&completedConfig{GenericConfig: c.GenericConfig.Complete(), Host: c.Host, Quota: c.Quota}}
}

// New builds the server and installs the apps.hikube.io group.
func (c completedConfig) New() (*Server, error) {
	generic, err := c.GenericConfig.New("hikube-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, fmt.Errorf("creating the generic server: %w", err)
	}
	var usage clusterregistry.Usage
	if c.Quota != nil {
		usage = c.Quota
	}
	clusters, err := clusterregistry.NewStorage(Scheme, c.GenericConfig.RESTOptionsGetter, usage)
	if err != nil {
		return nil, err
	}
	// Our own parameter codec: it knows the kubeconfig subresources' options
	// besides the metav1 ones.
	// Its serializer offers JSON, YAML and protobuf (the v1alpha1 types have
	// generated protobuf marshalling), list responses streamed item by item,
	// and CBOR when the CBORServingAndStorage feature gate is on.
	group := genericapiserver.NewDefaultAPIGroupInfo(apps.GroupName, Scheme, runtime.NewParameterCodec(Scheme), Codecs)
	group.VersionedResourcesStorageMap[v1alpha1.SchemeGroupVersion.Version] = map[string]rest.Storage{
		"clusters":        clusters.Cluster,
		"clusters/status": clusters.Status,
		// Admins and editors get cluster-admin inside the tenant cluster, viewers view.
		"clusters/kubeconfig":       clusterregistry.NewKubeconfigREST(clusters.Cluster, c.Host, tenantrbac.GroupAdmins),
		"clusters/viewerkubeconfig": clusterregistry.NewKubeconfigREST(clusters.Cluster, c.Host, tenantrbac.GroupViewers),
		"instancetypes":             catalogregistry.NewInstanceTypes(),
		"gpumodels":                 catalogregistry.NewGPUModels(c.Quota),
	}
	if err := generic.InstallAPIGroup(&group); err != nil {
		return nil, fmt.Errorf("installing the %s API group: %w", apps.GroupName, err)
	}
	return &Server{GenericAPIServer: generic}, nil
}
