package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/pkg/catalog"
)

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}

// SetDefaults_Cluster fills what the tenant left out. Defaults are applied on
// every write (the generic registry decodes through the defaulting codec), so
// what is stored is what the controller acts on.
func SetDefaults_Cluster(obj *Cluster) {
	s := &obj.Spec
	if s.Version == "" {
		s.Version = catalog.NewestVersion()
	}
	if s.ControlPlane.Replicas == nil {
		s.ControlPlane.Replicas = ptr.To[int32](catalog.DefaultControlPlaneReplicas)
	}
	if s.ControlPlane.ResourcesPreset == "" {
		s.ControlPlane.ResourcesPreset = catalog.DefaultControlPlanePreset
	}
	if s.StorageClass == "" {
		s.StorageClass = catalog.DefaultStorageClass
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
		g.MinReplicas = ptr.To[int32](catalog.DefaultMinReplicas)
	}
	if g.MaxReplicas == nil {
		g.MaxReplicas = ptr.To[int32](catalog.DefaultMaxReplicas)
	}
	if g.InstanceType == "" {
		g.InstanceType = catalog.DefaultInstanceType
	}
	if g.EphemeralStorage == nil {
		q := resource.MustParse(catalog.DefaultEphemeralStorage)
		g.EphemeralStorage = &q
	}
	if g.StorageClass == "" {
		g.StorageClass = clusterStorageClass
	}
}
