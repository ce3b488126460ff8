package helm

import (
	"fmt"
	"log/slog"

	"helm.sh/helm/v4/pkg/action"
	"k8s.io/client-go/rest"
)

// newActionConfig is the Helm action configuration for one namespace of a
// tenant cluster; the "secret" driver keeps releases as Secrets there.
func newActionConfig(config *rest.Config, namespace string, log slog.Handler) (*action.Configuration, error) {
	getter, err := newRESTGetter(config, namespace)
	if err != nil {
		return nil, fmt.Errorf("helm client for namespace %s: %w", namespace, err)
	}
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(log))
	if err := cfg.Init(getter, namespace, "secret"); err != nil {
		return nil, fmt.Errorf("helm configuration for namespace %s: %w", namespace, err)
	}
	return cfg, nil
}
