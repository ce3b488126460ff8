package clusterspec

import (
	"errors"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps"
	"github.com/hikube/hikube/apis/apps/install"
	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/apis/apps/validation"
	"github.com/hikube/hikube/pkg/catalog"
)

// Options are the flags of `create cluster`.
type Options struct {
	Name, Namespace      string
	Version              string
	ControlPlaneReplicas int32 // 0: server default
	ControlPlanePreset   string
	StorageClass         string
	NodeGroups           []string // --node-group specs
	GPUs                 []string // --gpu GROUP=MODEL[:COUNT]
	Addons               []string // --addon NAME[=true|false]
	IngressHosts         []string
	IngressExpose        string
}

// Build turns the flags into a Cluster with only what the user asked for;
// the server fills in the defaults, so that the printed object and the
// stored one say the same.
func Build(o Options) (*v1alpha1.Cluster, error) {
	c := &v1alpha1.Cluster{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: "Cluster"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace},
	}
	s := &c.Spec
	if o.Version != "" {
		v, err := NormalizeVersion(o.Version)
		if err != nil {
			return nil, err
		}
		s.Version = v
	}
	if o.ControlPlaneReplicas != 0 {
		if o.ControlPlaneReplicas < 1 || o.ControlPlaneReplicas > catalog.MaxControlPlaneReplicas {
			return nil, fmt.Errorf("--control-plane-replicas %d: must be 1 to %d", o.ControlPlaneReplicas, catalog.MaxControlPlaneReplicas)
		}
		s.ControlPlane.Replicas = ptr.To(o.ControlPlaneReplicas)
	}
	if o.ControlPlanePreset != "" {
		if !catalog.IsControlPlanePreset(o.ControlPlanePreset) {
			return nil, fmt.Errorf("--control-plane-preset %q: one of %s", o.ControlPlanePreset, strings.Join(catalog.ControlPlanePresets, ", "))
		}
		s.ControlPlane.ResourcesPreset = o.ControlPlanePreset
	}
	if o.StorageClass != "" {
		s.StorageClass = o.StorageClass // the server's catalog judges it
	}
	for _, spec := range o.NodeGroups {
		ng, err := ParseNodeGroup(spec)
		if err != nil {
			return nil, err
		}
		if _, dup := s.NodeGroups[ng.Name]; dup {
			return nil, fmt.Errorf("--node-group %q: node group %q is given twice", spec, ng.Name)
		}
		if s.NodeGroups == nil {
			s.NodeGroups = map[string]v1alpha1.NodeGroup{}
		}
		s.NodeGroups[ng.Name] = ng.Group
	}
	for _, spec := range o.GPUs {
		group, g, err := ParseGroupGPU(spec)
		if err != nil {
			return nil, err
		}
		ng, ok := s.NodeGroups[group]
		if !ok {
			return nil, fmt.Errorf("--gpu %q: no --node-group named %q", spec, group)
		}
		ng.GPUs = g.Entries()
		s.NodeGroups[group] = ng
	}
	for _, spec := range o.Addons {
		key, on, err := ParseAddon(spec)
		if err != nil {
			return nil, err
		}
		SetAddon(&s.Addons, key, on)
	}
	if len(o.IngressHosts) > 0 || o.IngressExpose != "" {
		in := s.Addons.IngressNginx
		if in == nil || !in.Enabled {
			return nil, errors.New("--ingress-host and --ingress-expose need --addon ingress-nginx")
		}
		in.Hosts = o.IngressHosts
		if o.IngressExpose != "" {
			m := v1alpha1.IngressExposeMethod(o.IngressExpose)
			if m != v1alpha1.ExposeProxied && m != v1alpha1.ExposeLoadBalancer {
				return nil, fmt.Errorf("--ingress-expose %q: Proxied or LoadBalancer", o.IngressExpose)
			}
			in.ExposeMethod = m
		}
	}
	return c, nil
}

// NormalizeVersion accepts "v1.36", "1.36" and "v1.36.3" and returns the
// minor "v1.36". Whether the platform offers it is the server's to say.
func NormalizeVersion(v string) (string, error) {
	in := v
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	if parts := strings.Split(v, "."); len(parts) == 3 {
		v = parts[0] + "." + parts[1]
	}
	if _, err := catalog.ParseMinor(v); err != nil {
		return "", fmt.Errorf("--version %q: not a Kubernetes minor such as v1.37", in)
	}
	return v, nil
}

var scheme = newScheme()

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	install.Install(s)
	return s
}

// Validate runs the API's own static validation on a copy of c after the
// API's defaults, so that a cluster of the wrong shape is refused before it
// is sent (what the catalog offers is the server's admission to check). With old, the
// update rules (no version skip or downgrade, immutable fields) apply too.
func Validate(c, old *v1alpha1.Cluster) error {
	newInternal, err := toInternal(c)
	if err != nil {
		return err
	}
	var errs field.ErrorList
	if old == nil {
		errs = validation.ValidateCluster(newInternal)
	} else {
		oldInternal, err := toInternal(old)
		if err != nil {
			return err
		}
		// Metadata is the server's business on update (resourceVersion and
		// friends); only the spec is ours to check.
		newInternal.ObjectMeta = oldInternal.ObjectMeta
		errs = validation.ValidateClusterUpdate(newInternal, oldInternal)
	}
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	return fmt.Errorf("cluster %q is invalid: %s", c.Name, strings.Join(msgs, "; "))
}

// Warnings are the API's warnings for c (GPU sizing, missing GPU operator).
func Warnings(c *v1alpha1.Cluster) []string {
	in, err := toInternal(c)
	if err != nil {
		return nil
	}
	return validation.ClusterWarnings(in)
}

func toInternal(c *v1alpha1.Cluster) (*apps.Cluster, error) {
	cp := c.DeepCopy()
	v1alpha1.SetObjectDefaults_Cluster(cp)
	out := &apps.Cluster{}
	if err := scheme.Convert(cp, out, nil); err != nil {
		return nil, fmt.Errorf("converting cluster %q for validation: %w", c.Name, err)
	}
	return out, nil
}
