package quotastatus

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeinformers "k8s.io/client-go/informers"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	hikubefake "github.com/hikube/hikube/pkg/generated/clientset/versioned/fake"
	informers "github.com/hikube/hikube/pkg/generated/informers/externalversions"
	"github.com/hikube/hikube/pkg/quota"
)

func TestStatusWritesOnlyHikubeKeys(t *testing.T) {
	q := &corev1.ResourceQuota{
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			quota.ResourceNodes: resource.MustParse("10"),
			corev1.ResourcePods: resource.MustParse("5"),
		}},
		Status: corev1.ResourceQuotaStatus{Used: corev1.ResourceList{
			corev1.ResourcePods: resource.MustParse("3"), // the host's, kept
			quota.ResourceCPU:   resource.MustParse("8"), // no longer limited, dropped
		}},
	}
	out, changed, _ := withStatus(q, corev1.ResourceList{quota.ResourceNodes: resource.MustParse("4")}, false)
	if !changed {
		t.Fatal("status unchanged")
	}
	nodes, pods := out.Status.Used[quota.ResourceNodes], out.Status.Used[corev1.ResourcePods]
	if nodes.Value() != 4 || pods.Value() != 3 || len(out.Status.Used) != 2 {
		t.Errorf("used = %v, want nodes 4 and the host's pods 3", out.Status.Used)
	}
	if _, ok := out.Status.Hard[corev1.ResourcePods]; ok {
		t.Error("wrote status.hard of a key the host owns")
	}
	if _, changed, _ := withStatus(out, corev1.ResourceList{quota.ResourceNodes: resource.MustParse("4")}, true); changed {
		t.Error("an up-to-date status reports a change")
	}
}

