package cluster

import (
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	listers "github.com/hikube/hikube/pkg/generated/listers/apps/v1alpha1"
)

var (
	reconcileDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "hikube", Subsystem: "controller", Name: "reconcile_duration_seconds",
		Help:    "Time of one reconcile of a cluster.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	})
	reconcileErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "hikube", Subsystem: "controller", Name: "reconcile_errors_total",
		Help: "Reconciles that ended in an error and were retried.",
	})
	scaleDecisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "hikube", Subsystem: "autoscaler", Name: "decisions_total",
		Help: "Autoscaler decisions carried out, by reason.",
	}, []string{"reason"})
)

// Register adds the controller's metrics to a registry.
func Register(r prometheus.Registerer) {
	r.MustRegister(reconcileDuration, reconcileErrors, scaleDecisions)
}

// phaseCollector counts clusters by phase from the informer cache at scrape
// time, so the figure is right however clusters came and went.
type phaseCollector struct {
	lister listers.ClusterLister
	desc   *prometheus.Desc
}

// RegisterPhaseCollector exports hikube_clusters{phase}.
func RegisterPhaseCollector(r prometheus.Registerer, lister listers.ClusterLister) {
	r.MustRegister(&phaseCollector{lister: lister, desc: prometheus.NewDesc("hikube_clusters", "Clusters by phase.", []string{"phase"}, nil)})
}

func (p *phaseCollector) Describe(ch chan<- *prometheus.Desc) { ch <- p.desc }

func (p *phaseCollector) Collect(ch chan<- prometheus.Metric) {
	all, err := p.lister.List(labels.Everything())
	if err != nil {
		return
	}
	counts := map[string]float64{}
	for _, c := range all {
		phase := string(c.Status.Phase)
		if phase == "" {
			phase = string(v1alpha1.ClusterPending)
		}
		counts[phase]++
	}
	for phase, n := range counts {
		ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, n, phase)
	}
}
