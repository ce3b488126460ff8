package integration

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/controller/quotastatus"
	hikubev1alpha1 "github.com/hikube/hikube/pkg/generated/clientset/versioned/typed/apps/v1alpha1"
	informers "github.com/hikube/hikube/pkg/generated/informers/externalversions"
	"github.com/hikube/hikube/pkg/quota"
)

// runQuotaStatus runs hikube-controller's quota status controller in the test
// (these tests leave the controller out) until the test ends.
func runQuotaStatus(t *testing.T) {
	t.Helper()
	runQuotaStatusWithGrace(t, quotastatus.DefaultGrace)
}

// runQuotaStatusWithGrace is runQuotaStatus with the grace before a figure
// is lowered.
func runQuotaStatusWithGrace(t *testing.T, grace time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	host := hostClient(t)
	kubeFactory := kubeinformers.NewSharedInformerFactory(host, 0)
	hikubeFactory := informers.NewSharedInformerFactory(hikubeClient(t, "admin"), 0)
	c, err := quotastatus.New(host, hikubeFactory.Apps().V1alpha1().Clusters(), kubeFactory.Core().V1().ResourceQuotas(), kubeFactory.Core().V1().ConfigMaps())
	if err != nil {
		t.Fatal(err)
	}
	c.Grace = grace
	kubeFactory.Start(ctx.Done())
	hikubeFactory.Start(ctx.Done())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := c.Run(ctx, 1); err != nil && ctx.Err() == nil {
			t.Errorf("quota status controller: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		kubeFactory.Shutdown()
		hikubeFactory.Shutdown()
	})
}

// hostClient is a client of the host cluster as the platform admin.
func hostClient(t *testing.T) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(restConfig(t, "admin"))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// newTenant creates a tenant namespace of its own for the test and deletes
// it (and its clusters) at the end.
func newTenant(t *testing.T, name string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"hikube.io/tenant": name}}}
	host := hostClient(t)
	if _, err := host.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating tenant %s: %v", name, err)
	}
	t.Cleanup(func() { _ = host.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	return name
}

// setQuota creates or replaces the ResourceQuota "limits" of ns and, when it
// created it, waits until quota admission behind the aggregator enforces it.
func setQuota(t *testing.T, ns string, hard map[string]string) {
	t.Helper()
	if setQuotaOnly(t, ns, hard) {
		waitQuotaEnforced(t, ns, hikubeClient(t, "admin").AppsV1alpha1().Clusters(ns))
	}
}

// setQuotaOnly creates or replaces the ResourceQuota "limits" of ns and
// reports whether it created it.
func setQuotaOnly(t *testing.T, ns string, hard map[string]string) (created bool) {
	t.Helper()
	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "limits", Namespace: ns}, Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{}}}
	for k, v := range hard {
		q.Spec.Hard[corev1.ResourceName(k)] = resource.MustParse(v)
	}
	rqs := hostClient(t).CoreV1().ResourceQuotas(ns)
	cur, err := rqs.Get(context.Background(), q.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = rqs.Create(context.Background(), q, metav1.CreateOptions{})
		created = true
	} else if err == nil {
		cur.Spec = q.Spec
		_, err = rqs.Update(context.Background(), cur, metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatalf("setting the quota of %s: %v", ns, err)
	}
	return created
}

// probeQuota is the ResourceQuota waitQuotaEnforced creates for a moment.
const probeQuota = "admission-probe"

// waitQuotaEnforced waits until quota admission, through each of servers,
// enforces the quotas ns has now. Admission learns that a namespace has a
// quota from its informer, or from a live lookup it reuses for 30 s
// (docs/quotas.md): a quota created right after a create in its namespace
// counts once the informer has it. So this creates a probe quota that
// allows no cluster, after the others, and retries a dry-run create through
// each server until the probe refuses it: an informer that has the probe
// has every quota created before it (one watch, in order), and a lookup
// that found it found them too. The probe is then deleted; a server that
// still shows it checks the quotas on a live read, where it is gone.
func waitQuotaEnforced(t *testing.T, ns string, servers ...hikubev1alpha1.ClusterInterface) {
	t.Helper()
	rqs := hostClient(t).CoreV1().ResourceQuotas(ns)
	probe := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: probeQuota, Namespace: ns},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{quota.ResourceClusters: resource.MustParse("0")}}}
	if _, err := rqs.Create(context.Background(), probe, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating the probe quota of %s: %v", ns, err)
	}
	for i, cs := range servers {
		var last error
		eventually(t, 30*time.Second, fmt.Sprintf("quota admission (server %d) to enforce the quotas of %s", i, ns), func() bool {
			_, last = cs.Create(context.Background(), quotaCluster("probe", 1, "u1.large", 0), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			return apierrors.IsForbidden(last) && strings.Contains(last.Error(), fmt.Sprintf("ResourceQuota %q", probeQuota))
		})
	}
	if err := rqs.Delete(context.Background(), probeQuota, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("deleting the probe quota of %s: %v", ns, err)
	}
}

