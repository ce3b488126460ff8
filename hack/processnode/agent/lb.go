package agent

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// loadBalancers is the LoadBalancer stand-in: for each Service of type
// LoadBalancer (without a loadBalancerClass) it puts an address of the
// agent's pool on the bridge, listens there on every TCP port of the
// Service, forwards each connection to a ready endpoint of the Service's
// EndpointSlices, and writes the address into status.loadBalancer.ingress.
type loadBalancers struct {
	a     *Agent
	queue workqueue.TypedRateLimitingInterface[string]

	mu   sync.Mutex
	byNS map[string]*lbService // namespace/name
}

type lbService struct {
	uid       types.UID
	ns, name  string
	ip        string
	listeners map[int32]net.Listener // by Service port
}

func newLoadBalancers(a *Agent) *loadBalancers {
	return &loadBalancers{a: a, byNS: map[string]*lbService{},
		queue: workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())}
}

func (l *loadBalancers) handler() cache.ResourceEventHandler {
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			l.queue.Add(key)
		}
	}
	return cache.ResourceEventHandlerFuncs{AddFunc: enqueue, UpdateFunc: func(_, o any) { enqueue(o) }, DeleteFunc: enqueue}
}

func (l *loadBalancers) run(ctx context.Context) {
	go func() {
		<-ctx.Done()
		l.queue.ShutDown()
	}()
	for {
		key, quit := l.queue.Get()
		if quit {
			return
		}
		if err := l.sync(ctx, key); err != nil {
			klog.ErrorS(err, "LoadBalancer stand-in", "service", key)
			l.queue.AddRateLimited(key)
		} else {
			l.queue.Forget(key)
		}
		l.queue.Done(key)
	}
}

func wantsLB(svc *corev1.Service) bool {
	return svc != nil && svc.DeletionTimestamp == nil && svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.LoadBalancerClass == nil
}

func (l *loadBalancers) sync(ctx context.Context, key string) error {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	svc, err := l.a.services.Services(ns).Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if err != nil {
		svc = nil
	}
	l.mu.Lock()
	cur := l.byNS[key]
	if cur != nil && (!wantsLB(svc) || svc.UID != cur.uid) {
		l.releaseLocked(key, cur)
		cur = nil
	}
	if !wantsLB(svc) {
		l.mu.Unlock()
		return l.clearStatus(ctx, svc)
	}
	if cur == nil {
		ip, err := l.allocateLocked(svc)
		if err != nil {
			l.mu.Unlock()
			return err
		}
		if err := l.a.net.AddLBAddress(ip); err != nil {
			l.mu.Unlock()
			return err
		}
		cur = &lbService{uid: svc.UID, ns: ns, name: name, ip: ip, listeners: map[int32]net.Listener{}}
		l.byNS[key] = cur
		klog.InfoS("LoadBalancer address assigned", "service", key, "ip", ip)
	}
	err = l.listenLocked(cur, svc)
	l.mu.Unlock()
	if err != nil {
		return err
	}
	return l.writeStatus(ctx, svc, cur.ip)
}

// allocateLocked keeps the address the Service already has from the pool
// (an agent restart), else takes the first free one.
func (l *loadBalancers) allocateLocked(svc *corev1.Service) (string, error) {
	used := map[string]bool{}
	for _, s := range l.byNS {
		used[s.ip] = true
	}
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		if _, ok := l.a.net.IsLBIP(ing.IP); ok && !used[ing.IP] {
			return ing.IP, nil
		}
	}
	// Addresses other Services still show in their status stay theirs.
	all, _ := l.a.services.List(labels.Everything())
	for _, s := range all {
		if s.UID == svc.UID || !wantsLB(s) {
			continue
		}
		for _, ing := range s.Status.LoadBalancer.Ingress {
			used[ing.IP] = true
		}
	}
	for i := 1; i <= 254; i++ {
		if ip := l.a.net.LBIP(i); !used[ip] {
			return ip, nil
		}
	}
	return "", errors.New("LoadBalancer pool exhausted")
}

