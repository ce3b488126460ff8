// Package portalloc chooses loopback TCP ports for the processes of the local
// platform and of the local provider. A port it keeps or picks stays bound
// until Release, so the choices are distinct and no other process can take one
// between the choice and the next: choosing by binding port 0 and closing at
// once would let the kernel hand the same port out twice.
package portalloc

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// maxPicks bounds the attempts to find a port that was not already chosen.
const maxPicks = 100

// Allocator holds the ports chosen so far. The zero value is not usable; call
// New.
type Allocator struct {
	held     map[int]net.Listener // bound by us until Release
	reserved map[int]bool         // served by one of our own processes
}

// New returns an empty allocator.
func New() *Allocator {
	return &Allocator{held: map[int]net.Listener{}, reserved: map[int]bool{}}
}

func (a *Allocator) chosen(port int) bool {
	_, held := a.held[port]
	return held || a.reserved[port]
}

// Keep holds port if it is free. It reports false for port 0, a port already
// chosen, and a port someone else has bound: the caller then picks another.
func (a *Allocator) Keep(port int) bool {
	if port <= 0 || a.chosen(port) {
		return false
	}
	l, err := listen(port)
	if err != nil {
		return false
	}
	a.held[port] = l
	return true
}

// Reserve counts port as chosen without binding it, because one of our own
// live processes serves on it. It reports false for port 0 and a port already
// chosen.
func (a *Allocator) Reserve(port int) bool {
	if port <= 0 || a.chosen(port) {
		return false
	}
	a.reserved[port] = true
	return true
}

// Pick binds a free port that was not chosen before and holds it.
func (a *Allocator) Pick() (int, error) {
	for range maxPicks {
		l, err := listen(0)
		if err != nil {
			return 0, fmt.Errorf("choosing a free loopback port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		// A reserved port is bound by our own process, so the kernel does
		// not hand it out; unless that process just ended.
		if a.chosen(port) {
			l.Close()
			continue
		}
		a.held[port] = l
		return port, nil
	}
	return 0, errors.New("choosing a free loopback port: every port offered was already chosen")
}

// Release unbinds the held ports, for the processes that are to serve on
// them. The allocator is empty afterwards.
func (a *Allocator) Release() {
	for _, l := range a.held {
		l.Close()
	}
	a.held = map[int]net.Listener{}
	a.reserved = map[int]bool{}
}

// Settle keeps every *port that is set, not a duplicate of an earlier one and
// free (or, when ours says so, served by our own process), and replaces the
// others with free ports. Everything is held until Settle returns. It reports
// whether it changed a port.
func Settle(ports []*int, ours func(port int) bool) (bool, error) {
	a := New()
	defer a.Release()
	changed := false
	for _, p := range ports {
		if ours != nil && ours(*p) && a.Reserve(*p) {
			continue
		}
		if a.Keep(*p) {
			continue
		}
		port, err := a.Pick()
		if err != nil {
			return changed, err
		}
		*p = port
		changed = true
	}
	return changed, nil
}

// listen binds port on the loopback address; port 0 lets the kernel choose.
func listen(port int) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
}
