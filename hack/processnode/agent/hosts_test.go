package agent

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func member(name, ns, ip string, labels map[string]string, hostname, subdomain string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec:       corev1.PodSpec{Hostname: hostname, Subdomain: subdomain},
		Status:     corev1.PodStatus{PodIP: ip},
	}
}

func TestRenderHosts(t *testing.T) {
	etcd := map[string]string{"app": "etcd"}
	self := member("etcd-1", "cp", "", etcd, "etcd-1", "etcd")
	pods := []*corev1.Pod{
		member("etcd-0", "cp", "10.9.1.1", etcd, "etcd-0", "etcd"),
		self,
		member("etcd-2", "cp", "", etcd, "etcd-2", "etcd"),                         // no address yet
		member("etcd-9", "other", "10.9.1.9", etcd, "etcd-9", "etcd"),              // another namespace
		member("api-x", "cp", "10.9.1.5", map[string]string{"app": "api"}, "", ""), // not selected
	}
	gone := member("etcd-3", "cp", "10.9.1.3", etcd, "etcd-3", "etcd")
	gone.DeletionTimestamp = &metav1.Time{}
	pods = append(pods, gone)
	services := []*corev1.Service{
		{ObjectMeta: metav1.ObjectMeta{Name: "etcd", Namespace: "cp"}, Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: etcd}},
		{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "cp"}, Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.10", Selector: map[string]string{"app": "api"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "noselector", Namespace: "cp"}, Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone}},
		{ObjectMeta: metav1.ObjectMeta{Name: "endpoint", Namespace: "cp"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "api"}},
			Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "10.9.255.1"}}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "pending", Namespace: "cp"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}},
	}
	got := RenderHosts(self, "10.9.1.2", pods, services)
	want := strings.Join([]string{
		"# Written by hikube-process-node (simulation): the names cluster DNS would resolve.",
		"127.0.0.1\tlocalhost",
		"::1\tlocalhost ip6-localhost ip6-loopback",
		"10.9.1.2\tetcd-1.etcd.cp.svc etcd-1.etcd.cp.svc.cluster.local etcd-1",
		"10.9.1.1\tetcd-0.etcd.cp.svc etcd-0.etcd.cp.svc.cluster.local etcd.cp.svc etcd.cp.svc.cluster.local",
		"10.9.255.1\tendpoint.cp.svc endpoint.cp.svc.cluster.local",
		"",
	}, "\n")
	if got != want {
		t.Fatalf("hosts:\n%s\nwant:\n%s", got, want)
	}
	// Once etcd-2 has an address, every member's file names it.
	pods[2].Status.PodIP = "10.9.1.4"
	if got := RenderHosts(self, "10.9.1.2", pods, services); !strings.Contains(got, "10.9.1.4\tetcd-2.etcd.cp.svc etcd-2.etcd.cp.svc.cluster.local") {
		t.Fatalf("etcd-2 missing:\n%s", got)
	}
	// A pod without a subdomain is named by its pod name only.
	if got := RenderHosts(pods[4], "10.9.1.5", pods, services); !strings.Contains(got, "10.9.1.5\tapi-x\n") {
		t.Fatalf("own name missing:\n%s", got)
	}
}