// listenLocked opens a listener per TCP Service port and closes those of
// ports that went.
func (l *loadBalancers) listenLocked(cur *lbService, svc *corev1.Service) error {
	want := map[int32]corev1.ServicePort{}
	for _, p := range svc.Spec.Ports {
		if p.Protocol == corev1.ProtocolTCP || p.Protocol == "" {
			want[p.Port] = p
		}
	}
	for port, ln := range cur.listeners {
		if _, ok := want[port]; !ok {
			_ = ln.Close()
			delete(cur.listeners, port)
		}
	}
	for port, sp := range want {
		if _, ok := cur.listeners[port]; ok {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(cur.ip, strconv.Itoa(int(port))))
		if err != nil {
			return fmt.Errorf("listening for %s/%s: %w", cur.ns, cur.name, err)
		}
		cur.listeners[port] = ln
		go l.serve(ln, cur.ns, cur.name, sp.Name)
	}
	return nil
}

func (l *loadBalancers) serve(ln net.Listener, ns, svc, portName string) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go l.proxy(conn, ns, svc, portName)
	}
}

// endpoints are the ready addresses of a Service port, from its
// EndpointSlices.
func (l *loadBalancers) endpoints(ns, svc, portName string) []string {
	slices, err := l.a.slices.EndpointSlices(ns).List(labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc}))
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range slices {
		var port int32
		found := false
		for _, p := range s.Ports {
			if p.Port != nil && (p.Name == nil && portName == "" || p.Name != nil && *p.Name == portName) {
				port, found = *p.Port, true
			}
		}
		if !found {
			continue
		}
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready {
				continue
			}
			for _, addr := range e.Addresses {
				out = append(out, net.JoinHostPort(addr, strconv.Itoa(int(port))))
			}
		}
	}
	return out
}

func (l *loadBalancers) proxy(client net.Conn, ns, svc, portName string) {
	defer client.Close()
	eps := l.endpoints(ns, svc, portName)
	rand.Shuffle(len(eps), func(i, j int) { eps[i], eps[j] = eps[j], eps[i] })
	var backend net.Conn
	for _, ep := range eps {
		c, err := net.DialTimeout("tcp", ep, 3*time.Second)
		if err == nil {
			backend = c
			break
		}
	}
	if backend == nil {
		return
	}
	defer backend.Close()
	splice(client, backend)
}

func (l *loadBalancers) writeStatus(ctx context.Context, svc *corev1.Service, ip string) error {
	ing := svc.Status.LoadBalancer.Ingress
	if len(ing) == 1 && ing[0].IP == ip && ing[0].Hostname == "" {
		return nil
	}
	s := svc.DeepCopy()
	vip := corev1.LoadBalancerIPModeVIP
	s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip, IPMode: &vip}}
	_, err := l.a.client.CoreV1().Services(s.Namespace).UpdateStatus(ctx, s, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("writing the ingress of %s/%s: %w", s.Namespace, s.Name, err)
	}
	return nil
}

// clearStatus takes a pool address out of the status of a Service that no
// longer asks for a LoadBalancer.
func (l *loadBalancers) clearStatus(ctx context.Context, svc *corev1.Service) error {
	if svc == nil || svc.DeletionTimestamp != nil || svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		return nil
	}
	ing := svc.Status.LoadBalancer.Ingress
	if len(ing) != 1 {
		return nil
	}
	if _, ours := l.a.net.IsLBIP(ing[0].IP); !ours {
		return nil
	}
	s := svc.DeepCopy()
	s.Status.LoadBalancer.Ingress = nil
	_, err := l.a.client.CoreV1().Services(s.Namespace).UpdateStatus(ctx, s, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("clearing the ingress of %s/%s: %w", s.Namespace, s.Name, err)
	}
	return nil
}

func (l *loadBalancers) releaseLocked(key string, s *lbService) {
	for _, ln := range s.listeners {
		_ = ln.Close()
	}
	if err := l.a.net.DelLBAddress(s.ip); err != nil {
		klog.ErrorS(err, "Removing a LoadBalancer address", "service", key, "ip", s.ip)
	}
	delete(l.byNS, key)
	klog.InfoS("LoadBalancer address released", "service", key, "ip", s.ip)
}

// closeAll stops every listener and removes every address (agent stop).
func (l *loadBalancers) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for key, s := range l.byNS {
		l.releaseLocked(key, s)
	}
}
