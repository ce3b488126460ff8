package localplatform

import (
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/pkg/kubeconfig"
	"github.com/hikube/hikube/pkg/process"
)

// hikubeTokenSeconds is the lifetime of hikube-apiserver's service-account
// token; a new one is requested on every start.
const hikubeTokenSeconds = 7 * 24 * 60 * 60

// hikubeUser names the kubeconfig hikube-apiserver runs with.
const hikubeUser = "hikube-apiserver"

// startedAtAnnotation on the APIService records the last start of the local
// hikube-apiserver.
const startedAtAnnotation = "hikube.io/local-started-at"

var apiServiceGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// writeHikubeKubeconfig writes Home/hikube-apiserver.kubeconfig for the
// hikube-apiserver service account, so that the server runs with exactly the
// RBAC of the shipped manifests.
func (p *Platform) writeHikubeKubeconfig(ctx context.Context) error {
	return p.writeServiceAccountKubeconfig(ctx, hikubeSAName, hikubeUser)
}

// writeServiceAccountKubeconfig requests a token for a service account of
// hikube-system and writes Home/<user>.kubeconfig with it.
func (p *Platform) writeServiceAccountKubeconfig(ctx context.Context, sa, user string) error {
	cs, err := p.clientset(p.admin)
	if err != nil {
		return err
	}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](hikubeTokenSeconds)}}
	tr, err = cs.CoreV1().ServiceAccounts(hikubeNamespace).CreateToken(ctx, sa, tr, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("requesting a token for service account %s/%s: %w", hikubeNamespace, sa, err)
	}
	return kubeconfig.WriteFile(p.KubeconfigPath(user), kubeconfig.Config{
		ClusterName: clusterName,
		Server:      p.KubeAPIServerURL(),
		CAData:      p.pki.clusterCA.CertPEM(),
		UserName:    user,
		Token:       tr.Status.Token,
	})
}

func (p *Platform) hikubeArgs() []string {
	kc := p.KubeconfigPath(hikubeUser)
	return []string{
		"--secure-port=" + strconv.Itoa(p.ports.HikubeAPIServer),
		"--bind-address=127.0.0.1",
		"--tls-cert-file=" + p.pki.cert("hikube-apiserver"),
		"--tls-private-key-file=" + p.pki.key("hikube-apiserver"),
		"--kubeconfig=" + kc,
		"--authentication-kubeconfig=" + kc,
		"--authorization-kubeconfig=" + kc,
		// Without --etcd-servers the server embeds etcd in this directory.
		"--etcd-data-dir=" + filepath.Join(p.home, "hikube-etcd"),
	}
}

// startHikube starts hikube-apiserver, registers it with the aggregator and
// waits until its APIService is Available and requests reach it.
func (p *Platform) startHikube(ctx context.Context) error {
	began := time.Now()
	proc, err := p.launch(procHikube, p.hikubeArgs())
	if err != nil {
		return err
	}
	if err := p.waitHikubeServing(ctx, proc); err != nil {
		return err
	}
	// Registering after the server answers makes the aggregator check it at
	// once: after a restart it may otherwise wait out its retry backoff (up
	// to 30s) before it sees the server back.
	if err := p.registerHikube(ctx); err != nil {
		return err
	}
	if err := p.waitHikubeAvailable(ctx, proc); err != nil {
		return err
	}
	p.logf("hikube-apiserver ready and APIService %s Available in %s (:%d)",
		apiServiceName, time.Since(began).Round(10*time.Millisecond), p.ports.HikubeAPIServer)
	return nil
}

