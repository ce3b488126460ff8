package agent

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// clusterDomain is the DNS domain of the host cluster's Services.
const clusterDomain = "cluster.local"

// RenderHosts is the /etc/hosts of pod: loopback, the pod's own names, and
// for every headless Service with a selector in its namespace the names of
// the member pods that have an address, as cluster DNS would answer them:
// <hostname>.<service>.<namespace>.svc[.cluster.local] for pods whose
// spec.subdomain is the Service (spec.hostname, else the pod name), and
// <service>.<namespace>.svc[.cluster.local] for every member; and for every
// LoadBalancer Service of the namespace with an ingress address,
// <service>.<namespace>.svc[.cluster.local] as that address. Lines are
// sorted so that the same inputs give the same file.
func RenderHosts(pod *corev1.Pod, podIP string, pods []*corev1.Pod, services []*corev1.Service) string {
	var b strings.Builder
	b.WriteString("# Written by hikube-process-node (simulation): the names cluster DNS would resolve.\n")
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	if podIP != "" {
		host := podHostname(pod)
		names := []string{host}
		if pod.Spec.Subdomain != "" {
			fqdn := host + "." + pod.Spec.Subdomain + "." + pod.Namespace + ".svc"
			names = []string{fqdn, fqdn + "." + clusterDomain, host}
		}
		fmt.Fprintf(&b, "%s\t%s\n", podIP, strings.Join(names, " "))
	}
	var lines []string
	for _, svc := range services {
		if svc.Namespace != pod.Namespace {
			continue
		}
		if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			// No ClusterIP works here (no kube-proxy): a LoadBalancer Service's
			// name leads to its ingress address, which forwards to the same
			// endpoints on the same ports.
			for _, ing := range svc.Status.LoadBalancer.Ingress {
				if ing.IP != "" {
					name := svc.Name + "." + svc.Namespace + ".svc"
					lines = append(lines, ing.IP+"\t"+name+" "+name+"."+clusterDomain)
				}
			}
			continue
		}
		if svc.Spec.ClusterIP != corev1.ClusterIPNone || len(svc.Spec.Selector) == 0 {
			continue
		}
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		svcName := svc.Name + "." + svc.Namespace + ".svc"
		for _, member := range pods {
			ip := member.Status.PodIP
			if member.Namespace != svc.Namespace || ip == "" || member.DeletionTimestamp != nil || !sel.Matches(labels.Set(member.Labels)) {
				continue
			}
			names := []string{svcName, svcName + "." + clusterDomain}
			if member.Spec.Subdomain == svc.Name {
				fqdn := podHostname(member) + "." + svcName
				names = append([]string{fqdn, fqdn + "." + clusterDomain}, names...)
			}
			lines = append(lines, ip+"\t"+strings.Join(names, " "))
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return b.String()
}

func podHostname(pod *corev1.Pod) string {
	if pod.Spec.Hostname != "" {
		return pod.Spec.Hostname
	}
	return pod.Name
}
