package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
)

// Projected service-account tokens are refreshed as the kubelet does it:
// once 80% of their life has passed, and at least daily, while the pod runs
// (other volume files are rewritten only when a container starts).
const (
	tokenRefreshShare = 0.8
	tokenRefreshMax   = 24 * time.Hour
	// defaultTokenSeconds is the TokenRequest default when a projection
	// names no expirationSeconds.
	defaultTokenSeconds = 3600
)

// tokenRefreshAfter is how long after issue a token of ttl is refreshed.
func tokenRefreshAfter(ttl time.Duration) time.Duration {
	return min(time.Duration(float64(ttl)*tokenRefreshShare), tokenRefreshMax)
}

// tokenTTL is the shortest lifetime the pod's token projections ask for; 0
// when it has none.
func tokenTTL(pod *corev1.Pod) time.Duration {
	var ttl time.Duration
	for _, v := range pod.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			if t := src.ServiceAccountToken; t != nil {
				secs := int64(defaultTokenSeconds)
				if t.ExpirationSeconds != nil {
					secs = *t.ExpirationSeconds
				}
				if d := time.Duration(secs) * time.Second; ttl == 0 || d < ttl {
					ttl = d
				}
			}
		}
	}
	return ttl
}

// RefreshTokens requests every projected token of pod again and replaces
// its file under dir/volumes/<volume> atomically (a rename in the volume's
// directory, which a bind mount of the directory sees), so that a reader
// never finds it empty. It returns when the earliest of them is due again.
func RefreshTokens(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, dir string) (time.Time, error) {
	next := time.Time{}
	for _, v := range pod.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			t := src.ServiceAccountToken
			if t == nil {
				continue
			}
			files, expires, err := requestToken(ctx, cs, pod, t, v.Projected.DefaultMode)
			if err != nil {
				return time.Time{}, fmt.Errorf("volume %s: %w", v.Name, err)
			}
			for rel, f := range files {
				if err := replaceVolumeFile(filepath.Join(dir, "volumes", v.Name), rel, f); err != nil {
					return time.Time{}, fmt.Errorf("volume %s: %w", v.Name, err)
				}
			}
			now := time.Now()
			due := now.Add(tokenRefreshAfter(expires.Sub(now)))
			if next.IsZero() || due.Before(next) {
				next = due
			}
		}
	}
	return next, nil
}

// refreshTokens keeps the pod's projected tokens fresh until ctx ends.
func (w *podWorker) refreshTokens(ctx context.Context) {
	ttl := tokenTTL(w.pod())
	if ttl == 0 {
		return
	}
	// The first tokens were written when the containers started.
	next := time.Now().Add(tokenRefreshAfter(ttl))
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		due, err := RefreshTokens(ctx, w.a.client, w.pod(), w.dir)
		if err != nil {
			if ctx.Err() == nil {
				klog.ErrorS(err, "Refreshing the pod's service-account tokens", "pod", klog.KObj(w.pod()))
			}
			next = time.Now().Add(10 * time.Second)
			continue
		}
		klog.V(2).InfoS("Refreshed the pod's service-account tokens", "pod", klog.KObj(w.pod()), "next", due)
		next = due
	}
}

// replaceVolumeFile writes a volume file through a temporary file renamed
// over it.
func replaceVolumeFile(dir, rel string, f file) error {
	tmp := filepath.Join(dir, ".refresh-"+filepath.Base(rel))
	if err := writeVolumeFile(dir, filepath.Join(filepath.Dir(rel), filepath.Base(tmp)), f); err != nil {
		return err
	}
	path := filepath.Join(dir, filepath.Clean("/"+rel))
	if err := os.Rename(filepath.Join(filepath.Dir(path), filepath.Base(tmp)), path); err != nil {
		return fmt.Errorf("replacing %s: %w", rel, err)
	}
	return nil
}
