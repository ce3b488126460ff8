package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"

	rcommon "helm.sh/helm/v4/pkg/release/common"
	rspb "helm.sh/helm/v4/pkg/release/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/klog/v2"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/addons/catalog"
	"github.com/hikube/hikube/pkg/addons/chartsource"
	"github.com/hikube/hikube/pkg/addons/helm"
	"github.com/hikube/hikube/pkg/addons/workers"
)

// desiredRelease is a release with its values and their hash.
type desiredRelease struct {
	rel    catalog.Release
	values map[string]any
	hash   string
}

func (r *addonsReconciler) desired(s *state, a catalog.Addon, spec *v1alpha1.Addon) ([]desiredRelease, error) {
	in := catalog.InputsFor(a, s.cluster, r.opts.AdmissionWebhooks)
	var out []desiredRelease
	for _, rel := range a.Releases {
		override, err := a.Override(spec, rel.Name)
		if err != nil {
			return nil, err
		}
		v := rel.ValuesFor(in, override)
		out = append(out, desiredRelease{rel: rel, values: v, hash: catalog.Hash(rel.Chart, rel.Version, v)})
	}
	return out, nil
}

// installJob brings the add-on's releases to what desired says.
func (r *addonsReconciler) installJob(s *state, a catalog.Addon, desired []desiredRelease) workers.Job[addonOutcome] {
	kube, ref := s.tenant.kube, s.ref
	client := r.helmClient(s)
	return func(ctx context.Context) addonOutcome {
		log := klog.FromContext(ctx).WithValues("cluster", ref.String(), "addon", a.Key)
		var out addonOutcome
		fail := func(reason, msg string) addonOutcome {
			out.status.State, out.status.Reason, out.status.Message = v1alpha1.AddonFailed, reason, msg
			return out
		}
		labels := map[string]string{labelAddon: a.Key, labelManaged: "true"}
		if _, err := kube.CoreV1().Namespaces().Apply(ctx, corev1ac.Namespace(a.Namespace).WithLabels(labels), applyOptions); err != nil {
			return fail(v1alpha1.ReasonInstallFailed, fmt.Sprintf("namespace %s: %v", a.Namespace, err))
		}
		if err := removePlaceholders(ctx, kube, a); err != nil {
			return fail(v1alpha1.ReasonInstallFailed, err.Error())
		}
		pending := false
		for _, d := range desired {
			if r.source == nil {
				return fail(v1alpha1.ReasonChartUnavailable, fmt.Sprintf("chart %s %s: no chart source configured (--addon-chart-source)", d.rel.Chart, d.rel.Version))
			}
			ch, err := r.source.Get(ctx, d.rel.Chart, d.rel.Version)
			if err != nil {
				if !errors.Is(err, chartsource.ErrNotFound) {
					log.Error(err, "Pulling an add-on chart failed")
				}
				return fail(v1alpha1.ReasonChartUnavailable, err.Error())
			}
			res, err := client().Apply(ctx, helm.Spec{Name: d.rel.Name, Namespace: a.Namespace, Chart: ch, Values: d.values, Hash: d.hash,
				Timeout: r.opts.Timeout, RetryFailedAfter: r.opts.Recheck * 2})
			if res.Recovered != "" {
				out.events = append(out.events, res.Recovered)
				log.Info("Repaired a stuck add-on release", "detail", res.Recovered)
			}
			if res.Release != nil {
				out.status.Releases = append(out.status.Releases, releaseStatus(res.Release, d.rel.Chart))
				out.workloads = append(out.workloads, workloadsOf(res.Release)...)
			}
			switch {
			case err != nil:
				log.Error(err, "Helm failed")
				return fail(v1alpha1.ReasonInstallFailed, helmMessage(res.Release, err))
			case res.Release == nil:
				return fail(v1alpha1.ReasonInstallFailed, "Helm returned no release")
			case res.Release.Info.Status == rcommon.StatusFailed:
				return fail(v1alpha1.ReasonInstallFailed, helmMessage(res.Release, nil))
			case res.Release.Info.Status.IsPending():
				pending = true
			}
			if res.Changed {
				log.Info("Add-on release applied", "release", d.rel.Name, "revision", res.Release.Version, "status", res.Release.Info.Status)
			}
		}
		if pending {
			out.status.State, out.status.Reason, out.status.Message = v1alpha1.AddonInstalling, v1alpha1.ReasonInstalling, "a Helm action is under way on the release"
			return out
		}
		out.status.State, out.status.Reason, out.status.Message = v1alpha1.AddonReady, v1alpha1.ReasonDeployed, ""
		return out
	}
}

// uninstallJob uninstalls the add-on's releases (their delete hooks run),
// then deletes its namespace. CRDs stay, as Helm leaves them.
func (r *addonsReconciler) uninstallJob(s *state, a catalog.Addon) workers.Job[addonOutcome] {
	kube, ref := s.tenant.kube, s.ref
	client := r.helmClient(s)
	return func(ctx context.Context) addonOutcome {
		out := addonOutcome{status: v1alpha1.AddonStatus{State: v1alpha1.AddonUninstalling, Reason: v1alpha1.ReasonUninstalling}}
		for _, rel := range slices.Backward(a.Releases) {
			if err := client().Uninstall(rel.Name, a.Namespace, r.opts.Timeout); err != nil {
				klog.FromContext(ctx).Error(err, "Uninstalling an add-on failed", "cluster", ref.String(), "addon", a.Key)
				out.status.Reason, out.status.Message = v1alpha1.ReasonUninstallFailed, err.Error()
				return out
			}
		}
		err := kube.CoreV1().Namespaces().Delete(ctx, a.Namespace, metav1.DeleteOptions{})
		switch {
		case apierrors.IsNotFound(err):
			out.gone = true
		case err != nil:
			out.status.Message = fmt.Sprintf("deleting namespace %s: %v", a.Namespace, err)
		default:
			out.status.Message = "namespace " + a.Namespace + " is being deleted"
		}
		return out
	}
}

func releaseStatus(rel *rspb.Release, chart string) v1alpha1.AddonRelease {
	out := v1alpha1.AddonRelease{Name: rel.Name, Namespace: rel.Namespace, Chart: chart, Revision: int32(rel.Version)}
	if rel.Chart != nil && rel.Chart.Metadata != nil {
		out.ChartVersion = rel.Chart.Metadata.Version
	}
	if rel.Info != nil {
		out.Status = string(rel.Info.Status)
	}
	return out
}

// helmMessage is Helm's description of a failed release, or the error.
func helmMessage(rel *rspb.Release, err error) string {
	if rel != nil && rel.Info != nil && rel.Info.Description != "" {
		return fmt.Sprintf("release %s revision %d %s: %s", rel.Name, rel.Version, rel.Info.Status, rel.Info.Description)
	}
	if err != nil {
		return err.Error()
	}
	return "Helm failed without a description"
}
