package autoscaler

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// groupState is one group during a round of Decide.
type groupState struct {
	g       *Group
	tmpl    *templateInfo
	current int32
	base    int32    // current clamped into [Min, Max]
	remove  []string // nodes removed to get down to Max
	booting []Node   // kept nodes that are not Ready yet, by name
	maxBins int      // bins the group may fill: booting + free slots under Max

	bins    []*bin
	placed  []*pendingPod // pods packed into this group's bins
	limited []*pendingPod // pods whose least-waste group this is, fitting nowhere with room
}

// Decide returns, in group-name order, one Decision per group whose desired
// node count differs from its current one, each followed by a ScaleUpLimited
// decision (From == To) when pending pods that fit the group still have no
// room at Max. The same input always gives the same output.
func Decide(in Input) []Decision {
	groups := make([]*groupState, 0, len(in.Groups))
	for i := range in.Groups {
		g := in.Groups[i]
		g.Nodes = staying(g.Nodes)
		groups = append(groups, newGroupState(&g))
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].g.Name < groups[j].g.Name })

	pods := make([]*pendingPod, 0, len(in.PendingPods))
	for i := range in.PendingPods {
		pods = append(pods, newPendingPod(&in.PendingPods[i]))
	}
	pack(pods, groups)

	var out []Decision
	for _, g := range groups {
		out = append(out, g.decide(in.Now, in.ScaleDownGrace)...)
	}
	return out
}

// staying drops the nodes being removed: counting a draining node as a
// member would keep the group one node short once it is gone, and a pod
// pending meanwhile (the drained node is cordoned) would then be given a new
// node on top of the count that still included the old one.
func staying(nodes []Node) []Node {
	out := make([]Node, 0, len(nodes))
	for _, n := range nodes {
		if !n.Removing {
			out = append(out, n)
		}
	}
	return out
}

func newGroupState(g *Group) *groupState {
	s := &groupState{g: g, tmpl: newTemplateInfo(g.Template), current: int32(len(g.Nodes))}
	s.base = s.current
	if s.base > g.Max {
		s.base = g.Max
	}
	if s.base < g.Min {
		s.base = g.Min
	}
	removed := map[string]bool{}
	if s.base < s.current {
		s.remove = aboveMaxVictims(g.Nodes, int(s.current-s.base))
		for _, n := range s.remove {
			removed[n] = true
		}
	}
	for _, n := range g.Nodes {
		if !n.Ready && !removed[n.Name] {
			s.booting = append(s.booting, n)
		}
	}
	sort.Slice(s.booting, func(i, j int) bool { return s.booting[i].Name < s.booting[j].Name })
	s.maxBins = len(s.booting) + int(g.Max-s.base) + int(s.base-min32(s.base, s.current))
	if s.maxBins < 0 {
		s.maxBins = 0
	}
	return s
}

// aboveMaxVictims picks n nodes to remove: not Ready first, then empty ones
// (longest empty first), then by name, descending.
func aboveMaxVictims(nodes []Node, n int) []string {
	sorted := append([]Node(nil), nodes...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Ready != b.Ready {
			return !a.Ready
		}
		if ae, be := !a.EmptySince.IsZero(), !b.EmptySince.IsZero(); ae != be {
			return ae
		}
		if !a.EmptySince.Equal(b.EmptySince) {
			return a.EmptySince.Before(b.EmptySince)
		}
		return a.Name > b.Name
	})
	names := make([]string, 0, n)
	for _, node := range sorted[:n] {
		names = append(names, node.Name)
	}
	return names
}

func (s *groupState) decide(now time.Time, grace time.Duration) []Decision {
	to, zones := s.scaleUp()
	var out []Decision
	switch {
	case to > s.base:
		out = append(out, Decision{
			Group: s.g.Name, From: s.current, To: to, EventReason: ReasonScaledUp, Zones: zones,
			Reason: fmt.Sprintf("%s %s from %d to %d: %s%s", ReasonScaledUp, s.g.Name, s.current, to,
				s.demandPhrase(), s.minSuffix()),
		})
	case s.base > s.current:
		out = append(out, Decision{
			Group: s.g.Name, From: s.current, To: s.base, EventReason: ReasonBelowMin, Zones: zones,
			Reason: fmt.Sprintf("%s %s from %d to %d: raised to minReplicas %d", ReasonBelowMin, s.g.Name, s.current, s.base, s.g.Min),
		})
	case s.base < s.current:
		out = append(out, Decision{
			Group: s.g.Name, From: s.current, To: s.base, EventReason: ReasonAboveMax, RemoveNodes: s.remove,
			Reason: fmt.Sprintf("%s %s from %d to %d: lowered to maxReplicas %d, removing %s", ReasonAboveMax, s.g.Name, s.current, s.base, s.g.Max, nodeList(s.remove)),
		})
	case len(s.placed) == 0 && len(s.limited) == 0:
		if d, ok := s.scaleDown(now, grace); ok {
			out = append(out, d)
		}
	}
	if len(s.limited) > 0 {
		demand := len(s.placed) + len(s.limited)
		out = append(out, Decision{
			Group: s.g.Name, From: to, To: to, EventReason: ReasonScaleUpLimited,
			Reason: fmt.Sprintf("%s %s at maxReplicas %d: %d of %d pending pods that need %s still fit no node",
				ReasonScaleUpLimited, s.g.Name, s.g.Max, len(s.limited), demand, s.resourcePhrase()),
		})
	}
	return out
}