// waitHikubeServing waits until hikube-apiserver answers /readyz on its own
// port, over TLS verified with the hikube CA. 401 and 403 count as serving: how
// the server authorizes /readyz is its business.
func (p *Platform) waitHikubeServing(ctx context.Context, proc *process.Process) error {
	url := "https://127.0.0.1:" + strconv.Itoa(p.ports.HikubeAPIServer)
	// Anonymous: the probe needs no identity, only the server's.
	dc, err := discovery.NewDiscoveryClientForConfig(&rest.Config{
		Host:            url,
		TLSClientConfig: rest.TLSClientConfig{CAData: p.pki.hikubeCA.CertPEM()},
		// Polled every pollInterval: above client-go's default rate limit.
		QPS: 100, Burst: 200,
	})
	if err != nil {
		return fmt.Errorf("client for hikube-apiserver: %w", err)
	}
	var last string
	err = p.waitFor(ctx, apiServiceTimeout, []*process.Process{proc}, func(ctx context.Context) (bool, error) {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err := dc.RESTClient().Get().AbsPath("/readyz").MaxRetries(0).DoRaw(rctx)
		switch {
		case err == nil:
			last = "ok"
			return true, nil
		case apierrors.IsUnauthorized(err), apierrors.IsForbidden(err):
			last = err.Error()
			return true, nil
		}
		last = err.Error()
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for hikube-apiserver %s/readyz (last answer: %s): %w", url, last, err)
	}
	return nil
}

// registerHikube applies the ExternalName Service (an Endpoints object may not
// hold a loopback address) and the install chart's APIService with this
// platform's port and CA bundle.
func (p *Platform) registerHikube(ctx context.Context) error {
	svc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Service",
		"metadata":   map[string]any{"name": hikubeServiceName, "namespace": hikubeNamespace},
		"spec":       map[string]any{"type": "ExternalName", "externalName": "localhost"},
	}}
	objs, err := chartObjects(ctx, "APIService")
	if err != nil {
		return err
	}
	if len(objs) != 1 || objs[0].GetName() != apiServiceName {
		return fmt.Errorf("the install chart: want exactly the APIService %s", apiServiceName)
	}
	apiService := objs[0]
	if err := unstructured.SetNestedField(apiService.Object, int64(p.ports.HikubeAPIServer), "spec", "service", "port"); err != nil {
		return fmt.Errorf("setting the APIService port: %w", err)
	}
	// A new value on every start is the update that makes the aggregator
	// re-check availability now.
	apiService.SetAnnotations(map[string]string{startedAtAnnotation: time.Now().UTC().Format(time.RFC3339Nano)})
	caBundle := base64.StdEncoding.EncodeToString(p.pki.hikubeCA.CertPEM())
	if err := unstructured.SetNestedField(apiService.Object, caBundle, "spec", "caBundle"); err != nil {
		return fmt.Errorf("setting the APIService caBundle: %w", err)
	}
	a, err := newApplier(p.admin)
	if err != nil {
		return err
	}
	for _, obj := range []*unstructured.Unstructured{svc, apiService} {
		if err := a.apply(ctx, obj); err != nil {
			return err
		}
	}
	return nil
}

// waitHikubeAvailable waits until the APIService is Available and a discovery
// request through kube-apiserver reaches hikube-apiserver. The second check
// matters after a restart: the condition may still be True from before.
func (p *Platform) waitHikubeAvailable(ctx context.Context, proc *process.Process) error {
	if err := p.waitAPIService(ctx, proc, apiServiceTimeout); err != nil {
		return fmt.Errorf("%w (log %s)", err, p.LogPath(procHikube))
	}
	return nil
}

// waitAPIService is waitHikubeAvailable's wait, for whatever serves the
// APIService; it fails early when proc exits.
func (p *Platform) waitAPIService(ctx context.Context, proc *process.Process, timeout time.Duration) error {
	dyn, err := dynamic.NewForConfig(p.admin)
	if err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	cs, err := p.clientset(p.admin)
	if err != nil {
		return err
	}
	var condition string
	var lastErr error
	err = p.waitFor(ctx, timeout, []*process.Process{proc}, func(ctx context.Context) (bool, error) {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		obj, err := dyn.Resource(apiServiceGVR).Get(rctx, apiServiceName, metav1.GetOptions{})
		if err != nil {
			lastErr = err
			return false, nil
		}
		var available bool
		available, condition = availableCondition(obj)
		if !available {
			return false, nil
		}
		rc := cs.Discovery().RESTClient()
		if _, lastErr = rc.Get().AbsPath("/apis/apps.hikube.io/v1alpha1").DoRaw(rctx); lastErr != nil {
			return false, nil
		}
		// kubectl explain and server-side apply read the OpenAPI v3 that the
		// aggregator fetches from us asynchronously: wait until it has it.
		_, lastErr = rc.Get().AbsPath(openAPIV3Path).DoRaw(rctx)
		return lastErr == nil, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for APIService %s to be Available (condition: %s; last error: %v): %w",
			apiServiceName, condition, lastErr, err)
	}
	return nil
}

// openAPIV3Path is where kube-apiserver serves the aggregated OpenAPI v3 of our group.
const openAPIV3Path = "/openapi/v3/apis/apps.hikube.io/v1alpha1"

// availableCondition reports whether the APIService's Available condition is
// True, and describes the condition.
func availableCondition(obj *unstructured.Unstructured) (bool, string) {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Available" {
			continue
		}
		return m["status"] == "True", fmt.Sprintf("Available=%v reason=%v message=%q", m["status"], m["reason"], m["message"])
	}
	return false, "no Available condition yet"
}

// KillHikubeAPIServer kills hikube-apiserver with SIGKILL and waits for it to
// end, for tests of what survives a crash.
func (p *Platform) KillHikubeAPIServer() error {
	proc := p.proc(procHikube)
	if proc == nil {
		return fmt.Errorf("hikube-apiserver was never started")
	}
	return process.Kill(proc)
}

// StartHikubeAPIServer starts hikube-apiserver again (after
// KillHikubeAPIServer) with the same state and waits until requests through
// the aggregator reach it.
func (p *Platform) StartHikubeAPIServer(ctx context.Context) error {
	if proc := p.proc(procHikube); proc != nil && !proc.Exited() {
		return fmt.Errorf("hikube-apiserver is already running (pid %d)", proc.PID())
	}
	return p.startHikube(ctx)
}
