package portalloc

import (
	"net"
	"strconv"
	"testing"
)

// occupy binds port on loopback for the rest of the test, as another process
// would.
func occupy(t *testing.T, port int) {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("occupying port %d: %v", port, err)
	}
	t.Cleanup(func() { l.Close() })
}

// freePorts returns n distinct ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	a := New()
	defer a.Release()
	var out []int
	for range n {
		p, err := a.Pick()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func TestPickHoldsEveryPortUntilRelease(t *testing.T) {
	a := New()
	seen := map[int]bool{}
	for range 20 {
		p, err := a.Pick()
		if err != nil {
			t.Fatal(err)
		}
		if p <= 0 || seen[p] {
			t.Fatalf("Pick returned %d, already returned or invalid", p)
		}
		seen[p] = true
		if _, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p))); err == nil {
			t.Fatalf("port %d could be bound by another while held", p)
		}
	}
	a.Release()
	for p := range seen {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Errorf("port %d still held after Release: %v", p, err)
			continue
		}
		l.Close()
	}
}

func TestKeepRefusesZeroDuplicatesAndTakenPorts(t *testing.T) {
	ports := freePorts(t, 2)
	free, taken := ports[0], ports[1]
	occupy(t, taken)
	a := New()
	defer a.Release()
	if a.Keep(0) {
		t.Error("Keep(0) succeeded")
	}
	if !a.Keep(free) {
		t.Fatalf("Keep(%d) of a free port failed", free)
	}
	if a.Keep(free) {
		t.Errorf("Keep(%d) twice succeeded", free)
	}
	if a.Keep(taken) {
		t.Errorf("Keep(%d) of a port someone else holds succeeded", taken)
	}
	if a.Reserve(free) {
		t.Errorf("Reserve(%d) of a kept port succeeded", free)
	}
	if !a.Reserve(taken) || a.Reserve(taken) || a.Keep(taken) {
		t.Errorf("Reserve(%d) of our own process's port: first must succeed, repeats fail", taken)
	}
}

func TestSettleKeepsWhatItCanAndReplacesTheRest(t *testing.T) {
	// Symbolic ports 1..4 stand for real ports free at the start.
	real := freePorts(t, 4)
	r := func(sym int) int {
		if sym == 0 {
			return 0
		}
		return real[sym-1]
	}
	for _, tc := range []struct {
		name        string
		in          []int
		occupied    []int // bound by another listener
		ours        []int // bound by "our own process"
		wantKept    []int // indices of in that must keep their port
		wantChanged bool
	}{
		{name: "unset", in: []int{0, 0, 0}, wantChanged: true},
		{name: "all free", in: []int{1, 2, 3}, wantKept: []int{0, 1, 2}},
		{name: "served by our own processes", in: []int{1, 2, 3}, occupied: []int{1, 2, 3}, ours: []int{1, 2, 3}, wantKept: []int{0, 1, 2}},
		{name: "taken by someone else", in: []int{1, 2, 3}, occupied: []int{1, 2, 3}, ours: []int{1, 2}, wantKept: []int{0, 1}, wantChanged: true},
		{name: "duplicate", in: []int{1, 1, 3}, wantKept: []int{0, 2}, wantChanged: true},
		{name: "duplicate of our own", in: []int{1, 1}, occupied: []int{1}, ours: []int{1}, wantKept: []int{0}, wantChanged: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ls []net.Listener
			for _, sym := range tc.occupied {
				l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(r(sym))))
				if err != nil {
					t.Fatal(err)
				}
				ls = append(ls, l)
			}
			defer func() {
				for _, l := range ls {
					l.Close()
				}
			}()
			ours := map[int]bool{}
			for _, sym := range tc.ours {
				ours[r(sym)] = true
			}
			vals := make([]int, len(tc.in))
			ptrs := make([]*int, len(tc.in))
			for i, sym := range tc.in {
				vals[i] = r(sym)
				ptrs[i] = &vals[i]
			}
			changed, err := Settle(ptrs, func(p int) bool { return ours[p] })
			if err != nil {
				t.Fatal(err)
			}
			if changed != tc.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tc.wantChanged)
			}
			seen := map[int]bool{}
			for _, v := range vals {
				if v <= 0 || seen[v] {
					t.Errorf("ports %v: zero or duplicate", vals)
				}
				seen[v] = true
			}
			for _, i := range tc.wantKept {
				if vals[i] != r(tc.in[i]) {
					t.Errorf("port %d (index %d) was replaced by %d", r(tc.in[i]), i, vals[i])
				}
			}
			// Nothing stays held once Settle returns.
			for _, v := range vals {
				if ours[v] {
					continue
				}
				l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(v)))
				if err != nil {
					t.Errorf("port %d still held after Settle: %v", v, err)
					continue
				}
				l.Close()
			}
		})
	}
}
