package printers

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/catalog"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func cond(typ string, status metav1.ConditionStatus, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg, LastTransitionTime: metav1.NewTime(now.Add(-2 * time.Minute))}
}

func q(s string) *resource.Quantity { v := resource.MustParse(s); return &v }

// prod is the seed's prod cluster, Ready.
func prod() *v1alpha1.Cluster {
	return &v1alpha1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: "prod", Namespace: "tenant-a", Generation: 2, CreationTimestamp: metav1.NewTime(now.Add(-3 * time.Hour))},
		Spec: v1alpha1.ClusterSpec{
			Version:      "v1.36",
			ControlPlane: v1alpha1.ControlPlaneSpec{Replicas: ptr.To[int32](3), ResourcesPreset: "small"},
			StorageClass: "replicated",
			NodeGroups: map[string]v1alpha1.NodeGroup{
				"web": {MinReplicas: ptr.To[int32](2), MaxReplicas: ptr.To[int32](10), InstanceType: "s1.large", EphemeralStorage: q("20Gi"), Roles: []string{"ingress-nginx"}, StorageClass: "replicated"},
				"ml":  {MinReplicas: ptr.To[int32](1), MaxReplicas: ptr.To[int32](5), InstanceType: "u1.xlarge", StorageClass: "replicated", GPUs: []v1alpha1.GPU{{Name: "nvidia.com/L40S"}}},
			},
			Addons: v1alpha1.Addons{
				CertManager:      &v1alpha1.Addon{Enabled: true},
				IngressNginx:     &v1alpha1.IngressNginxAddon{Addon: v1alpha1.Addon{Enabled: true}, Hosts: []string{"app.example.ch"}},
				Fluxcd:           &v1alpha1.Addon{Enabled: false},
				MonitoringAgents: &v1alpha1.Addon{Enabled: true},
			},
		},
		Status: v1alpha1.ClusterStatus{
			Phase: v1alpha1.ClusterReady, ObservedGeneration: 2, Endpoint: "https://127.0.0.1:40001", Version: "v1.36.3",
			ControlPlane: v1alpha1.ControlPlaneStatus{Replicas: 3, ReadyReplicas: 3},
			NodeGroups: map[string]v1alpha1.NodeGroupStatus{
				"web": {DesiredReplicas: 2, Replicas: 2, ReadyReplicas: 2, Zones: map[string]int32{"geneva": 1, "lucerne": 1}},
				"ml":  {DesiredReplicas: 1, Replicas: 1, ReadyReplicas: 1, Zones: map[string]int32{"gland": 1}},
			},
			Addons: map[string]v1alpha1.AddonStatus{"certManager": {State: v1alpha1.AddonReady}, "ingressNginx": {State: v1alpha1.AddonReady}, "monitoringAgents": {State: v1alpha1.AddonReady}},
			Conditions: []metav1.Condition{
				cond("AddonsReady", metav1.ConditionTrue, "AddonsReady", "3 add-ons ready"),
				cond("Ready", metav1.ConditionTrue, "ClusterReady", "control plane and node groups are ready"),
				cond("ControlPlaneReady", metav1.ConditionTrue, "Running", "3/3 replicas of Kubernetes v1.36.3 serve"),
				cond("NodeGroupsReady", metav1.ConditionTrue, "NodesReady", "2 node groups ready"),
			},
		},
	}
}

// stuck is a cluster whose control plane cannot start.
func stuck() *v1alpha1.Cluster {
	c := prod()
	c.Name = "old"
	c.Spec.Version = "v1.34"
	c.Status = v1alpha1.ClusterStatus{
		Phase: v1alpha1.ClusterProvisioning, ObservedGeneration: 1,
		NodeGroups: map[string]v1alpha1.NodeGroupStatus{"web": {DesiredReplicas: 2}},
		Addons:     map[string]v1alpha1.AddonStatus{"certManager": {State: v1alpha1.AddonInstalling, Message: "waiting for nodes"}, "ingressNginx": {State: v1alpha1.AddonFailed, Message: "no node with role ingress-nginx"}},
		Conditions: []metav1.Condition{
			cond("Ready", metav1.ConditionFalse, "BinariesMissing", "ControlPlaneReady: no binaries for v1.34"),
			cond("ControlPlaneReady", metav1.ConditionFalse, "BinariesMissing", "no binaries for v1.34; build them: hack/build-tools.sh v1.34"),
		},
	}
	return c
}

