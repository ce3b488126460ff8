package autoscaler

import "sort"

// fitExisting drops the pending pods that fit the free capacity of a Ready
// node the group already has: the scheduler has simply not placed them yet
// (it retries on node events, and a node that just became Ready or pods that
// just ended free room before it looks again). Counting them as demand would
// add a node the cluster does not need — the "second node" of a race.
// Pods are tried largest first, nodes in group and name order, and each
// placement uses up the node's room for the next pod.
func fitExisting(pods []*pendingPod, groups []*groupState) []*pendingPod {
	type room struct {
		free vec
		tmpl *templateInfo
	}
	var rooms []*room
	for _, g := range groups {
		for _, n := range g.g.Nodes {
			if !n.Ready || n.Free == nil {
				continue
			}
			t := g.g.Template
			t.Allocatable = n.Free
			if n.Zone != "" {
				t.Zones = []string{n.Zone}
			}
			rooms = append(rooms, &room{free: toVec(n.Free), tmpl: newTemplateInfo(t)})
		}
	}
	if len(rooms) == 0 {
		return pods
	}
	sorted := append([]*pendingPod(nil), pods...)
	sort.SliceStable(sorted, func(i, j int) bool { return largerPod(sorted[i], sorted[j]) })
	var left []*pendingPod
	for _, p := range sorted {
		placed := false
		for _, r := range rooms {
			if slots, counted := r.free["pods"]; counted && slots < 1000 {
				continue
			}
			r.tmpl.alloc = r.free
			if _, ok, _ := p.fit(r.tmpl); !ok {
				continue
			}
			for name, q := range p.req {
				r.free[name] -= q
			}
			if _, counted := r.free["pods"]; counted {
				r.free["pods"] -= 1000
			}
			placed = true
			break
		}
		if !placed {
			left = append(left, p)
		}
	}
	return left
}