// quotaCluster is a cluster with one node group "g" that may scale to zero.
func quotaCluster(name string, maxReplicas int32, instanceType string, gpus int) *v1alpha1.Cluster {
	c := newCluster(name)
	g := v1alpha1.NodeGroup{MinReplicas: ptr.To[int32](0), MaxReplicas: ptr.To(maxReplicas), InstanceType: instanceType}
	for range gpus {
		g.GPUs = append(g.GPUs, v1alpha1.GPU{Name: "nvidia.com/L40S"})
	}
	c.Spec.NodeGroups = map[string]v1alpha1.NodeGroup{"g": g}
	return c
}

func setGroup(c *v1alpha1.Cluster, edit func(*v1alpha1.NodeGroup)) {
	g := c.Spec.NodeGroups["g"]
	edit(&g)
	c.Spec.NodeGroups["g"] = g
}

// assertQuotaRefusal fails unless err is a 403 whose message contains want.
func assertQuotaRefusal(t *testing.T, err error, want string) {
	t.Helper()
	if !apierrors.IsForbidden(err) {
		t.Fatalf("want 403 Forbidden containing %q, got %v", want, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("refusal %q\ndoes not contain %q", err.Error(), want)
	}
}

// update applies edit to the stored cluster and updates it.
func update(ns, name string, cs interface {
	Get(context.Context, string, metav1.GetOptions) (*v1alpha1.Cluster, error)
	Update(context.Context, *v1alpha1.Cluster, metav1.UpdateOptions) (*v1alpha1.Cluster, error)
}, edit func(*v1alpha1.Cluster)) error {
	c, err := cs.Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading %s/%s: %w", ns, name, err)
	}
	edit(c)
	_, err = cs.Update(context.Background(), c, metav1.UpdateOptions{})
	return err
}

