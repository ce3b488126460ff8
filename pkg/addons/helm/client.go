package helm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/kube"
	ri "helm.sh/helm/v4/pkg/release"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	rspb "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/client-go/rest"
)

// LabelValuesHash is the release label holding the hash of the chart
// version and values it was installed from: the same hash again is no new
// revision.
const LabelValuesHash = "hikube.io/values-hash"

// maxHistory bounds the revisions kept per release.
const maxHistory = 5

// Client runs Helm actions in one tenant cluster. Releases are stored as
// Secrets in their own namespace, so it keeps one action configuration per
// namespace, all over the same admin rest.Config.
type Client struct {
	config *rest.Config
	log    slog.Handler

	mu   sync.Mutex
	cfgs map[string]*action.Configuration
}

// NewClient returns a client of the cluster config reaches.
func NewClient(config *rest.Config, log slog.Handler) *Client {
	if log == nil {
		log = slog.DiscardHandler
	}
	return &Client{config: rest.CopyConfig(config), log: log, cfgs: map[string]*action.Configuration{}}
}

func (c *Client) action(namespace string) (*action.Configuration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cfg, ok := c.cfgs[namespace]; ok {
		return cfg, nil
	}
	cfg, err := newActionConfig(c.config, namespace, c.log)
	if err != nil {
		return nil, err
	}
	c.cfgs[namespace] = cfg
	return cfg, nil
}

// Spec is a release as it should be.
type Spec struct {
	Name, Namespace string
	Chart           *chartv2.Chart
	Values          map[string]any
	// Hash identifies chart version and values (catalog.Hash).
	Hash string
	// Timeout bounds one Helm action, hooks included; a release pending for
	// longer than that is stuck.
	Timeout time.Duration
	// RetryFailedAfter is how long a failed release with an unchanged hash is
	// left alone before it is tried again.
	RetryFailedAfter time.Duration
}

// Result says what Apply found or did.
type Result struct {
	Release *rspb.Release
	// Changed is true when Apply installed, upgraded or repaired the release.
	Changed bool
	// Recovered describes how a stuck pending release was repaired, for an event.
	Recovered string
}

// Last returns the newest revision of a release, nil when there is none.
func (c *Client) Last(name, namespace string) (*rspb.Release, error) {
	cfg, err := c.action(namespace)
	if err != nil {
		return nil, err
	}
	r, err := cfg.Releases.Last(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("release %s/%s: %w", namespace, name, err)
	}
	return toV1(r)
}

// Apply installs or upgrades the release unless its last revision is
// already deployed from the same hash. A revision pending for longer than
// the timeout (its process died) is rolled back, or uninstalled when it is
// the first, before going on.
func (c *Client) Apply(ctx context.Context, s Spec) (Result, error) {
	cfg, err := c.action(s.Namespace)
	if err != nil {
		return Result{}, err
	}
	last, err := c.Last(s.Name, s.Namespace)
	if err != nil {
		return Result{}, err
	}
	var res Result
	if last != nil && last.Info != nil && last.Info.Status.IsPending() {
		if time.Since(last.Info.LastDeployed) < s.Timeout {
			// Another action is (or was until recently) under way.
			return Result{Release: last}, nil
		}
		if res.Recovered, err = c.recover(cfg, last, s); err != nil {
			return res, err
		}
		res.Changed = true
		if last, err = c.Last(s.Name, s.Namespace); err != nil {
			return res, err
		}
	}
	switch {
	case last == nil || last.Info == nil || last.Info.Status == rcommon.StatusUninstalled:
		rel, err := c.install(ctx, cfg, s)
		res.Release, res.Changed = rel, true
		return res, err
	case last.Labels[LabelValuesHash] == s.Hash && last.Info.Status == rcommon.StatusDeployed:
		res.Release = last
		return res, nil
	case last.Labels[LabelValuesHash] == s.Hash && last.Info.Status == rcommon.StatusFailed && time.Since(last.Info.LastDeployed) < s.RetryFailedAfter:
		// The same inputs failed a moment ago; trying again now would only
		// add a failed revision.
		res.Release = last
		return res, nil
	case !hasDeployed(cfg, s.Name):
		// Only failed revisions: Helm cannot upgrade those, so start over.
		if err := c.uninstall(cfg, s.Name, s.Timeout); err != nil {
			return res, err
		}
		rel, err := c.install(ctx, cfg, s)
		res.Release, res.Changed = rel, true
		return res, err
	default:
		rel, err := c.upgrade(ctx, cfg, s)
		res.Release, res.Changed = rel, true
		return res, err
	}
}

