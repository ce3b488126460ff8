package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// Provisioner is the provisioner name of the host StorageClasses the volume
// stand-in serves.
const Provisioner = "process-node.hikube.io/hostpath"

// StorageClasses are the host classes the stand-in creates when missing:
// the classes of the production host (replicated storage, local disks,
// asynchronous replication), all hostPath directories here.
var StorageClasses = []string{"replicated", "local", "replicated-async"}

const annProvisionedBy = "pv.kubernetes.io/provisioned-by"

// storage is the volume stand-in: it provisions a hostPath
// PersistentVolume under Home/volumes for every pending claim of a class
// whose provisioner is Provisioner, and deletes the directory and the volume
// once the volume is released.
type storage struct {
	a       *Agent
	dir     string
	claims  corelisters.PersistentVolumeClaimLister
	volumes corelisters.PersistentVolumeLister
	classes storagelisters.StorageClassLister
	poke    chan struct{}
}

func newStorage(a *Agent, f informers.SharedInformerFactory) *storage {
	s := &storage{a: a, dir: filepath.Join(a.opts.Home, "volumes"), poke: make(chan struct{}, 1),
		claims:  f.Core().V1().PersistentVolumeClaims().Lister(),
		volumes: f.Core().V1().PersistentVolumes().Lister(),
		classes: f.Storage().V1().StorageClasses().Lister()}
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.pokeNow() },
		UpdateFunc: func(any, any) { s.pokeNow() },
		DeleteFunc: func(any) { s.pokeNow() },
	}
	for _, inf := range []cache.SharedIndexInformer{
		f.Core().V1().PersistentVolumeClaims().Informer(), f.Core().V1().PersistentVolumes().Informer(), f.Storage().V1().StorageClasses().Informer(),
	} {
		_, _ = inf.AddEventHandler(h)
	}
	return s
}

func (s *storage) pokeNow() {
	select {
	case s.poke <- struct{}{}:
	default:
	}
}

// ensureClasses creates the host StorageClasses that do not exist.
func (s *storage) ensureClasses(ctx context.Context) error {
	for _, name := range StorageClasses {
		sc := &storagev1.StorageClass{
			ObjectMeta:        metav1.ObjectMeta{Name: name, Labels: map[string]string{LabelProcessNode: "true"}},
			Provisioner:       Provisioner,
			ReclaimPolicy:     ptr.To(corev1.PersistentVolumeReclaimDelete),
			VolumeBindingMode: ptr.To(storagev1.VolumeBindingImmediate),
		}
		_, err := s.a.client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating StorageClass %s: %w", name, err)
		}
	}
	return nil
}

func (s *storage) run(ctx context.Context) {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		s.reconcile(ctx)
		select {
		case <-ctx.Done():
			return
		case <-s.poke:
		case <-tick.C:
		}
	}
}

func (s *storage) serves(class string) bool {
	sc, err := s.classes.Get(class)
	return err == nil && sc.Provisioner == Provisioner
}

func (s *storage) reconcile(ctx context.Context) {
	claims, _ := s.claims.List(labels.Everything())
	for _, c := range claims {
		if c.Spec.VolumeName != "" || c.DeletionTimestamp != nil || c.Spec.StorageClassName == nil || !s.serves(*c.Spec.StorageClassName) {
			continue
		}
		if err := s.provision(ctx, c); err != nil {
			klog.ErrorS(err, "Provisioning a volume", "claim", klog.KObj(c))
		}
	}
	vols, _ := s.volumes.List(labels.Everything())
	for _, v := range vols {
		if v.Annotations[annProvisionedBy] != Provisioner || v.DeletionTimestamp != nil {
			continue
		}
		if v.Status.Phase != corev1.VolumeReleased && v.Status.Phase != corev1.VolumeFailed {
			continue
		}
		if v.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
			continue
		}
		if err := s.remove(ctx, v); err != nil {
			klog.ErrorS(err, "Deleting a released volume", "volume", v.Name)
		}
	}
}

func (s *storage) provision(ctx context.Context, c *corev1.PersistentVolumeClaim) error {
	name := "pvc-" + string(c.UID)
	if _, err := s.volumes.Get(name); err == nil {
		return nil
	}
	path := filepath.Join(s.dir, name)
	if err := os.MkdirAll(path, 0o700); err != nil {
		return err
	}
	size := c.Spec.Resources.Requests[corev1.ResourceStorage]
	modes := c.Spec.AccessModes
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{annProvisionedBy: Provisioner},
			Labels: map[string]string{LabelProcessNode: "true"}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   modes,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			StorageClassName:              *c.Spec.StorageClassName,
			VolumeMode:                    c.Spec.VolumeMode,
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: c.Namespace, Name: c.Name, UID: c.UID},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
				Path: path, Type: ptr.To(corev1.HostPathDirectory)}},
		},
	}
	_, err := s.a.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating volume %s: %w", name, err)
	}
	klog.InfoS("Volume provisioned", "claim", klog.KObj(c), "volume", name, "path", path)
	return nil
}

// remove deletes a released volume's data, then the volume. Only a
// directory under Home/volumes is ever removed.
func (s *storage) remove(ctx context.Context, v *corev1.PersistentVolume) error {
	if v.Spec.HostPath != nil {
		path := filepath.Clean(v.Spec.HostPath.Path)
		if strings.HasPrefix(path, s.dir+string(filepath.Separator)) {
			if err := os.RemoveAll(path); err != nil {
				return err
			}
		}
	}
	err := s.a.client.CoreV1().PersistentVolumes().Delete(ctx, v.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	klog.InfoS("Released volume deleted", "volume", v.Name)
	return nil
}
