package cmd

import (
	"bytes"
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/generated/clientset/versioned/fake"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
)

// The verbs' options are tested as plain values: built directly, with fake
// clients, never through cobra.

func testStreams(stdin string) (genericiooptions.IOStreams, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}, &out, &errOut
}

func testCluster(ns, name, version string) *v1alpha1.Cluster {
	return &v1alpha1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(ns + "-" + name)},
		Spec: v1alpha1.ClusterSpec{
			Version: version,
			NodeGroups: map[string]v1alpha1.NodeGroup{
				"web": {InstanceType: "s1.large", MinReplicas: ptr.To[int32](2), MaxReplicas: ptr.To[int32](10)},
			},
		},
	}
}

// verbs lists the API verbs a fake clientset saw.
func verbs(cs *fake.Clientset) []string {
	var out []string
	for _, a := range cs.Actions() {
		out = append(out, a.GetVerb())
	}
	return out
}

func TestScaleOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name       string
		group      string
		lower, upp *int32
		ok         bool
	}{
		{"min 0 allowed", "web", ptr.To[int32](0), nil, true},
		{"max only", "web", nil, ptr.To[int32](3), true},
		{"pinned", "web", ptr.To[int32](3), ptr.To[int32](3), true},
		{"no group", "", ptr.To[int32](1), nil, false},
		{"no bound", "web", nil, nil, false},
		{"negative min", "web", ptr.To[int32](-1), nil, false},
		{"min over max", "web", ptr.To[int32](5), ptr.To[int32](2), false},
		{"max over the catalog", "web", nil, ptr.To[int32](100000), false},
	} {
		streams, _, _ := testStreams("")
		o := NewScaleOptions(streams)
		o.NodeGroup, o.MinReplicas, o.MaxReplicas = tc.group, tc.lower, tc.upp
		err := o.Validate()
		if tc.ok != (err == nil) || (err != nil && exitcode.Code(err) != exitcode.Usage) {
			t.Errorf("%s: Validate() = %v (exit %d), want ok=%v", tc.name, err, exitcode.Code(err), tc.ok)
		}
	}
}

func TestOptionalInt32TellsZeroFromAbsent(t *testing.T) {
	var p *int32
	v := optionalInt32{&p}
	if v.String() != "" || p != nil {
		t.Fatalf("unset: %q %v", v.String(), p)
	}
	if err := v.Set("0"); err != nil || p == nil || *p != 0 {
		t.Fatalf("Set(0): %v, %v", err, p)
	}
	if err := v.Set("x"); err == nil {
		t.Error("Set(x) accepted a non-number")
	}
}

func TestGetOptionsListsTheNamespaceSorted(t *testing.T) {
	cs := fake.NewSimpleClientset(testCluster("tenant-a", "web", "v1.37"), testCluster("tenant-a", "api", "v1.36"), testCluster("tenant-b", "other", "v1.37"))
	streams, out, _ := testStreams("")
	o := NewGetOptions(streams)
	o.Namespace, o.Clusters = "tenant-a", cs.AppsV1alpha1().Clusters("tenant-a")
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := o.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.HasPrefix(got, "NAME") || strings.Contains(got, "other") || strings.Index(got, "api") > strings.Index(got, "web") {
		t.Errorf("get clusters in tenant-a, sorted, without tenant-b's:\n%s", got)
	}
}

func TestUpgradeOptionsPlanWritesNothingWithoutYes(t *testing.T) {
	cs := fake.NewSimpleClientset(testCluster("tenant-a", "prod", "v1.36"))
	streams, out, errOut := testStreams("")
	o := NewUpgradeOptions(streams)
	o.Name, o.Namespace, o.Clusters = "prod", "tenant-a", cs.AppsV1alpha1().Clusters("tenant-a")
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := o.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "v1.36 -> v1.37") || !strings.Contains(errOut.String(), "--yes") {
		t.Errorf("plan: stdout %q, stderr %q", out, errOut)
	}
	if v := verbs(cs); len(v) != 1 || v[0] != "get" {
		t.Errorf("the plan sent %v; want only a get", v)
	}

	o.Version = "v1.35"
	if err := o.Run(context.Background()); exitcode.Code(err) != exitcode.Usage || !strings.Contains(err.Error(), "downgrade") {
		t.Errorf("downgrade: %v", err)
	}
}

func TestDeletesRefuseWithoutTerminal(t *testing.T) {
	cs := fake.NewSimpleClientset(testCluster("tenant-a", "web", "v1.37"))
	clusters := cs.AppsV1alpha1().Clusters("tenant-a")

	streams, _, errOut := testStreams("web\n") // the right answer, but not from a terminal
	d := NewDeleteClusterOptions(streams)
	d.Name, d.Namespace, d.Clusters = "web", "tenant-a", clusters
	err := d.Run(context.Background())
	if exitcode.Code(err) != exitcode.Usage || !strings.Contains(err.Error(), "--yes") || !strings.Contains(errOut.String(), "node group:  web") {
		t.Errorf("delete cluster without a TTY: %v; stderr %q", err, errOut)
	}

	streams, _, _ = testStreams("web\n")
	g := NewNodeGroupDeleteOptions(streams)
	g.Name, g.NodeGroup, g.Namespace, g.Clusters = "web", "web", "tenant-a", clusters
	if err := g.Run(context.Background()); exitcode.Code(err) != exitcode.Usage {
		t.Errorf("nodegroup delete without a TTY: %v", err)
	}
	for _, v := range verbs(cs) {
		if v != "get" {
			t.Errorf("a refused delete sent a %s", v)
		}
	}

	d.Yes = true
	if err := d.Run(context.Background()); err != nil {
		t.Fatalf("delete --yes: %v", err)
	}
	if _, err := clusters.Get(context.Background(), "web", metav1.GetOptions{}); err == nil {
		t.Error("delete --yes left the cluster")
	}
}