func (c *Client) install(ctx context.Context, cfg *action.Configuration, s Spec) (*rspb.Release, error) {
	in := action.NewInstall(cfg)
	in.ReleaseName, in.Namespace = s.Name, s.Namespace
	in.Timeout = s.Timeout
	in.WaitStrategy = kube.HookOnlyStrategy
	in.Labels = map[string]string{LabelValuesHash: s.Hash}
	in.Description = "installed by hikube"
	rel, err := in.RunWithContext(ctx, s.Chart, s.Values)
	return result(rel, err, "install", s)
}

func (c *Client) upgrade(ctx context.Context, cfg *action.Configuration, s Spec) (*rspb.Release, error) {
	up := action.NewUpgrade(cfg)
	up.Namespace = s.Namespace
	up.Timeout = s.Timeout
	up.WaitStrategy = kube.HookOnlyStrategy
	up.MaxHistory = maxHistory
	up.Labels = map[string]string{LabelValuesHash: s.Hash}
	// The values are complete: nothing of the previous revision is reused.
	up.ResetValues = true
	up.Description = "upgraded by hikube"
	rel, err := up.RunWithContext(ctx, s.Name, s.Chart, s.Values)
	return result(rel, err, "upgrade", s)
}

// recover repairs a release whose pending revision nobody will finish.
func (c *Client) recover(cfg *action.Configuration, last *rspb.Release, s Spec) (string, error) {
	if last.Version > 1 && hasDeployed(cfg, s.Name) {
		rb := action.NewRollback(cfg)
		rb.Timeout = s.Timeout
		rb.WaitStrategy = kube.HookOnlyStrategy
		rb.MaxHistory = maxHistory
		rb.Description = "rolled back by hikube: revision stuck in " + string(last.Info.Status)
		if err := rb.Run(s.Name); err != nil {
			return "", fmt.Errorf("rolling back %s/%s stuck in %s: %w", s.Namespace, s.Name, last.Info.Status, err)
		}
		return fmt.Sprintf("release %s/%s revision %d was %s for more than %s: rolled back", s.Namespace, s.Name, last.Version, last.Info.Status, s.Timeout), nil
	}
	if err := c.uninstall(cfg, s.Name, s.Timeout); err != nil {
		return "", fmt.Errorf("removing %s/%s stuck in %s: %w", s.Namespace, s.Name, last.Info.Status, err)
	}
	return fmt.Sprintf("release %s/%s revision %d was %s for more than %s: uninstalled to be installed again", s.Namespace, s.Name, last.Version, last.Info.Status, s.Timeout), nil
}

// Uninstall removes a release, running its delete hooks; no release is no error.
func (c *Client) Uninstall(name, namespace string, timeout time.Duration) error {
	cfg, err := c.action(namespace)
	if err != nil {
		return err
	}
	return c.uninstall(cfg, name, timeout)
}

func (c *Client) uninstall(cfg *action.Configuration, name string, timeout time.Duration) error {
	u := action.NewUninstall(cfg)
	u.Timeout = timeout
	u.WaitStrategy = kube.HookOnlyStrategy
	u.IgnoreNotFound = true
	if _, err := u.Run(name); err != nil && !errors.Is(err, driver.ErrReleaseNotFound) {
		return fmt.Errorf("uninstalling %s: %w", name, err)
	}
	return nil
}

func hasDeployed(cfg *action.Configuration, name string) bool {
	h, err := cfg.Releases.History(name)
	if err != nil {
		return false
	}
	for _, r := range h {
		if v, err := toV1(r); err == nil && v.Info != nil && (v.Info.Status == rcommon.StatusDeployed || v.Info.Status == rcommon.StatusSuperseded) {
			return true
		}
	}
	return false
}

func result(r ri.Releaser, err error, op string, s Spec) (*rspb.Release, error) {
	var rel *rspb.Release
	if r != nil {
		rel, _ = toV1(r)
	}
	if err != nil {
		return rel, fmt.Errorf("%s of %s/%s: %w", op, s.Namespace, s.Name, err)
	}
	return rel, nil
}

func toV1(r ri.Releaser) (*rspb.Release, error) {
	rel, ok := r.(*rspb.Release)
	if !ok {
		return nil, fmt.Errorf("release of type %T", r)
	}
	return rel, nil
}

// Values returns the newest revision of a release and its effective values:
// the chart's defaults coalesced with the values it was installed with.
func (c *Client) Values(name, namespace string) (*rspb.Release, map[string]any, error) {
	rel, err := c.Last(name, namespace)
	if err != nil || rel == nil {
		return rel, nil, err
	}
	if rel.Chart == nil {
		return rel, rel.Config, nil
	}
	vals, err := chartutil.CoalesceValues(rel.Chart, rel.Config)
	if err != nil {
		return rel, nil, fmt.Errorf("values of %s/%s: %w", namespace, name, err)
	}
	return rel, vals.AsMap(), nil
}
