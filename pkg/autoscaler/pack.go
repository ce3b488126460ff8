package autoscaler

import (
	"sort"
)

// bin is one node of a group's template being filled with pending pods.
type bin struct {
	used  vec
	pods  int64
	zones []string // sorted zones every pod of the bin can run in
}

// place puts p (fitting the template in zones) into b if it has room and a
// zone in common with the bin's pods.
func (b *bin) place(p *pendingPod, zones []string, alloc vec) bool {
	if a, ok := alloc["pods"]; ok && (b.pods+1)*1000 > a {
		return false
	}
	for name, q := range p.req {
		if b.used[name]+q > alloc[name] {
			return false
		}
	}
	common := intersect(b.zones, zones)
	if len(common) == 0 {
		return false
	}
	for name, q := range p.req {
		b.used[name] += q
	}
	b.pods++
	b.zones = common
	return true
}

func newBin(p *pendingPod, zones []string) *bin {
	b := &bin{used: vec{}, pods: 1, zones: zones}
	for name, q := range p.req {
		b.used[name] = q
	}
	return b
}

// intersect returns the common elements of two sorted slices.
func intersect(a, b []string) []string {
	var out []string
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			out = append(out, a[i])
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return out
}

// candidate is a group a pod fits, with the zones it fits in.
type candidate struct {
	g     *groupState
	zones []string
}

// pack assigns every pending pod to a bin of the least-waste group that fits
// it and still has room, first-fit decreasing. Pods no group with room can
// take are recorded as limited on their least-waste group.
func pack(pods []*pendingPod, groups []*groupState) {
	byWaste := append([]*groupState(nil), groups...)
	sort.SliceStable(byWaste, func(i, j int) bool { return lessWaste(byWaste[i], byWaste[j]) })
	sort.SliceStable(pods, func(i, j int) bool { return largerPod(pods[i], pods[j]) })

	for _, p := range pods {
		var cands []candidate
		for _, g := range byWaste {
			if zones, ok, _ := p.fit(g.tmpl); ok {
				cands = append(cands, candidate{g: g, zones: zones})
			}
		}
		if len(cands) == 0 {
			continue // fits no group: stays pending, reported by the scheduler
		}
		if !placeInFirst(p, cands) {
			cands[0].g.limited = append(cands[0].g.limited, p)
		}
	}
}

func placeInFirst(p *pendingPod, cands []candidate) bool {
	for _, c := range cands {
		g := c.g
		for _, b := range g.bins {
			if b.place(p, c.zones, g.tmpl.alloc) {
				p.bin = b
				g.placed = append(g.placed, p)
				return true
			}
		}
		if len(g.bins) < g.maxBins {
			p.bin = newBin(p, c.zones)
			g.bins = append(g.bins, p.bin)
			g.placed = append(g.placed, p)
			return true
		}
	}
	return false
}

// lessWaste orders templates smallest first: fewest extended resources
// (GPUs), then cpu, then memory, then name.
func lessWaste(a, b *groupState) bool {
	if x, y := a.tmpl.alloc.extendedTotal(), b.tmpl.alloc.extendedTotal(); x != y {
		return x < y
	}
	if x, y := a.tmpl.alloc["cpu"], b.tmpl.alloc["cpu"]; x != y {
		return x < y
	}
	if x, y := a.tmpl.alloc["memory"], b.tmpl.alloc["memory"]; x != y {
		return x < y
	}
	return a.g.Name < b.g.Name
}

// largerPod orders pods for first-fit decreasing: most extended resources,
// then cpu, then memory, then by namespace/name/uid so the input order never
// matters.
func largerPod(a, b *pendingPod) bool {
	if x, y := a.req.extendedTotal(), b.req.extendedTotal(); x != y {
		return x > y
	}
	if x, y := a.req["cpu"], b.req["cpu"]; x != y {
		return x > y
	}
	if x, y := a.req["memory"], b.req["memory"]; x != y {
		return x > y
	}
	return a.key < b.key
}

// matchOnTheWay pairs bins with the group's not-Ready nodes, most
// zone-constrained bins first, each with the first node (by name) in one of
// its zones. It returns the bins left unmatched, which need added nodes.
func matchOnTheWay(g *groupState) []*bin {
	bins := append([]*bin(nil), g.bins...)
	sort.SliceStable(bins, func(i, j int) bool { return len(bins[i].zones) < len(bins[j].zones) })
	used := make([]bool, len(g.booting))
	var unmatched []*bin
	for _, b := range bins {
		matched := false
		for i, n := range g.booting {
			if !used[i] && g.zoneOK(b, n.Zone) {
				used[i], matched = true, true
				break
			}
		}
		if !matched {
			unmatched = append(unmatched, b)
		}
	}
	return unmatched
}

// zoneOK says whether a node in zone can host bin b: the bin's pods can run
// in every zone of the template, or zone is one of the bin's.
func (g *groupState) zoneOK(b *bin, zone string) bool {
	if !g.constrained(b) {
		return true
	}
	i := sort.SearchStrings(b.zones, zone)
	return i < len(b.zones) && b.zones[i] == zone
}

func (g *groupState) constrained(b *bin) bool {
	return len(b.zones) < len(g.tmpl.zones)
}
