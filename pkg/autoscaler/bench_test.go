package autoscaler

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// benchInput is a cluster of groups of growing size, every third a GPU group,
// with pods of mixed shapes, some pinned to zones or roles.
func benchInput(nPods, nGroups int) Input {
	in := Input{Now: now, ScaleDownGrace: grace}
	for i := 0; i < nGroups; i++ {
		cpu := 2 << (i % 4)
		t := template(fmt.Sprintf("u1.g%d", i), strconv.Itoa(cpu), fmt.Sprintf("%dGi", 4*cpu))
		if i%3 == 2 {
			t = template(fmt.Sprintf("u1.g%d", i), strconv.Itoa(cpu), fmt.Sprintf("%dGi", 4*cpu), string(l40s), strconv.Itoa(1+i%2))
			t.Taints = []corev1.Taint{gpuTaint}
		}
		t = withLabel(t, "node-role.kubernetes.io/r"+strconv.Itoa(i%5), "")
		g := Group{Name: fmt.Sprintf("g%02d", i), Min: int32(i % 2), Max: int32(5 + i), Template: t}
		for j := 0; j < i%4; j++ {
			n := Node{Name: fmt.Sprintf("g%02d-%d", i, j), Zone: allZones[j%3], Ready: j != 1}
			if j == 2 {
				n.EmptySince = now.Add(-time.Hour)
			}
			g.Nodes = append(g.Nodes, n)
		}
		in.Groups = append(in.Groups, g)
	}
	for i := 0; i < nPods; i++ {
		req := rl("cpu", fmt.Sprintf("%dm", 250*(1+i%7)), "memory", fmt.Sprintf("%dMi", 512*(1+i%5)))
		var opts []podOpt
		switch i % 6 {
		case 0:
			req[l40s] = rl("x", "1")["x"]
			opts = append(opts, tolerateGPU)
		case 1:
			opts = append(opts, nodeSelector(zoneLabel, allZones[i%3]))
		case 2:
			opts = append(opts, nodeSelector("node-role.kubernetes.io/r"+strconv.Itoa(i%5), ""))
		}
		in.PendingPods = append(in.PendingPods, pod(fmt.Sprintf("p%04d", i), req, opts...))
	}
	return in
}

// BenchmarkDecide measures one round for 500 pending pods and 20 groups; the
// design wants a decision well within 2 s.
func BenchmarkDecide(b *testing.B) {
	in := benchInput(500, 20)
	b.ReportAllocs()
	for b.Loop() {
		Decide(in)
	}
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }

func join(s []string) string { return strings.Join(s, ",") }

func zones(m map[string]int32) string {
	var parts []string
	for z, n := range m {
		parts = append(parts, z+":"+itoa(n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
