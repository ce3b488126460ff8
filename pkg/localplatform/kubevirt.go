package localplatform

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"github.com/hikube/hikube/artifacts"
	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/provider"
)

// The local "kubevirt mode" (Options.NodeProvider = "kubevirt"): the host
// gets KubeVirt's and CDI's real CRDs and the catalog's instancetypes, so it
// validates every VM hikube-controller writes; what cannot run here is
// SIMULATED (docs/kubevirt-provider.md): one host node per datacenter, a
// host kwok whose stages play virt-controller and CDI, and the guest
// simulator that plays each VM's operating system joining its cluster.
const (
	// NodeProviderKubeVirt selects KubeVirt workers.
	NodeProviderKubeVirt = "kubevirt"

	procHostKwok = "host-kwok"
	procGuestSim = "hikube-guest-sim"
	// kubevirtNodeImage is the node image the VMs' root disks name. Nothing
	// pulls it here; in production it is the node OS of the minor.
	kubevirtNodeImage = "registry.hikube.local/node:%s"
	// hostNodePrefix names the simulated host nodes, host-<datacenter>; the
	// kwok stages put a VMI on the node of its zone by that name.
	hostNodePrefix = "host-"
	kwokAnnotation = "kwok.x-k8s.io/node"
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// startKubeVirtHost installs the KubeVirt APIs, the simulated host nodes,
// the host kwok and the guest simulator.
func (p *Platform) startKubeVirtHost(ctx context.Context) error {
	began := time.Now()
	crds, err := fs.Glob(artifacts.FS, "kubevirt/crds/*.yaml")
	if err != nil {
		return err
	}
	objs, err := decodeManifests(artifacts.FS, crds...)
	if err != nil {
		return err
	}
	a, err := newApplier(p.admin)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := a.apply(ctx, o); err != nil {
			return fmt.Errorf("installing the KubeVirt CRDs: %w", err)
		}
	}
	if err := p.waitCRDsEstablished(ctx, objs); err != nil {
		return err
	}
	its, err := decodeManifests(artifacts.FS, "kubevirt/instancetypes.yaml")
	if err != nil {
		return err
	}
	for _, o := range its {
		if err := a.apply(ctx, o); err != nil {
			return fmt.Errorf("installing the cluster instancetypes: %w", err)
		}
	}
	// kwok reads the schemas of the kinds its stages name from OpenAPI v3
	// and exits when a group is missing there, which trails Established.
	if err := p.waitOpenAPIV3(ctx, "apis/kubevirt.io/v1", "apis/cdi.kubevirt.io/v1beta1"); err != nil {
		return err
	}
	if err := p.createHostNodes(ctx); err != nil {
		return err
	}
	// The host kwok plays the kubelets of the host nodes and, with the
	// simulation stages, KubeVirt's and CDI's controllers.
	if _, err := p.launchBinary(procHostKwok, "kwok", []string{
		"--kubeconfig=" + p.KubeconfigPath("admin"),
		"--config=" + filepath.Join(p.bin, "kwok-stages.yaml"),
		"--config=" + filepath.Join(p.bin, "kubevirt-sim-stages.yaml"),
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + kwokAnnotation + "=fake",
		"--node-lease-duration-seconds=40",
		"--cidr=10.245.0.0/16",
		"--node-ip=127.0.0.1",
	}); err != nil {
		return err
	}
	// The host nodes turn Ready once kwok runs: proof that it took its
	// stages, rather than a process that exits a moment later.
	cs, err := p.clientset(p.admin)
	if err != nil {
		return err
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, dc := range catalog.Datacenters {
			n, err := cs.CoreV1().Nodes().Get(ctx, hostNodePrefix+dc, metav1.GetOptions{})
			if err != nil || !provider.NodeReady(n) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("host nodes not Ready: is %s running? (log: %s): %w", procHostKwok, p.LogPath(procHostKwok), err)
	}
	// The guest simulator also plays each joined VM's kubelet: the
	// kubevirt control planes run no kwok of their own.
	if _, err := p.launch(procGuestSim, []string{"--kubeconfig=" + p.KubeconfigPath("admin"), "--kubelet"}); err != nil {
		return err
	}
	if err := p.startWorkloadHost(ctx); err != nil {
		return err
	}
	p.logf("KubeVirt APIs, %d host nodes and the KubeVirt simulation ready in %s", len(catalog.Datacenters), time.Since(began).Round(10*time.Millisecond))
	return nil
}

func (p *Platform) waitCRDsEstablished(ctx context.Context, crds []*unstructured.Unstructured) error {
	dyn, err := dynamic.NewForConfig(p.admin)
	if err != nil {
		return err
	}
	for _, c := range crds {
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			u, err := dyn.Resource(crdGVR).Get(ctx, c.GetName(), metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			var crd apiextensionsv1.CustomResourceDefinition
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &crd); err != nil {
				return false, err
			}
			for _, cond := range crd.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("waiting for CRD %s to be established: %w", c.GetName(), err)
		}
	}
	return nil
}

// waitOpenAPIV3 waits until kube-apiserver serves the OpenAPI v3 documents of
// the group versions named by paths ("apis/kubevirt.io/v1").
func (p *Platform) waitOpenAPIV3(ctx context.Context, paths ...string) error {
	dc, err := discovery.NewDiscoveryClientForConfig(p.admin)
	if err != nil {
		return err
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		served, err := dc.OpenAPIV3().Paths()
		if err != nil {
			return false, nil
		}
		for _, path := range paths {
			if _, ok := served[path]; !ok {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the OpenAPI v3 of %v: %w", paths, err)
	}
	return nil
}

// createHostNodes registers one simulated host node per datacenter, with the
// GPUs of the inventory as KubeVirt's device plugins would advertise them.
func (p *Platform) createHostNodes(ctx context.Context) error {
	cs, err := p.clientset(p.admin)
	if err != nil {
		return err
	}
	for _, dc := range catalog.Datacenters {
		alloc := corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("512"),
			corev1.ResourceMemory: resource.MustParse("4Ti"),
			corev1.ResourcePods:   resource.MustParse("1000"),
		}
		for _, m := range catalog.GPUModels() {
			if n := seedGPUs[m.Name]; n > 0 {
				alloc[corev1.ResourceName(m.DeviceResource)] = *resource.NewQuantity(n, resource.DecimalSI)
			}
		}
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        hostNodePrefix + dc,
				Labels:      map[string]string{"topology.kubernetes.io/zone": dc, "kubernetes.io/hostname": hostNodePrefix + dc, "kubevirt.io/schedulable": "true"},
				Annotations: map[string]string{kwokAnnotation: "fake"},
			},
			Status: corev1.NodeStatus{Capacity: alloc, Allocatable: alloc},
		}
		if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating host node %s: %w", node.Name, err)
		}
	}
	return nil
}
