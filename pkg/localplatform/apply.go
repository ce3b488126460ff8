package localplatform

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/yaml"

	"github.com/hikube/hikube/pkg/installchart"
	"github.com/hikube/hikube/pkg/platform"
)

// fieldManager owns every field the local platform applies.
const fieldManager = "hikube-local"

// tenantLabel marks a namespace as a tenant.
const tenantLabel = platform.TenantLabel

// The local platform applies the install chart's RBAC and FlowSchemas (rendered with
// namespace.create, as a GitOps tool would) and its APIService (registerHikube
// points it at the local process); the workloads the chart also renders
// (hikube-apiserver, hikube-controller, etcd, their Services, PDBs and
// certificates) are processes here. Every rendered kind is in exactly one of
// the two sets (a test keeps it so), so a new kind in the chart forces a
// decision.
var (
	localKinds = []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "FlowSchema"}
	// processKinds are replaced by processes, or by registerHikube (the
	// APIService) and seedGPUInventory (the ConfigMap).
	processKinds = []string{"Deployment", "StatefulSet", "Service", "PodDisruptionBudget", "Secret", "ConfigMap", "APIService"}
)

// chartValues render the chart for the local platform.
var chartValues = map[string]any{"namespace": map[string]any{"create": true}}

// renderChart renders the install chart with the local platform's values.
func renderChart(ctx context.Context) ([]*unstructured.Unstructured, error) {
	c, err := installchart.Load()
	if err != nil {
		return nil, err
	}
	return installchart.Render(ctx, c, chartValues)
}

// chartObjects are the rendered objects of the given kinds, in chart order.
func chartObjects(ctx context.Context, kinds ...string) ([]*unstructured.Unstructured, error) {
	objs, err := renderChart(ctx)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if slices.Contains(kinds, o.GetKind()) {
			out = append(out, o)
		}
	}
	return out, nil
}

// createBackoff retries an apply whose namespace the just-started
// kube-apiserver has not created yet (kube-system).
var createBackoff = wait.Backoff{Duration: 100 * time.Millisecond, Factor: 1.5, Steps: 12}

// decodeManifests reads multi-document YAML files from fsys in order.
func decodeManifests(fsys fs.FS, paths ...string) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	for _, path := range paths {
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return nil, fmt.Errorf("reading manifest %s: %w", path, err)
		}
		reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for i := 0; ; i++ {
			doc, err := reader.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("reading manifest %s document %d: %w", path, i, err)
			}
			obj := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(doc, &obj.Object); err != nil {
				return nil, fmt.Errorf("decoding manifest %s document %d: %w", path, i, err)
			}
			if len(obj.Object) == 0 {
				continue // empty or comment-only document
			}
			if obj.GetAPIVersion() == "" || obj.GetKind() == "" || obj.GetName() == "" {
				return nil, fmt.Errorf("manifest %s document %d: apiVersion, kind and metadata.name are required", path, i)
			}
			objs = append(objs, obj)
		}
	}
	return objs, nil
}

// applier applies unstructured objects with server-side apply.
type applier struct {
	dyn    dynamic.Interface
	mapper meta.ResettableRESTMapper
}

func newApplier(cfg *rest.Config) (*applier, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	return &applier{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}, nil
}

func (a *applier) apply(ctx context.Context, obj *unstructured.Unstructured) error {
	gvk := obj.GroupVersionKind()
	mapping, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		a.mapper.Reset() // discovery may predate a just-registered API
		mapping, err = a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return fmt.Errorf("applying %s %s: %w", gvk.Kind, obj.GetName(), err)
	}
	var client dynamic.ResourceInterface = a.dyn.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		client = a.dyn.Resource(mapping.Resource).Namespace(obj.GetNamespace())
	}
	err = retry.OnError(createBackoff, apierrors.IsNotFound, func() error {
		_, err := client.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: fieldManager, Force: true})
		return err
	})
	if err != nil {
		return fmt.Errorf("applying %s %s/%s: %w", gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// applyPlatformObjects applies the chart's RBAC and the tenants; in the
// chart mode only the tenants (the RBAC is the Helm release's).
func (p *Platform) applyPlatformObjects(ctx context.Context) error {
	began := time.Now()
	var objs []*unstructured.Unstructured
	if p.opts.Install != InstallChart {
		var err error
		if objs, err = chartObjects(ctx, localKinds...); err != nil {
			return err
		}
	}
	a, err := newApplier(p.admin)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if err := a.apply(ctx, obj); err != nil {
			return err
		}
	}
	if err := p.applyTenants(ctx); err != nil {
		return err
	}
	p.logf("applied %d objects of the install chart and %d tenants in %s", len(objs), len(Tenants), time.Since(began).Round(10*time.Millisecond))
	return nil
}

// applyTenants creates the tenant namespaces and binds each tenant's user to
// the built-in admin ClusterRole there.
func (p *Platform) applyTenants(ctx context.Context) error {
	cs, err := p.clientset(p.admin)
	if err != nil {
		return err
	}
	opts := metav1.ApplyOptions{FieldManager: fieldManager, Force: true}
	for _, t := range Tenants {
		ns := corev1ac.Namespace(t.Namespace).WithLabels(map[string]string{tenantLabel: t.Namespace})
		if _, err := cs.CoreV1().Namespaces().Apply(ctx, ns, opts); err != nil {
			return fmt.Errorf("applying tenant namespace %s: %w", t.Namespace, err)
		}
		rb := rbacv1ac.RoleBinding(t.User+"-admin", t.Namespace).
			WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup("rbac.authorization.k8s.io").WithKind("ClusterRole").WithName("admin")).
			WithSubjects(rbacv1ac.Subject().WithAPIGroup("rbac.authorization.k8s.io").WithKind("User").WithName(t.User))
		if _, err := cs.RbacV1().RoleBindings(t.Namespace).Apply(ctx, rb, opts); err != nil {
			return fmt.Errorf("applying role binding %s/%s-admin: %w", t.Namespace, t.User, err)
		}
	}
	return nil
}
