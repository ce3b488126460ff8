package pki

import (
	"net"
	"slices"
)

// kubernetesServiceNames are the names pods reach the API by: the kubernetes
// Service of the default namespace.
var kubernetesServiceNames = []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}

// KubeAPIServerServing is the serving certificate of a kube-apiserver that
// clients outside the cluster reach by names and ips, and pods through the
// kubernetes Service (its names and serviceIP).
func KubeAPIServerServing(names []string, ips []net.IP, serviceIP net.IP) CertConfig {
	return CertConfig{
		CommonName: "kube-apiserver",
		DNSNames:   append(slices.Clone(names), kubernetesServiceNames...),
		IPs:        append(slices.Clone(ips), serviceIP),
	}
}
