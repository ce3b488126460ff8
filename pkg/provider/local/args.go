package local

import (
	"path/filepath"
	"strconv"
)

// Process names, also the names of pid files and logs.
const (
	procEtcd      = "etcd"
	procKCM       = "kube-controller-manager"
	procScheduler = "kube-scheduler"
	procKwok      = "kwok"
)

func apiserverProc(i int) string { return "kube-apiserver-" + strconv.Itoa(i) }

// serviceCIDR is the tenant's service range; its first address is the
// kubernetes Service (a SAN of the serving certificate).
const serviceCIDR = "10.96.0.0/16"

func etcdArgs(f files, ports Ports) []string {
	client := "http://127.0.0.1:" + strconv.Itoa(ports.EtcdClient)
	peer := "http://127.0.0.1:" + strconv.Itoa(ports.EtcdPeer)
	return []string{
		"--name=tenant",
		"--data-dir=" + f.etcdData(),
		"--listen-client-urls=" + client,
		"--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer,
		"--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=tenant=" + peer,
		// No metrics listener beyond the client URL: nothing else to allocate.
		"--listen-metrics-urls=",
	}
}

// apiserverArgs are the flags of kube-apiserver replica i. Every replica
// serves on its own loopback port against the one etcd. The endpoint
// reconciler is off because all replicas advertise the loopback address.
func apiserverArgs(f files, ports Ports, i int, frontProxy bool) []string {
	args := []string{
		"--etcd-servers=http://127.0.0.1:" + strconv.Itoa(ports.EtcdClient),
		"--secure-port=" + strconv.Itoa(ports.APIServers[i]),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--endpoint-reconciler-type=none",
		"--cert-dir=" + filepath.Join(f.dir, "pki", "apiserver-"+strconv.Itoa(i)),
		"--tls-cert-file=" + f.cert("apiserver"),
		"--tls-private-key-file=" + f.key("apiserver"),
		"--client-ca-file=" + f.pki("ca.crt"),
		"--authorization-mode=Node,RBAC",
		"--service-account-key-file=" + f.pki("sa.pub"),
		"--service-account-signing-key-file=" + f.pki("sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-cluster-ip-range=" + serviceCIDR,
		"--shutdown-delay-duration=0s",
		"--profiling=false",
	}
	if frontProxy {
		args = append(args,
			"--requestheader-client-ca-file="+f.pki("front-proxy-ca.crt"),
			"--requestheader-allowed-names="+frontProxyUser,
			"--requestheader-username-headers=X-Remote-User",
			"--requestheader-group-headers=X-Remote-Group",
			"--requestheader-extra-headers-prefix=X-Remote-Extra-",
			"--proxy-client-cert-file="+f.cert(frontProxyUser),
			"--proxy-client-key-file="+f.key(frontProxyUser),
		)
	}
	return args
}

// kcmArgs runs the default controllers; one instance needs no leader
// election. Service-account tokens are signed by the same key the
// apiservers verify with.
func kcmArgs(f files) []string {
	kc := f.kubeconfig("kube-controller-manager")
	return []string{
		"--kubeconfig=" + kc,
		"--authentication-kubeconfig=" + kc,
		"--authorization-kubeconfig=" + kc,
		"--secure-port=0",
		"--leader-elect=false",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + f.pki("sa.key"),
		"--root-ca-file=" + f.pki("ca.crt"),
		"--cluster-signing-cert-file=" + f.pki("ca.crt"),
		"--cluster-signing-key-file=" + f.pki("ca.key"),
		"--service-cluster-ip-range=" + serviceCIDR,
	}
}

func schedulerArgs(f files) []string {
	kc := f.kubeconfig("kube-scheduler")
	return []string{
		"--kubeconfig=" + kc,
		"--authentication-kubeconfig=" + kc,
		"--authorization-kubeconfig=" + kc,
		"--secure-port=0",
		"--leader-elect=false",
	}
}

// kwokArgs manages only the nodes the provider annotates, with the
// standard stages (fast node and pod lifecycle, node lease heartbeat).
func kwokArgs(f files, stages string) []string {
	return []string{
		"--kubeconfig=" + f.kubeconfig("kwok"),
		"--config=" + stages,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + kwokAnnotation + "=" + kwokAnnotationValue,
		"--node-lease-duration-seconds=40",
		"--cidr=10.244.0.0/16",
		"--node-ip=127.0.0.1",
	}
}