func TestEventsOptionsShowOnlyTheClustersEvents(t *testing.T) {
	c := testCluster("tenant-a", "web", "v1.37")
	ev := func(name string, uid types.UID, reason string) *corev1.Event {
		return &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: "tenant-a", Name: name},
			InvolvedObject: corev1.ObjectReference{Kind: "Cluster", Name: "web", UID: uid},
			Reason:         reason, Message: reason, Type: corev1.EventTypeNormal,
		}
	}
	kube := kubefake.NewSimpleClientset(ev("e1", c.UID, "Provisioned"), ev("e2", "an-older-web", "FromTheOldCluster"))
	streams, out, _ := testStreams("")
	o := NewEventsOptions(streams)
	o.Name, o.Namespace = "web", "tenant-a"
	o.Clusters, o.Kube = fake.NewSimpleClientset(c).AppsV1alpha1().Clusters("tenant-a"), kube
	if err := o.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Provisioned") || strings.Contains(out.String(), "FromTheOldCluster") {
		t.Errorf("events of web:\n%s", out)
	}
}

func TestOptionsValidateRefuseBadInput(t *testing.T) {
	streams, _, _ := testStreams("")
	addon := NewAddonOptions(streams, true)
	addon.Addons = []string{"cert-manager", "bogus"}
	wait := NewWaitOptions(streams)
	wait.For = "later"
	kc := NewKubeconfigOptions(streams)
	kc.Merge, kc.Print = true, true
	gpu := NewGPUAttachOptions(streams, true)
	gpu.NodeGroup, gpu.GPU, gpu.Model = "ml", "nvidia.com/L40S:1", "nvidia.com/L40S"
	it := NewInstanceTypesOptions(streams)
	it.Family = "x9"
	completion := NewCompletionOptions(streams, nil)
	completion.Shell = "tcsh"
	for name, o := range map[string]options{
		"addon bogus": addon, "wait --for later": wait, "kubeconfig --merge --print": kc,
		"gpu --gpu with --model": gpu, "instance-types --family x9": it, "completion tcsh": completion,
	} {
		if err := o.Validate(); exitcode.Code(err) != exitcode.Usage {
			t.Errorf("%s: Validate() = %v, want a usage error", name, err)
		}
	}
}

func TestQuotaOptionsShowOnlyQuotasThatLimitClusters(t *testing.T) {
	hard := func(kv ...string) corev1.ResourceList {
		l := corev1.ResourceList{}
		for i := 0; i < len(kv); i += 2 {
			l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
		}
		return l
	}
	kube := kubefake.NewSimpleClientset(
		&corev1.ResourceQuota{
			ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-a", Name: "limits"},
			Spec:       corev1.ResourceQuotaSpec{Hard: hard("count/clusters.apps.hikube.io", "5", "hikube.io/gpus.l40s", "8")},
			Status:     corev1.ResourceQuotaStatus{Used: hard("count/clusters.apps.hikube.io", "2", "hikube.io/gpus.l40s", "5")},
		},
		&corev1.ResourceQuota{ // pods only: not about clusters
			ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-a", Name: "pods"},
			Spec:       corev1.ResourceQuotaSpec{Hard: hard("pods", "10")},
		},
		&corev1.ResourceQuota{ // another tenant's
			ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-b", Name: "other"},
			Spec:       corev1.ResourceQuotaSpec{Hard: hard("hikube.io/nodes", "1")},
		},
	)
	streams, out, errOut := testStreams("")
	o := NewQuotaOptions(streams)
	o.Namespace, o.Kube = "tenant-a", kube
	if err := o.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"Name:       limits", "Resource", "count/clusters.apps.hikube.io  2     5", "hikube.io/gpus.l40s            5     8"} {
		if !strings.Contains(got, want) {
			t.Errorf("quota output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "pods") || strings.Contains(got, "other") || errOut.Len() != 0 {
		t.Errorf("quota shows what is not the tenant's cluster quota:\n%s\nstderr: %s", got, errOut)
	}

	streams, out, errOut = testStreams("")
	o = NewQuotaOptions(streams)
	o.Namespace, o.Kube = "tenant-c", kube
	if err := o.Run(context.Background()); err != nil || out.Len() != 0 || !strings.Contains(errOut.String(), "unlimited") {
		t.Errorf("no quota: err %v, stdout %q, stderr %q", err, out, errOut)
	}
}
