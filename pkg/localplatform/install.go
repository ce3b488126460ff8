package localplatform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/hikube/hikube/pkg/addons/helm"
	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/installchart"
	"github.com/hikube/hikube/pkg/platform"
	"github.com/hikube/hikube/pkg/process"
)

// The chart mode (Options.Install = InstallChart, `HIKUBE_INSTALL=chart make
// run`): hikube is installed into the host cluster as an operator would
// install it, as the Helm release "hikube" of artifacts/charts/hikube, and
// runs as its pods: hikube-apiserver and hikube-controller (two replicas
// each) and the chart's etcd StatefulSet. They run on the process node of
// the kubevirt mode, which the chart mode therefore implies: it maps the
// chart's image references to the binaries of BinDir (a SIMULATION,
// docs/process-node.md). The host kube-apiserver routes to the endpoints of
// the chart's Service, as an aggregator must when no kube-proxy runs.
const (
	// InstallChart selects the chart mode.
	InstallChart = "chart"
	// imageRegistry is where the chart (and make images) name hikube's
	// images: <registry>/<binary>:<version>.
	imageRegistry = "ghcr.io/hikube"
	// chartTimeout bounds one Helm action and the wait for the release's
	// pods to serve.
	chartTimeout = 5 * time.Minute
	// chartEtcdMembers of the chart's internal etcd: three, one per zone,
	// as installed (the process node runs them as three etcd processes).
	chartEtcdMembers = 3
	procHelm         = "helm"
)

// hikubeImages are hikube's binaries that the chart runs as images.
var hikubeImages = []string{procHikube, procController}

// imageFlags are the process node's --image flags of the chart mode: each
// hikube image runs its binary from BinDir.
func (p *Platform) imageFlags() []string {
	if p.opts.Install != InstallChart {
		return nil
	}
	var flags []string
	for _, b := range hikubeImages {
		flags = append(flags, "--image="+imageRegistry+"/"+b+"="+filepath.Join(p.bin, b))
	}
	return flags
}

// addonChartsMount is where the controller's pods see the stand-in charts.
const addonChartsMount = "/var/lib/hikube/addon-charts"

// chartAddons is where the installed controller takes add-on charts from:
// source, and the host directory to mount there when it is the stand-ins'.
type chartAddons struct {
	source, dir, timeout string
}

// chartAddonSource is HIKUBE_ADDON_CHART_SOURCE, or else the stand-in charts
// packaged into a directory that the controller's pods mount (they cannot
// reach a repository served on this machine's loopback).
func (p *Platform) chartAddonSource() (chartAddons, error) {
	a := chartAddons{timeout: os.Getenv(EnvAddonTimeout)}
	if a.timeout == "" {
		a.timeout = "1m"
	}
	if src := os.Getenv(EnvAddonChartSource); src != "" {
		a.source = src
		return a, nil
	}
	dir, err := p.buildStandInCharts()
	if err != nil || dir == "" {
		return a, err
	}
	a.source, a.dir = addonChartsMount, dir
	return a, nil
}

// processNodeSelector puts hikube's pods on the process nodes, the nodes of
// control-plane workloads here (the kwok host nodes only pretend to run pods).
func processNodeSelector() map[string]any {
	return map[string]any{"node-role.hikube.io/control-plane": ""}
}

// chartInstallValues are the values of the local machine: the chart's own
// image references (which the process node maps to BinDir), the internal
// etcd on the process node's "replicated" class, the seed's GPU inventory,
// and the controller flags this machine needs (its workers' node image;
// admission webhooks off, since the simulated nodes' pods cannot answer them).
func (p *Platform) chartInstallValues(addons chartAddons) map[string]any {
	models := map[string]any{}
	for model, n := range seedGPUs {
		perZone := map[string]any{}
		for _, dc := range catalog.Datacenters {
			perZone[dc] = n
		}
		models[model] = perZone
	}
	controllerArgs := []any{"--addon-admission-webhooks=false"}
	if p.opts.ScaleDownGrace > 0 {
		controllerArgs = append(controllerArgs, "--scale-down-grace="+p.opts.ScaleDownGrace.String())
	}
	if p.opts.EtcdBootstrapTimeout > 0 {
		controllerArgs = append(controllerArgs, "--etcd-bootstrap-timeout="+p.opts.EtcdBootstrapTimeout.String())
	}
	zones := make([]any, 0, len(catalog.Datacenters))
	for _, dc := range catalog.Datacenters {
		zones = append(zones, dc)
	}
	controller := map[string]any{
		"replicas":     int64(2),
		"provider":     "kubevirt",
		"nodeProvider": "kubevirt",
		"nodeImage":    kubevirtNodeImage,
		"extraArgs":    controllerArgs,
		"nodeSelector": processNodeSelector(),
		"addons":       map[string]any{"chartSource": addons.source, "timeout": addons.timeout},
	}
	if addons.dir != "" {
		// The stand-in charts, mounted as an operator mounts a directory source.
		controller["extraVolumes"] = []any{map[string]any{"name": "addon-charts", "hostPath": map[string]any{"path": addons.dir, "type": "Directory"}}}
		controller["extraVolumeMounts"] = []any{map[string]any{"name": "addon-charts", "mountPath": addonChartsMount, "readOnly": true}}
	}
	return map[string]any{
		"zones": zones,
		"image": map[string]any{"registry": imageRegistry},
		"apiserver": map[string]any{
			"replicas":          int64(2),
			"gpuCapacitySource": "inventory",
			"nodeSelector":      processNodeSelector(),
		},
		"controller": controller,
		"etcd": map[string]any{
			"mode":     "internal",
			"internal": map[string]any{"replicas": int64(chartEtcdMembers), "storageClassName": "replicated", "nodeSelector": processNodeSelector()},
		},
		"gpuInventory": map[string]any{"create": true, "models": models},
	}
}