// waitGone deletes a cluster and waits until the store no longer has it.
func waitGone(t *testing.T, ns, name string) {
	t.Helper()
	deleteCluster(t, ns, name)
	cs := hikubeClient(t, "admin").AppsV1alpha1().Clusters(ns)
	eventually(t, 30*time.Second, "cluster "+ns+"/"+name+" gone", func() bool {
		_, err := cs.Get(context.Background(), name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
}

// TestQuotaKeysAcceptTheLastFitAndRefuseTheNext walks every quota key: two
// clusters fill the limit, a third is refused; an update raising usage is
// refused until another cluster lowers its usage, which frees the quota at
// once; deleting a cluster frees it for the next create.
func TestQuotaKeysAcceptTheLastFitAndRefuseTheNext(t *testing.T) {
	tests := []struct {
		name, key, limit string
		fit              func(name string) *v1alpha1.Cluster // takes half the limit
		raise, lower     func(*v1alpha1.Cluster)             // nil: no update step
		refusal, raised  string                              // in the create and the update refusals
	}{
		{name: "clusters", key: "count/clusters.apps.hikube.io", limit: "2",
			fit:     func(n string) *v1alpha1.Cluster { return quotaCluster(n, 3, "u1.large", 0) },
			refusal: "exceeds quota: clusters requested 1, used 2, limit 2 in quota-clusters"},
		{name: "nodes", key: "hikube.io/nodes", limit: "6",
			fit: func(n string) *v1alpha1.Cluster { return quotaCluster(n, 3, "u1.large", 0) },
			raise: func(c *v1alpha1.Cluster) {
				setGroup(c, func(g *v1alpha1.NodeGroup) { g.MaxReplicas = ptr.To[int32](4) })
			},
			lower: func(c *v1alpha1.Cluster) {
				setGroup(c, func(g *v1alpha1.NodeGroup) { g.MaxReplicas = ptr.To[int32](2) })
			},
			refusal: "exceeds quota: nodes requested 3 (maxReplicas 3), used 6, limit 6 in quota-nodes",
			raised:  "nodes requested 4 (maxReplicas 4), used 3, limit 6"},
		{name: "vcpu", key: "hikube.io/cpu", limit: "24",
			fit:   func(n string) *v1alpha1.Cluster { return quotaCluster(n, 3, "u1.xlarge", 0) },
			raise: func(c *v1alpha1.Cluster) { setGroup(c, func(g *v1alpha1.NodeGroup) { g.InstanceType = "u1.2xlarge" }) },
			lower: func(c *v1alpha1.Cluster) {
				setGroup(c, func(g *v1alpha1.NodeGroup) { g.MaxReplicas = ptr.To[int32](0) })
			},
			refusal: "exceeds quota: vCPU requested 12 (maxReplicas 3 × 4 vCPU (u1.xlarge)), used 24, limit 24 in quota-vcpu",
			raised:  "vCPU requested 24 (maxReplicas 3 × 8 vCPU (u1.2xlarge)), used 12, limit 24"},
		{name: "memory", key: "hikube.io/memory", limit: "96Gi",
			fit:   func(n string) *v1alpha1.Cluster { return quotaCluster(n, 3, "u1.xlarge", 0) },
			raise: func(c *v1alpha1.Cluster) { setGroup(c, func(g *v1alpha1.NodeGroup) { g.InstanceType = "m1.xlarge" }) },
			lower: func(c *v1alpha1.Cluster) {
				setGroup(c, func(g *v1alpha1.NodeGroup) { g.MaxReplicas = ptr.To[int32](0) })
			},
			refusal: "exceeds quota: memory requested 48Gi (maxReplicas 3 × 16Gi (u1.xlarge)), used 96Gi, limit 96Gi in quota-memory",
			raised:  "memory requested 96Gi (maxReplicas 3 × 32Gi (m1.xlarge)), used 48Gi, limit 96Gi"},
		{name: "gpus", key: "hikube.io/gpus.l40s", limit: "8",
			fit: func(n string) *v1alpha1.Cluster { return quotaCluster(n, 2, "u1.4xlarge", 2) },
			raise: func(c *v1alpha1.Cluster) {
				setGroup(c, func(g *v1alpha1.NodeGroup) { g.GPUs = append(g.GPUs, v1alpha1.GPU{Name: "nvidia.com/L40S"}) })
			},
			lower: func(c *v1alpha1.Cluster) {
				setGroup(c, func(g *v1alpha1.NodeGroup) { g.MaxReplicas = ptr.To[int32](1) })
			},
			refusal: "exceeds quota: GPUs nvidia.com/L40S requested 4 (maxReplicas 2 × 2), used 8, limit 8 in quota-gpus",
			raised:  "GPUs nvidia.com/L40S requested 6 (maxReplicas 2 × 3), used 4, limit 8"},
		{name: "controlplane", key: "hikube.io/control-plane-replicas", limit: "4",
			fit: func(n string) *v1alpha1.Cluster {
				c := quotaCluster(n, 1, "u1.large", 0)
				c.Spec.ControlPlane.Replicas = ptr.To[int32](2)
				return c
			},
			raise:   func(c *v1alpha1.Cluster) { c.Spec.ControlPlane.Replicas = ptr.To[int32](3) },
			lower:   func(c *v1alpha1.Cluster) { c.Spec.ControlPlane.Replicas = ptr.To[int32](1) },
			refusal: "exceeds quota: control-plane replicas requested 2, used 4, limit 4 in quota-controlplane",
			raised:  "control-plane replicas requested 3, used 2, limit 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := newTenant(t, "quota-"+tt.name)
			setQuota(t, ns, map[string]string{tt.key: tt.limit})
			cs := hikubeClient(t, "admin").AppsV1alpha1().Clusters(ns)
			ctx := context.Background()

			for _, n := range []string{"a1", "a2"} {
				if _, err := cs.Create(ctx, tt.fit(n), metav1.CreateOptions{}); err != nil {
					t.Fatalf("creating %s, which fits: %v", n, err)
				}
			}
			_, err := cs.Create(ctx, tt.fit("a3"), metav1.CreateOptions{})
			assertQuotaRefusal(t, err, tt.refusal)
			assertNotStored(t, ns, "a3")

			if tt.raise != nil {
				assertQuotaRefusal(t, update(ns, "a2", cs, tt.raise), tt.raised)
				if err := update(ns, "a1", cs, tt.lower); err != nil {
					t.Fatalf("lowering a1: %v", err)
				}
				if err := update(ns, "a2", cs, tt.raise); err != nil {
					t.Fatalf("raising a2 after a1 freed quota: %v", err)
				}
			}
			waitGone(t, ns, "a2")
			if _, err := cs.Create(ctx, tt.fit("a3"), metav1.CreateOptions{}); err != nil {
				t.Fatalf("creating a3 after deleting a2: %v", err)
			}
		})
	}
}

// TestConcurrentCreatesDoNotOvershootTheQuota races 20 creates for a quota of
// 5 clusters: exactly 5 are stored, the others get 403. The quota's status
// then shows 5/5 for kubectl describe (written by the quota status controller
// of hikube-controller), and raising it takes effect at once.
func TestConcurrentCreatesDoNotOvershootTheQuota(t *testing.T) {
	runQuotaStatus(t)
	ns := newTenant(t, "quota-race")
	setQuota(t, ns, map[string]string{"count/clusters.apps.hikube.io": "5"})
	cs := hikubeClient(t, "admin").AppsV1alpha1().Clusters(ns)

	var wg sync.WaitGroup
	var mu sync.Mutex
	created, refused := 0, 0
	var other []error
	start := make(chan struct{})
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := cs.Create(context.Background(), quotaCluster(fmt.Sprintf("race-%02d", i), 1, "u1.large", 0), metav1.CreateOptions{})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case apierrors.IsForbidden(err) && strings.Contains(err.Error(), "exceeds quota: clusters"):
				refused++
			default:
				other = append(other, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(other) > 0 {
		t.Fatalf("unexpected errors: %v", other)
	}
	list, err := cs.List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if created != 5 || refused != 15 || len(list.Items) != 5 {
		t.Fatalf("created %d, refused %d, stored %d; want 5, 15, 5", created, refused, len(list.Items))
	}

	rqs := hostClient(t).CoreV1().ResourceQuotas(ns)
	eventually(t, 10*time.Second, "quota status used 5 / hard 5", func() bool {
		q, err := rqs.Get(context.Background(), "limits", metav1.GetOptions{})
		if err != nil {
			return false
		}
		used, hard := q.Status.Used["count/clusters.apps.hikube.io"], q.Status.Hard["count/clusters.apps.hikube.io"]
		return used.Value() == 5 && hard.Value() == 5
	})
	out := mustKubectl(t, "admin", "describe", "quota", "-n", ns, "limits")
	if !strings.Contains(out, "count/clusters.apps.hikube.io  5     5") {
		t.Errorf("kubectl describe quota does not show 5 used of 5:\n%s", out)
	}

	setQuota(t, ns, map[string]string{"count/clusters.apps.hikube.io": "6"})
	if _, err := cs.Create(context.Background(), quotaCluster("after-raise", 1, "u1.large", 0), metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating after the admin raised the quota: %v", err)
	}
}

// TestTenantWithoutQuotaIsUnlimited: without a ResourceQuota limiting a
// hikube key, a tenant is limited only by validation and GPU capacity.
func TestTenantWithoutQuotaIsUnlimited(t *testing.T) {
	ns := newTenant(t, "quota-none")
	setQuota(t, ns, map[string]string{"pods": "1"}) // a quota of other keys does not limit clusters
	cs := hikubeClient(t, "admin").AppsV1alpha1().Clusters(ns)
	for i := range 3 {
		c := quotaCluster(fmt.Sprintf("big-%d", i), 100, "m1.8xlarge", 0)
		c.Spec.ControlPlane.Replicas = ptr.To[int32](5)
		if _, err := cs.Create(context.Background(), c, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating %s in a tenant without hikube quota: %v", c.Name, err)
		}
	}
}

// TestAQuotaCreatedAfterCreatesIsEnforced: a tenant creates a cluster
// without quota (admission remembers the namespace as without quota for
// 30 s), then the administrator creates a quota of one cluster. Once
// admission sees it — through its informer, within the 30 s — the next
// create is refused, counting the cluster created before the quota.
func TestAQuotaCreatedAfterCreatesIsEnforced(t *testing.T) {
	ns := newTenant(t, "quota-later")
	cs := hikubeClient(t, "admin").AppsV1alpha1().Clusters(ns)
	if _, err := cs.Create(context.Background(), quotaCluster("before", 1, "u1.large", 0), metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating a cluster before any quota: %v", err)
	}
	setQuota(t, ns, map[string]string{"count/clusters.apps.hikube.io": "1"})
	_, err := cs.Create(context.Background(), quotaCluster("after", 1, "u1.large", 0), metav1.CreateOptions{})
	assertQuotaRefusal(t, err, "exceeds quota: clusters requested 1, used 1, limit 1 in quota-later")
	assertNotStored(t, ns, "after")
}