// TestSyncWritesTheNamespacesUsage: the clusters of a namespace, at their
// maxReplicas, land in status.used of its quotas; scoped quotas, quotas of
// other keys and other namespaces' clusters do not count.
func TestSyncWritesTheNamespacesUsage(t *testing.T) {
	rq := func(name string, hard corev1.ResourceList, scopes ...corev1.ResourceQuotaScope) *corev1.ResourceQuota {
		return &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "tenant-a"},
			Spec: corev1.ResourceQuotaSpec{Hard: hard, Scopes: scopes}}
	}
	cluster := func(ns, name string, maxReplicas int32) *v1alpha1.Cluster {
		return &v1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: v1alpha1.ClusterSpec{NodeGroups: map[string]v1alpha1.NodeGroup{
				"w": {MaxReplicas: ptr.To(maxReplicas), InstanceType: "s1.large"},
			}}}
	}
	limits := rq("limits", corev1.ResourceList{quota.ResourceClusters: resource.MustParse("5"), quota.ResourceNodes: resource.MustParse("20")})
	scoped := rq("scoped", corev1.ResourceList{quota.ResourceNodes: resource.MustParse("1")}, corev1.ResourceQuotaScopeBestEffort)
	pods := rq("pods", corev1.ResourceList{corev1.ResourcePods: resource.MustParse("10")})

	host := kubefake.NewClientset(limits, scoped, pods)
	kubeFactory := kubeinformers.NewSharedInformerFactory(host, 0)
	hikubeFactory := informers.NewSharedInformerFactory(hikubefake.NewClientset(), 0)
	c, err := New(host, hikubeFactory.Apps().V1alpha1().Clusters(), kubeFactory.Core().V1().ResourceQuotas(), kubeFactory.Core().V1().ConfigMaps())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []*corev1.ResourceQuota{limits, scoped, pods} {
		if err := kubeFactory.Core().V1().ResourceQuotas().Informer().GetIndexer().Add(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, cl := range []*v1alpha1.Cluster{cluster("tenant-a", "web", 3), cluster("tenant-a", "ml", 4), cluster("tenant-b", "other", 50)} {
		if err := hikubeFactory.Apps().V1alpha1().Clusters().Informer().GetIndexer().Add(cl); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := c.sync(context.Background(), "tenant-a"); err != nil {
		t.Fatalf("sync: %v", err)
	}
	got, err := host.CoreV1().ResourceQuotas("tenant-a").Get(context.Background(), "limits", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[corev1.ResourceName]int64{quota.ResourceClusters: 2, quota.ResourceNodes: 7} {
		if used := got.Status.Used[key]; used.Value() != want {
			t.Errorf("status.used[%s] = %s, want %d", key, used.String(), want)
		}
		if hard, spec := got.Status.Hard[key], got.Spec.Hard[key]; hard.Cmp(spec) != 0 {
			t.Errorf("status.hard[%s] = %s, want spec.hard's %s", key, hard.String(), spec.String())
		}
	}
	for _, name := range []string{"scoped", "pods"} {
		q, err := host.CoreV1().ResourceQuotas("tenant-a").Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(q.Status.Used) != 0 || len(q.Status.Hard) != 0 {
			t.Errorf("quota %s, which does not limit clusters, got status %+v", name, q.Status)
		}
	}
}

// TestLoweringWaitsForTheGrace: a figure above the store's usage (a charge
// whose write has not landed yet, or a leak) is lowered only when lowering
// is allowed; raising is immediate.
func TestLoweringWaitsForTheGrace(t *testing.T) {
	q := &corev1.ResourceQuota{
		Spec:   corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{quota.ResourceNodes: resource.MustParse("10")}},
		Status: corev1.ResourceQuotaStatus{Used: corev1.ResourceList{quota.ResourceNodes: resource.MustParse("6")}},
	}
	four := corev1.ResourceList{quota.ResourceNodes: resource.MustParse("4")}
	if out, _, deferred := withStatus(q, four, false); !deferred || out.Status.Used.Name(quota.ResourceNodes, resource.DecimalSI).Value() != 6 {
		t.Errorf("within the grace: used %v, deferred %v; want 6 kept and a deferral", out.Status.Used, deferred)
	}
	if out, _, deferred := withStatus(q, four, true); deferred || out.Status.Used.Name(quota.ResourceNodes, resource.DecimalSI).Value() != 4 {
		t.Errorf("after the grace: used %v, deferred %v; want 4", out.Status.Used, deferred)
	}
	eight := corev1.ResourceList{quota.ResourceNodes: resource.MustParse("8")}
	if out, _, _ := withStatus(q, eight, false); out.Status.Used.Name(quota.ResourceNodes, resource.DecimalSI).Value() != 8 {
		t.Errorf("raising within the grace: used %v, want 8", out.Status.Used)
	}
	figures, changed, deferred := reconcileFigures(map[string]int64{"l40s": 6, "a100": 1}, map[string]int64{"l40s": 4, "a100": 2}, false)
	if figures["l40s"] != 6 || figures["a100"] != 2 || !changed || !deferred {
		t.Errorf("GPU figures within the grace = %v (changed %v, deferred %v); want l40s 6 kept, a100 raised to 2", figures, changed, deferred)
	}
}

// TestRecordsRiseOnlyWithCharges: the grace starts when a figure rises, not
// when the controller's own lowering or a release moves it.
func TestRecordsRiseOnlyWithCharges(t *testing.T) {
	host := kubefake.NewClientset()
	kubeFactory := kubeinformers.NewSharedInformerFactory(host, 0)
	hikubeFactory := informers.NewSharedInformerFactory(hikubefake.NewClientset(), 0)
	c, err := New(host, hikubeFactory.Apps().V1alpha1().Clusters(), kubeFactory.Core().V1().ResourceQuotas(), kubeFactory.Core().V1().ConfigMaps())
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Unix(1000, 0)
	c.now = func() time.Time { return clock }
	q := func(used string) *corev1.ResourceQuota {
		return &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "limits", Namespace: "tenant-a"},
			Status: corev1.ResourceQuotaStatus{Used: corev1.ResourceList{quota.ResourceNodes: resource.MustParse(used)}}}
	}
	c.recordChanged(nil, q("4"))
	if ok, _ := c.lowerable("tenant-a/limits"); ok {
		t.Error("a quota just seen is lowerable")
	}
	clock = clock.Add(DefaultGrace)
	c.recordChanged(q("4"), q("3"))
	if ok, _ := c.lowerable("tenant-a/limits"); !ok {
		t.Error("a release restarted the grace")
	}
	c.recordChanged(q("3"), q("5"))
	if ok, wait := c.lowerable("tenant-a/limits"); ok || wait != DefaultGrace {
		t.Errorf("after a charge: lowerable %v, wait %s; want not before %s", ok, wait, DefaultGrace)
	}
}
