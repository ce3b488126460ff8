package quota

import (
	"context"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// chargeQuotas checks the namespace's ResourceQuotas that limit a key the
// request raises and, unless dry-run, adds the increase to their
// status.used, each with an update conditioned on the resourceVersion it
// read. A quota whose update conflicts is read and checked again; a quota
// already charged is not charged twice. It returns the charges made, and the
// refusals (the caller gives the charges back then).
func (t *Tracker) chargeQuotas(ctx context.Context, u usageChange) ([]Charge, []string, error) {
	// A tenant without a quota on what the request raises reads nothing and
	// takes no turn: whether there is one comes from the informer, or from a
	// recent live lookup (hasQuota). Only the charge reads the quota live.
	has, err := t.hasQuota(ctx, u.namespace, u.increased)
	if err != nil || !has {
		return nil, nil, err
	}
	t.turns.LockKey(u.namespace)
	defer func() { _ = t.turns.UnlockKey(u.namespace) }()
	var charged []Charge
	done := map[string]bool{}
	for attempt := 0; ; attempt++ {
		if attempt == maxAttempts {
			return charged, nil, fmt.Errorf("charging the quotas of %s: still conflicting after %d attempts", u.namespace, maxAttempts)
		}
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return charged, nil, fmt.Errorf("charging the quotas of %s: %w", u.namespace, err)
			}
		}
		quotas, err := t.quotasFor(ctx, u.namespace, u.increased)
		if err != nil {
			return charged, nil, err
		}
		var pending []corev1.ResourceQuota
		for _, q := range quotas {
			if !done[q.Name] {
				pending = append(pending, q)
			}
		}
		if len(pending) == 0 {
			return charged, nil, nil
		}
		// Seed the figures a quota does not show yet (a quota just created,
		// or a key just added) from the store, once per round.
		var seed corev1.ResourceList
		for i := range pending {
			q := &pending[i]
			if missing(q, u.increased) && seed == nil {
				if seed, err = t.storeUsage(ctx, u.namespace); err != nil {
					return charged, nil, err
				}
			}
			q.Status.Used = withSeed(q, seed)
		}
		// All quotas are checked before any is charged, so that a refusal
		// names every key at fault.
		var msgs []string
		for i := range pending {
			q := &pending[i]
			others, _ := subtract(q.Status.Used, u.oldUsage)
			msgs = append(msgs, Check(u.cluster, []corev1.ResourceQuota{*q}, others, u.increased)...)
		}
		if len(msgs) > 0 || u.dryRun {
			return charged, msgs, nil
		}
		conflict := false
		for i := range pending {
			q := &pending[i]
			delta := corev1.ResourceList{}
			for k, v := range u.delta {
				if _, ok := q.Spec.Hard[k]; ok && IsHikubeResource(k) {
					delta[k] = v
				}
			}
			q.Status.Used = Sum(q.Status.Used, delta)
			if _, err := t.host.CoreV1().ResourceQuotas(u.namespace).UpdateStatus(ctx, q, metav1.UpdateOptions{}); err != nil {
				if apierrors.IsConflict(err) {
					conflict = true
					continue
				}
				return charged, nil, fmt.Errorf("charging quota %s/%s: %w", u.namespace, q.Name, err)
			}
			done[q.Name] = true
			charged = append(charged, Charge{Namespace: u.namespace, Quota: q.Name, Delta: delta})
		}
		if !conflict {
			return charged, nil, nil
		}
	}
}

