package local

import (
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/pkg/etcdflags"
	"github.com/hikube/hikube/pkg/kubeapiserverflags"
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
const serviceCIDR = kubeapiserverflags.DefaultServiceClusterIPRange

func etcdArgs(f files, ports Ports) []string {
	return etcdflags.Member{
		Name:      "tenant",
		DataDir:   f.etcdData(),
		ClientURL: "http://127.0.0.1:" + strconv.Itoa(ports.EtcdClient),
		PeerURL:   "http://127.0.0.1:" + strconv.Itoa(ports.EtcdPeer),
	}.Flags()
}

// apiserverArgs are the flags of kube-apiserver replica i. Every replica
// serves on its own loopback port against the one etcd. The endpoint
// reconciler is off because all replicas advertise the loopback address.
// What every hikube kube-apiserver shares is decided in kubeapiserverflags.
func apiserverArgs(f files, ports Ports, i int, frontProxy bool) []string {
	c := kubeapiserverflags.Config{
		EtcdServers: []string{"http://127.0.0.1:" + strconv.Itoa(ports.EtcdClient)},
		Serving: kubeapiserverflags.Serving{
			SecurePort:       ports.APIServers[i],
			BindAddress:      "127.0.0.1",
			AdvertiseAddress: "127.0.0.1",
			CertDir:          filepath.Join(f.dir, "pki", "apiserver-"+strconv.Itoa(i)),
			CertFile:         f.cert("apiserver"),
			KeyFile:          f.key("apiserver"),
		},
		ClientCAFile:           f.pki("ca.crt"),
		ServiceAccount:         kubeapiserverflags.ServiceAccount{KeyFile: f.pki("sa.pub"), SigningKeyFile: f.pki("sa.key")},
		ServiceClusterIPRange:  serviceCIDR,
		EndpointReconcilerType: "none",
		// A tenant replica is stopped on purpose only when it is replaced
		// or removed: no delay, and no profiling endpoints on loopback.
		ShutdownDelay: ptr.To(time.Duration(0)),
		Profiling:     ptr.To(false),
	}
	if frontProxy {
		c.FrontProxy = &kubeapiserverflags.FrontProxy{
			ClientCAFile:   f.pki("front-proxy-ca.crt"),
			AllowedNames:   []string{frontProxyUser},
			ClientCertFile: f.cert(frontProxyUser),
			ClientKeyFile:  f.key(frontProxyUser),
		}
	}
	return c.Flags()
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
