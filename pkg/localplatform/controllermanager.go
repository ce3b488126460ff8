package localplatform

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hikube/hikube/pkg/controlplaneflags"
	"github.com/hikube/hikube/pkg/process"
)

const (
	procKCM = "kube-controller-manager"
	// kcmUser is the identity kube-controller-manager's bootstrap RBAC expects.
	kcmUser = "system:kube-controller-manager"
	// aggregationTimeout bounds the wait for the built-in roles to carry the
	// hikube rules.
	aggregationTimeout = 30 * time.Second
)

// kcmControllers are the host controllers hikube relies on: ClusterRole
// aggregation (hikube:admin/edit/view into admin/edit/view), namespace
// deletion (a deleted tenant takes its clusters along), garbage collection
// (owner references) and service accounts. Nothing here runs pods, so nothing
// else.
var kcmControllers = []string{"clusterrole-aggregation-controller", "namespace-controller", "garbage-collector-controller", "serviceaccount-controller"}

// kcmWorkloadControllers are added in the kubevirt mode, where the host runs
// workloads (the control planes of the kubevirt provider, on the process
// node): Deployments, StatefulSets and Jobs with their pods, EndpointSlices
// for Services, PodDisruptionBudgets, claim binding and protection, pod
// garbage collection, the kube-root-ca.crt ConfigMap and legacy token
// Secrets pods may mount, and node lifecycle (it lifts the not-ready taint
// the apiserver puts on every new Node once the Node reports Ready). The resource quota controller stays off: hikube
// keeps the tenants' ResourceQuota status itself.
var kcmWorkloadControllers = []string{
	"deployment-controller", "replicaset-controller", "statefulset-controller", "job-controller", "cronjob-controller",
	"ttl-after-finished-controller", "endpointslice-controller", "endpointslice-mirroring-controller",
	"disruption-controller", "persistentvolume-binder-controller", "persistentvolume-protection-controller",
	"persistentvolumeclaim-protection-controller", "pod-garbage-collector-controller",
	"serviceaccount-token-controller", "root-ca-certificate-publisher-controller", "node-lifecycle-controller",
}

// aggregatedRoles are the built-in ClusterRoles the hikube roles aggregate into.
var aggregatedRoles = []string{"admin", "edit", "view"}

// startControllerManager starts kube-controller-manager with only the
// controllers hikube relies on, and in the kubevirt mode those of workloads.
func (p *Platform) startControllerManager() (*process.Process, error) {
	kc := p.KubeconfigPath(procKCM)
	if err := p.writeCertKubeconfig(kc, kcmUser, procKCM); err != nil {
		return nil, err
	}
	flags := p.controllerManagerFlags(kc)
	p.logf("starting %s with %s", procKCM, strings.Join(flags.Controllers, ","))
	return p.launch(procKCM, flags.Flags())
}

// controllerManagerFlags: no metrics or health endpoint (no port to
// allocate), one instance; in the kubevirt mode the workload controllers,
// with the keys the token and root-CA controllers need.
func (p *Platform) controllerManagerFlags(kubeconfig string) controlplaneflags.ControllerManager {
	flags := controlplaneflags.ControllerManager{Kubeconfig: kubeconfig, Controllers: kcmControllers}
	if p.opts.NodeProvider == NodeProviderKubeVirt {
		flags.Controllers = append(slices.Clone(kcmControllers), kcmWorkloadControllers...)
		flags.ServiceAccountKeyFile = p.pki.saKeyPath
		flags.RootCAFile = p.pki.cert("ca")
	}
	return flags
}

// waitRolesAggregated waits until kube-controller-manager made admin, edit
// and view carry the rules of the apps.hikube.io group.
func (p *Platform) waitRolesAggregated(ctx context.Context, kcm *process.Process) error {
	cs, err := p.clientset(p.admin)
	if err != nil {
		return err
	}
	var missing string
	err = p.waitFor(ctx, aggregationTimeout, []*process.Process{kcm}, func(ctx context.Context) (bool, error) {
		for _, name := range aggregatedRoles {
			role, err := cs.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
			if err != nil || !slices.ContainsFunc(role.Rules, func(r rbacv1.PolicyRule) bool {
				return slices.Contains(r.APIGroups, "apps.hikube.io")
			}) {
				missing = name
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for ClusterRole %q to aggregate the hikube rules: %w", missing, err)
	}
	return nil
}