func events() []corev1.Event {
	ev := func(min int, typ, reason, msg string) corev1.Event {
		return corev1.Event{Type: typ, Reason: reason, Message: msg, LastTimestamp: metav1.NewTime(now.Add(-time.Duration(min) * time.Minute))}
	}
	return []corev1.Event{
		ev(1, "Normal", "PhaseReady", "Phase Provisioning → Ready"),
		ev(3, "Normal", "ScaleUp", "ScaleUp web from 1 to 2: 3 pods unschedulable for lack of cpu"),
		ev(2, "Warning", "AddonFailed", "ingressNginx: no node with role ingress-nginx"),
	}
}

func TestTablesMatchGoldenFiles(t *testing.T) {
	noStatus := prod()
	noStatus.Name, noStatus.Status = "new", v1alpha1.ClusterStatus{}
	clusters := []v1alpha1.Cluster{*prod(), *stuck(), *noStatus}
	gpu := v1alpha1.GPUModel{
		ObjectMeta: metav1.ObjectMeta{Name: "l40s"},
		Spec:       v1alpha1.GPUModelSpec{Vendor: "NVIDIA", Model: "L40S", ShortName: "nvidia.com/L40S", DeviceResource: "nvidia.com/AD102GL_L40S", Memory: resource.MustParse("48G")},
		Status: v1alpha1.GPUModelStatus{Datacenters: []v1alpha1.GPUDatacenterStatus{
			{Name: "geneva", Capacity: 8, Reserved: 3, Free: 5}, {Name: "lucerne", Capacity: 8, Reserved: 2, Free: 6}, {Name: "gland", Capacity: 8, Free: 8},
		}},
	}
	for name, print := range map[string]func(*bytes.Buffer) error{
		"clusters":          func(b *bytes.Buffer) error { return ClustersTable(b, clusters, false, false, now) },
		"clusters-wide":     func(b *bytes.Buffer) error { return ClustersTable(b, clusters, true, true, now) },
		"nodegroups":        func(b *bytes.Buffer) error { return NodeGroupsTable(b, prod()) },
		"instance-types":    func(b *bytes.Buffer) error { return InstanceTypesTable(b, catalog.InstanceTypes(), "") },
		"instance-types-u1": func(b *bytes.Buffer) error { return InstanceTypesTable(b, catalog.InstanceTypes(), "u1") },
		"versions": func(b *bytes.Buffer) error {
			return VersionsTable(b, catalog.SupportedVersions, catalog.NewestVersion())
		},
		"gpu-models":   func(b *bytes.Buffer) error { return GPUModelsTable(b, []v1alpha1.GPUModel{gpu}) },
		"events":       func(b *bytes.Buffer) error { return EventsTable(b, events(), now, true) },
		"status-ready": func(b *bytes.Buffer) error { return Status(b, prod(), nil, now, Style{}) },
		"status-stuck": func(b *bytes.Buffer) error { return Status(b, stuck(), events(), now, Style{}) },
		"status-color": func(b *bytes.Buffer) error { return Status(b, stuck(), nil, now, Style{Color: true}) },
		"custom-columns": func(b *bytes.Buffer) error {
			return CustomColumns(b, "NAME:.metadata.name,PHASE:.status.phase,WEB-MAX:.spec.nodeGroups.web.maxReplicas", []runtime.Object{prod(), noStatus})
		},
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := print(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, name, b.Bytes())
		})
	}
}

func TestProgressLine(t *testing.T) {
	got := Progress(stuck())
	want := "phase Provisioning, control plane 0/3, ml 0/0, web 0/2, add-ons: cert-manager Installing, ingress-nginx Failed"
	if got != want {
		t.Errorf("Progress = %q\nwant      %q", got, want)
	}
}

func TestNoColourUnlessAsked(t *testing.T) {
	var b bytes.Buffer
	if err := Status(&b, stuck(), events(), now, Style{}); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.Bytes(), []byte("\x1b[")) {
		t.Error("escape sequences in uncoloured output")
	}
}
