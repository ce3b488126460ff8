package agent

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"

	"golang.org/x/sys/unix"
)

// kubeService stands in for the host's kube-proxy for one Service, the
// API server's: as in a cluster, every container gets KUBERNETES_SERVICE_HOST
// and _PORT naming the ClusterIP of default/kubernetes, so that
// rest.InClusterConfig finds the API; there is no kube-proxy to make that
// address lead anywhere, so each pod's namespace carries the ClusterIP on
// its loopback and the agent listens there (a socket made inside the pod's
// namespace) and forwards each connection to the API server it talks to
// itself. TLS passes through: the API server's certificate names its
// ClusterIP, as kube-apiserver's always does.
type kubeService struct {
	// target is host:port of the API server, from the agent's kubeconfig.
	target string
	ip     string
	port   int
}

// newKubeService reads the ClusterIP and port of default/kubernetes, which
// kube-apiserver creates shortly after it starts.
func newKubeService(ctx context.Context, a *Agent, target string) (*kubeService, error) {
	s := &kubeService{target: target}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		svc, err := a.client.CoreV1().Services(metav1.NamespaceDefault).Get(ctx, "kubernetes", metav1.GetOptions{})
		if err != nil || svc.Spec.ClusterIP == "" || len(svc.Spec.Ports) == 0 {
			return false, nil
		}
		s.ip, s.port = svc.Spec.ClusterIP, int(svc.Spec.Ports[0].Port)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("the Service default/kubernetes: %w", err)
	}
	return s, nil
}

// Env are the kubelet's variables of the kubernetes Service, set in every
// container whatever its enableServiceLinks.
func (s *kubeService) Env() []EnvVar {
	if s == nil {
		return nil
	}
	port := strconv.Itoa(s.port)
	url := "tcp://" + net.JoinHostPort(s.ip, port)
	prefix := "KUBERNETES_PORT_" + port + "_TCP"
	return []EnvVar{
		{"KUBERNETES_SERVICE_HOST", s.ip}, {"KUBERNETES_SERVICE_PORT", port}, {"KUBERNETES_SERVICE_PORT_HTTPS", port},
		{"KUBERNETES_PORT", url}, {prefix, url}, {prefix + "_PROTO", "tcp"}, {prefix + "_PORT", port}, {prefix + "_ADDR", s.ip},
	}
}

// serve puts the ClusterIP on the loopback of the pod's namespace and
// forwards what connects to it until the returned stop is called.
func (s *kubeService) serve(pn PodNetwork) (stop func(), err error) {
	if s == nil {
		return func() {}, nil
	}
	if err := ipCmd("-n", pn.Namespace, "addr", "add", s.ip+"/32", "dev", "lo"); err != nil {
		return nil, err
	}
	l, err := listenInNetns(pn.NetnsPath(), net.JoinHostPort(s.ip, strconv.Itoa(s.port)))
	if err != nil {
		return nil, fmt.Errorf("the kubernetes Service in %s: %w", pn.Namespace, err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.forward(c)
		}
	}()
	return func() { _ = l.Close(); wg.Wait() }, nil
}

func (s *kubeService) forward(client net.Conn) {
	defer client.Close()
	backend, err := net.DialTimeout("tcp", s.target, 3*time.Second)
	if err != nil {
		klog.V(2).InfoS("The kubernetes Service has no backend", "target", s.target, "err", err)
		return
	}
	defer backend.Close()
	splice(client, backend)
}

// splice copies both ways until both sides are done, half-closing each
// direction as it ends.
func splice(a, b net.Conn) {
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(b, a)
	go pipe(a, b)
	<-done
	<-done
}

// listenInNetns makes a listening socket inside the network namespace at
// nsPath; it keeps serving there whatever thread accepts on it. The thread
// goes back to the agent's namespace afterwards and lives on: were it to
// end, the children started from it (container processes, which carry a
// parent-death signal, a property of the parent thread) would be killed.
func listenInNetns(nsPath, addr string) (net.Listener, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		return nil, fmt.Errorf("the agent's network namespace: %w", err)
	}
	defer self.Close()
	target, err := os.Open(nsPath)
	if err != nil {
		return nil, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("entering %s: %w", nsPath, err)
	}
	l, lerr := net.Listen("tcp", addr)
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// A thread left in a pod's namespace would run the agent's
		// goroutines there, and ending it would kill its children: stop
		// loudly instead (setns into a namespace just left does not fail).
		panic(fmt.Sprintf("process node: returning to the agent's network namespace: %v", err))
	}
	return l, lerr
}