// quotasFor returns the namespace's ResourceQuotas that limit one of keys,
// sorted by name, read live (a read that began after this call, possibly
// shared with concurrent requests): their resourceVersion is the one a charge
// updates from, and a quota counts from the moment its create returns.
func (t *Tracker) quotasFor(ctx context.Context, ns string, keys []corev1.ResourceName) ([]corev1.ResourceQuota, error) {
	items, err := t.quotaReads.get(ctx, ns)
	if err != nil {
		return nil, err
	}
	var out []corev1.ResourceQuota
	for i := range items {
		if limits(&items[i], keys) {
			out = append(out, *items[i].DeepCopy())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// listQuotas is the live read behind quotasFor. Callers share its result, so
// they get deep copies to change.
func (t *Tracker) listQuotas(ctx context.Context, ns string) ([]corev1.ResourceQuota, error) {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	list, err := t.host.CoreV1().ResourceQuotas(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading the quotas of %s: %w", ns, err)
	}
	return list.Items, nil
}

// hasQuota reports whether ns has a quota that limits one of keys, the way
// Kubernetes' quota admission finds its quotas (quotaAccessor.GetQuotas): the
// informer's lister when it shows any such quota; otherwise a live lookup,
// shared by concurrent requests and reused for the TTL of quotaLookups. So a
// namespace without quota costs one read per TTL, not one per request; the
// price is that a quota created while the informer has not seen it yet, in a
// namespace looked up as without quota less than a TTL before, is not
// enforced until the informer has it (docs/quotas.md, "Which requests see a
// new quota"). A quota found either way is then checked and charged on a
// live read, so what it admits is unchanged.
func (t *Tracker) hasQuota(ctx context.Context, ns string, keys []corev1.ResourceName) (bool, error) {
	if t.quotaLister != nil {
		qs, err := t.quotaLister.ResourceQuotas(ns).List(labels.Everything())
		if err == nil {
			for _, q := range qs {
				if limits(q, keys) {
					return true, nil
				}
			}
		}
	}
	items, err := t.quotaLookups.get(ctx, ns)
	if err != nil {
		return false, err
	}
	for i := range items {
		if limits(&items[i], keys) {
			return true, nil
		}
	}
	return false, nil
}

// limits reports whether q applies to clusters and limits one of keys.
func limits(q *corev1.ResourceQuota, keys []corev1.ResourceName) bool {
	if !Applies(q) {
		return false
	}
	for _, k := range keys {
		if _, ok := q.Spec.Hard[k]; ok && IsHikubeResource(k) {
			return true
		}
	}
	return false
}

// missing reports whether q limits one of keys without a figure in status.used.
func missing(q *corev1.ResourceQuota, keys []corev1.ResourceName) bool {
	for _, k := range keys {
		if _, limited := q.Spec.Hard[k]; !limited || !IsHikubeResource(k) {
			continue
		}
		if _, ok := q.Status.Used[k]; !ok {
			return true
		}
	}
	return false
}

// withSeed is q's status.used with every hikube key it limits and has no
// figure for taken from seed (zero when seed lacks it).
func withSeed(q *corev1.ResourceQuota, seed corev1.ResourceList) corev1.ResourceList {
	used := q.Status.Used.DeepCopy()
	if used == nil {
		used = corev1.ResourceList{}
	}
	for k := range q.Spec.Hard {
		if _, ok := used[k]; ok || !IsHikubeResource(k) {
			continue
		}
		v := seed[k]
		used[k] = v.DeepCopy()
	}
	return used
}

// releaseQuotas subtracts usage from status.used of the namespace's quotas
// (only the one named quota when not ""), on the keys each limits.
func (t *Tracker) releaseQuotas(ctx context.Context, namespace, quota string, usage corev1.ResourceList) error {
	if quota == "" {
		// A delete or a lowering in a namespace without quota reads nothing.
		// Should a quota created a moment ago be missed, its record stays too
		// high until the quota status controller lowers it: never an overshoot.
		var keys []corev1.ResourceName
		for k, v := range usage {
			if !v.IsZero() {
				keys = append(keys, k)
			}
		}
		if has, err := t.hasQuota(ctx, namespace, keys); err != nil || !has {
			return err
		}
	}
	rqs := t.host.CoreV1().ResourceQuotas(namespace)
	done := map[string]bool{}
	for attempt := 0; ; attempt++ {
		if attempt == maxAttempts {
			return fmt.Errorf("releasing usage in the quotas of %s: still conflicting after %d attempts", namespace, maxAttempts)
		}
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return fmt.Errorf("releasing usage in the quotas of %s: %w", namespace, err)
			}
		}
		list, err := rqs.List(ctx, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("reading the quotas of %s: %w", namespace, err)
		}
		conflict := false
		for i := range list.Items {
			q := &list.Items[i]
			if (quota != "" && q.Name != quota) || done[q.Name] || !Applies(q) {
				continue
			}
			mine := corev1.ResourceList{}
			for k, v := range usage {
				if _, ok := q.Spec.Hard[k]; ok && IsHikubeResource(k) {
					mine[k] = v
				}
			}
			used, changed := subtract(q.Status.Used, mine)
			if !changed {
				continue
			}
			q.Status.Used = used
			if _, err := rqs.UpdateStatus(ctx, q, metav1.UpdateOptions{}); err != nil {
				if apierrors.IsConflict(err) {
					conflict = true
					continue
				}
				return fmt.Errorf("releasing usage in quota %s/%s: %w", namespace, q.Name, err)
			}
			done[q.Name] = true // not again in the next round
		}
		if !conflict {
			return nil
		}
	}
}
