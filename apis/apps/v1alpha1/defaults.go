package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// Defaults of a new cluster and node group. Each names an entry of the
// platform's catalog (pkg/catalog checks that it does).
const (
	DefaultControlPlaneReplicas = 2
	DefaultControlPlanePreset   = "small"
	DefaultStorageClass         = "replicated"
	DefaultMinReplicas          = 0
	DefaultMaxReplicas          = 10
	DefaultInstanceType         = "s1.medium"
	DefaultEphemeralStorage     = "20Gi"
)

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}

// SetDefaults_Cluster fills what the tenant left out. Defaults are applied on
// every write (the generic registry decodes through the defaulting codec), so
// what is stored is what the controller acts on.
//
// spec.version is not defaulted here: its default is the newest minor the
// server's catalog offers, which the API types cannot know. The
// HikubeCatalog admission plugin (pkg/admission/catalog) sets it on every
// write, dry runs included.
func SetDefaults_Cluster(obj *Cluster) {
	s := &obj.Spec
	if s.ControlPlane.Replicas == nil {
		s.ControlPlane.Replicas = ptr.To[int32](DefaultControlPlaneReplicas)
	}
	if s.ControlPlane.ResourcesPreset == "" {
		s.ControlPlane.ResourcesPreset = DefaultControlPlanePreset
	}
	if s.StorageClass == "" {
		s.StorageClass = DefaultStorageClass
	}
	// Map values are not addressable, so groups are defaulted here rather
	// than by a generated per-element defaulter.
	for name, g := range s.NodeGroups {
		setDefaultsNodeGroup(&g, s.StorageClass)
		s.NodeGroups[name] = g
	}
	if in := s.Addons.IngressNginx; in != nil && in.ExposeMethod == "" {
		in.ExposeMethod = ExposeProxied
	}
}

func setDefaultsNodeGroup(g *NodeGroup, clusterStorageClass string) {
	if g.MinReplicas == nil {
		g.MinReplicas = ptr.To[int32](DefaultMinReplicas)
	}
	if g.MaxReplicas == nil {
		g.MaxReplicas = ptr.To[int32](DefaultMaxReplicas)
	}
	if g.InstanceType == "" {
		g.InstanceType = DefaultInstanceType
	}
	if g.EphemeralStorage == nil {
		q := resource.MustParse(DefaultEphemeralStorage)
		g.EphemeralStorage = &q
	}
	if g.StorageClass == "" {
		g.StorageClass = clusterStorageClass
	}
}