// scaleUp returns the desired count after packing and, per zone, how many
// added nodes must land there. Bins that exceed Max (their zones matched no
// booting node) turn their pods into limited ones.
func (s *groupState) scaleUp() (int32, map[string]int32) {
	unmatched := matchOnTheWay(s)
	room := int(s.g.Max - s.current) // added nodes allowed, min raise included
	if room < 0 {
		room = 0
	}
	if len(unmatched) > room {
		for _, b := range unmatched[room:] {
			s.dropBin(b)
		}
		unmatched = unmatched[:room]
	}
	to := s.base
	if added := int32(len(unmatched)); added > 0 && s.current+added > to {
		to = s.current + added
	}
	var zones map[string]int32
	for _, b := range unmatched {
		if s.constrained(b) {
			if zones == nil {
				zones = map[string]int32{}
			}
			zones[b.zones[0]]++
		}
	}
	return to, zones
}

// dropBin moves the pods of a bin that cannot be added to limited.
func (s *groupState) dropBin(drop *bin) {
	var keep []*bin
	for _, b := range s.bins {
		if b != drop {
			keep = append(keep, b)
		}
	}
	s.bins = keep
	var placed []*pendingPod
	for _, p := range s.placed {
		if p.bin == drop {
			s.limited = append(s.limited, p)
		} else {
			placed = append(placed, p)
		}
	}
	s.placed = placed
}

func (s *groupState) scaleDown(now time.Time, grace time.Duration) (Decision, bool) {
	var empty []Node
	for _, n := range s.g.Nodes {
		if !n.EmptySince.IsZero() && now.Sub(n.EmptySince) >= grace {
			empty = append(empty, n)
		}
	}
	n := int(s.base - s.g.Min)
	if len(empty) < n {
		n = len(empty)
	}
	if n <= 0 {
		return Decision{}, false
	}
	sort.SliceStable(empty, func(i, j int) bool {
		if !empty[i].EmptySince.Equal(empty[j].EmptySince) {
			return empty[i].EmptySince.Before(empty[j].EmptySince)
		}
		return empty[i].Name < empty[j].Name
	})
	names := make([]string, 0, n)
	for _, node := range empty[:n] {
		names = append(names, node.Name)
	}
	to := s.base - int32(n)
	return Decision{
		Group: s.g.Name, From: s.current, To: to, EventReason: ReasonScaledDown, RemoveNodes: names,
		Reason: fmt.Sprintf("%s %s from %d to %d: %s empty for %s", ReasonScaledDown, s.g.Name, s.current, to, nodeList(names), grace),
	}, true
}

func nodeList(names []string) string {
	if len(names) == 1 {
		return "node " + names[0]
	}
	return "nodes " + strings.Join(names, ", ")
}

func (s *groupState) minSuffix() string {
	if s.base > s.current {
		return fmt.Sprintf(" (minReplicas %d)", s.g.Min)
	}
	return ""
}

func (s *groupState) demandPhrase() string {
	n := len(s.placed) + len(s.limited)
	if n == 1 {
		return "1 pending pod needs " + s.resourcePhrase()
	}
	return fmt.Sprintf("%d pending pods need %s", n, s.resourcePhrase())
}

// resourcePhrase names what the group's pending pods are short of: the
// extended resources they request (GPUs), else whichever of cpu and memory
// they need the larger share of a node of.
func (s *groupState) resourcePhrase() string {
	total := vec{}
	for _, list := range [][]*pendingPod{s.placed, s.limited} {
		for _, p := range list {
			for name, q := range p.req {
				total[name] += q
			}
		}
	}
	var ext []string
	for _, name := range total.sortedNames() {
		if isExtended(name) && total[name] > 0 {
			ext = append(ext, string(name))
		}
	}
	if len(ext) > 0 {
		return strings.Join(ext, ", ")
	}
	cpu, mem := share(total, s.tmpl.alloc, corev1.ResourceCPU), share(total, s.tmpl.alloc, corev1.ResourceMemory)
	switch {
	case cpu == 0 && mem == 0:
		return "pod slots"
	case mem > cpu:
		return "memory"
	default:
		return "cpu"
	}
}

func share(total, alloc vec, name corev1.ResourceName) float64 {
	if alloc[name] == 0 {
		return 0
	}
	return float64(total[name]) / float64(alloc[name])
}

func min32(a, b int32) int32 {
	if a < b {
		return a
	}
	return b
}
