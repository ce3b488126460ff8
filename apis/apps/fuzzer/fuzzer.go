// Package fuzzer fills apps.hikube.io objects with random but well-formed
// values for the round-trip tests.
package fuzzer

import (
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/randfill"

	"github.com/hikube/hikube/apis/apps"
)

// Funcs returns the fuzzer functions for the apps API group.
var Funcs = func(codecs runtimeserializer.CodecFactory) []interface{} {
	return []interface{}{
		func(s *apps.ClusterSpec, c randfill.Continue) {
			c.FillNoCustom(s)
			// Defaulted fields get values, or the defaulting decode would
			// make the round trip differ.
			if s.Version == "" {
				s.Version = "v1.36"
			}
			if s.ControlPlane.Replicas == nil {
				s.ControlPlane.Replicas = ptr.To[int32](3)
			}
			if s.ControlPlane.ResourcesPreset == "" {
				s.ControlPlane.ResourcesPreset = "medium"
			}
			if s.StorageClass == "" {
				s.StorageClass = "local"
			}
			if len(s.NodeGroups) == 0 {
				s.NodeGroups = nil
			}
			for name, g := range s.NodeGroups {
				fillNodeGroupDefaults(&g, c)
				s.NodeGroups[name] = g
			}
			if in := s.Addons.IngressNginx; in != nil {
				in.ExposeMethod = apps.ExposeLoadBalancer
				if len(in.Hosts) == 0 {
					in.Hosts = nil
				}
			}
			// ValuesOverride is opaque JSON: the fuzzer's random bytes would not
			// survive a JSON round trip, so give it a real object or nothing.
			if s.Addons.CertManager != nil {
				if c.Bool() {
					s.Addons.CertManager.ValuesOverride = &runtime.RawExtension{Raw: []byte(`{"replicas":2}`)}
				} else {
					s.Addons.CertManager.ValuesOverride = nil
				}
			}
			for _, a := range []*apps.Addon{s.Addons.Fluxcd, s.Addons.MonitoringAgents, s.Addons.GPUOperator, s.Addons.Velero, s.Addons.GatewayAPI} {
				if a != nil {
					a.ValuesOverride = nil
				}
			}
			if s.Addons.IngressNginx != nil {
				s.Addons.IngressNginx.ValuesOverride = nil
			}
		},
	}
}

func fillNodeGroupDefaults(g *apps.NodeGroup, c randfill.Continue) {
	if g.MinReplicas == nil {
		g.MinReplicas = ptr.To(c.Int31())
	}
	if g.MaxReplicas == nil {
		g.MaxReplicas = ptr.To(c.Int31())
	}
	if g.InstanceType == "" {
		g.InstanceType = "u1.large"
	}
	if g.EphemeralStorage == nil {
		q := resource.MustParse("30Gi")
		g.EphemeralStorage = &q
	}
	if g.StorageClass == "" {
		g.StorageClass = "local"
	}
	if len(g.GPUs) == 0 {
		g.GPUs = nil
	}
	if len(g.Roles) == 0 {
		g.Roles = nil
	}
}
