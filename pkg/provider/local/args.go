package local

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/pkg/controlplaneflags"
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
const serviceCIDR = controlplaneflags.DefaultServiceClusterIPRange

func etcdArgs(f files, ports Ports) []string {
	return controlplaneflags.Etcd{
		Name:      "tenant",
		DataDir:   f.etcdData(),
		ClientURL: "http://127.0.0.1:" + strconv.Itoa(ports.EtcdClient),
		PeerURL:   "http://127.0.0.1:" + strconv.Itoa(ports.EtcdPeer),
	}.Flags()
}

// apiserverArgs are the flags of kube-apiserver replica i. Every replica
// serves on its own loopback port against the one etcd. The endpoint
// reconciler is off because all replicas advertise the loopback address.
// What every hikube kube-apiserver shares is decided in controlplaneflags.
func apiserverArgs(f files, ports Ports, i int, frontProxy bool) []string {
	c := controlplaneflags.KubeAPIServer{
		EtcdServers: []string{"http://127.0.0.1:" + strconv.Itoa(ports.EtcdClient)},
		Serving: controlplaneflags.Serving{
			SecurePort:       ports.APIServers[i],
			BindAddress:      "127.0.0.1",
			AdvertiseAddress: "127.0.0.1",
			CertDir:          filepath.Join(f.dir, "pki", "apiserver-"+strconv.Itoa(i)),
			CertFile:         f.cert("apiserver"),
			KeyFile:          f.key("apiserver"),
		},
		ClientCAFile:           f.pki("ca.crt"),
		ServiceAccount:         controlplaneflags.ServiceAccount{KeyFile: f.pki("sa.pub"), SigningKeyFile: f.pki("sa.key")},
		ServiceClusterIPRange:  serviceCIDR,
		EndpointReconcilerType: "none",
		// A tenant replica is stopped on purpose only when it is replaced
		// or removed: no delay, and no profiling endpoints on loopback.
		ShutdownDelay: ptr.To(time.Duration(0)),
		Profiling:     ptr.To(false),
		// Machines join as kubeadm joins them (bootstrap token, then
		// their own node credentials), which NodeRestriction confines to
		// their own Node.
		EnableBootstrapTokenAuth: true,
		AdmissionPlugins:         []string{"NodeRestriction"},
	}
	if frontProxy {
		c.FrontProxy = &controlplaneflags.FrontProxy{
			ClientCAFile:   f.pki("front-proxy-ca.crt"),
			AllowedNames:   []string{frontProxyUser},
			ClientCertFile: f.cert(frontProxyUser),
			ClientKeyFile:  f.key(frontProxyUser),
		}
	}
	return append(c.Flags(), apiserverTuning...)
}

// kcmArgs runs the default controllers; one instance needs no leader
// election. Service-account tokens are signed by the same key the
// apiservers verify with.
func kcmArgs(f files) []string {
	return controlplaneflags.ControllerManager{
		Kubeconfig:             f.kubeconfig("kube-controller-manager"),
		ServiceAccountKeyFile:  f.pki("sa.key"),
		RootCAFile:             f.pki("ca.crt"),
		ClusterSigningCertFile: f.pki("ca.crt"),
		ClusterSigningKeyFile:  f.pki("ca.key"),
		ServiceClusterIPRange:  serviceCIDR,
		// The default controllers, and the two that kubeadm's bootstrap
		// tokens need: bootstrapsigner signs cluster-info for each token,
		// tokencleaner removes expired ones.
		Controllers: []string{"*", "bootstrapsigner", "tokencleaner"},
	}.Flags()
}

func schedulerArgs(f files) []string {
	return controlplaneflags.Scheduler{Kubeconfig: f.kubeconfig("kube-scheduler")}.Flags()
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

// apiserverTuning are flags added to every tenant kube-apiserver.
var apiserverTuning []string

// tenantEnv is the environment added to each tenant process, by name
// (kube-apiserver replicas under "kube-apiserver").
var tenantEnv = map[string][]string{}

// startEnv is env with what the provider adds to every tenant process it
// starts: GOGC, unless env sets it. It is not part of the spec hash, so
// that a new setting applies to processes as they are started, not by
// restarting every tenant's.
func (p *Provider) startEnv(env []string) []string {
	if p.o.GOGC == 0 || slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "GOGC=") }) {
		return env
	}
	return append(slices.Clip(env), "GOGC="+strconv.Itoa(p.o.GOGC))
}

// processEnv is what tenantEnv gives process name.
func processEnv(name string) []string {
	if strings.HasPrefix(name, "kube-apiserver-") {
		name = "kube-apiserver"
	}
	return tenantEnv[name]
}