// installChart installs (or upgrades) the release "hikube" with the Helm
// SDK into hikube-system and waits until it serves: the APIService
// Available through the chart's Service, discovery and OpenAPI through the
// aggregator, the built-in roles carrying hikube's rules, and one
// hikube-controller holding the Lease.
func (p *Platform) installChart(ctx context.Context) error {
	began := time.Now()
	cs, err := p.clientset(p.admin)
	if err != nil {
		return err
	}
	// helm install --create-namespace.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: platform.Namespace}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", platform.Namespace, err)
	}
	c, err := installchart.Load()
	if err != nil {
		return err
	}
	addons, err := p.chartAddonSource()
	if err != nil {
		return err
	}
	values := p.chartInstallValues(addons)
	hash, err := chartHash(c, values)
	if err != nil {
		return err
	}
	logFile, err := os.OpenFile(p.LogPath(procHelm), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("helm log: %w", err)
	}
	defer logFile.Close()
	client := helm.NewClient(p.admin, slog.NewTextHandler(logFile, nil))
	res, err := client.Apply(ctx, helm.Spec{
		Name: installchart.ReleaseName, Namespace: platform.Namespace, Chart: c, Values: values, Hash: hash,
		Timeout: chartTimeout, RetryFailedAfter: time.Second,
	})
	if err != nil {
		return fmt.Errorf("installing the chart: %w (log %s)", err, p.LogPath(procHelm))
	}
	p.logf("Helm release %s/%s revision %d %s in %s", platform.Namespace, installchart.ReleaseName, res.Release.Version,
		res.Release.Info.Status, time.Since(began).Round(10*time.Millisecond))
	agent := p.proc(procProcessNode)
	if err := p.waitRolesAggregated(ctx, agent); err != nil {
		return err
	}
	if err := p.waitChartAvailable(ctx, agent); err != nil {
		return err
	}
	holder, err := p.waitLeader(ctx, agent)
	if err != nil {
		return err
	}
	if err := p.waitWorkloadsReady(ctx, agent); err != nil {
		return err
	}
	p.logf("hikube installed by its chart and serving in %s: APIService %s Available, hikube-controller leader %s",
		time.Since(began).Round(10*time.Millisecond), apiServiceName, holder)
	return nil
}

// chartHash identifies the chart's files and the values: the same again is
// no new revision when the platform restarts.
func chartHash(c *chart.Chart, values map[string]any) (string, error) {
	h := sha256.New()
	for _, f := range c.Raw {
		fmt.Fprintf(h, "%s\x00%d\x00", f.Name, len(f.Data))
		h.Write(f.Data)
	}
	data, err := json.Marshal(values)
	if err != nil {
		return "", fmt.Errorf("hashing the chart values: %w", err)
	}
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// waitChartAvailable is waitHikubeAvailable for the chart's replicas: the
// logs to read are the pods', under the process node's home.
func (p *Platform) waitChartAvailable(ctx context.Context, agent *process.Process) error {
	if err := p.waitAPIService(ctx, agent, chartTimeout); err != nil {
		return fmt.Errorf("%w (pods: kubectl -n %s get pods -o wide; their logs under %s/pods/<uid>/logs)", err, platform.Namespace, p.ProcessNodeHome())
	}
	return nil
}

// waitLeader waits until a hikube-controller holds the Lease and returns
// its identity.
func (p *Platform) waitLeader(ctx context.Context, agent *process.Process) (string, error) {
	cs, err := p.clientset(p.admin)
	if err != nil {
		return "", err
	}
	var holder string
	err = p.waitFor(ctx, chartTimeout, []*process.Process{agent}, func(ctx context.Context) (bool, error) {
		l, err := cs.CoordinationV1().Leases(platform.Namespace).Get(ctx, platform.ControllerName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		holder = leaseHolder(l)
		return holder != "", nil
	})
	if err != nil {
		return "", fmt.Errorf("waiting for a hikube-controller to hold the Lease %s/%s: %w", platform.Namespace, platform.ControllerName, err)
	}
	return holder, nil
}

// waitWorkloadsReady waits, as `helm install --wait` would, until every
// replica of the release's Deployments and StatefulSets is ready.
func (p *Platform) waitWorkloadsReady(ctx context.Context, agent *process.Process) error {
	cs, err := p.clientset(p.admin)
	if err != nil {
		return err
	}
	var waiting string
	err = p.waitFor(ctx, chartTimeout, []*process.Process{agent}, func(ctx context.Context) (bool, error) {
		sel := metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=Helm,app.kubernetes.io/part-of=hikube"}
		ds, err := cs.AppsV1().Deployments(platform.Namespace).List(ctx, sel)
		if err != nil {
			return false, nil
		}
		for _, d := range ds.Items {
			if d.Spec.Replicas == nil || d.Status.ReadyReplicas < *d.Spec.Replicas || d.Status.UpdatedReplicas < *d.Spec.Replicas {
				waiting = "Deployment " + d.Name
				return false, nil
			}
		}
		ss, err := cs.AppsV1().StatefulSets(platform.Namespace).List(ctx, sel)
		if err != nil {
			return false, nil
		}
		for _, s := range ss.Items {
			if s.Spec.Replicas == nil || s.Status.ReadyReplicas < *s.Spec.Replicas {
				waiting = "StatefulSet " + s.Name
				return false, nil
			}
		}
		return len(ds.Items) > 0, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the replicas of %s to be ready: %w", waiting, err)
	}
	return nil
}

func leaseHolder(l *coordinationv1.Lease) string {
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}
