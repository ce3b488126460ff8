package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Network is what the agent owns of this machine's networking, all named
// with one prefix so that a restart finds and removes what a previous run
// left: a bridge holding the first address of a private /16, and per pod a
// network namespace with one end of a veth pair (eth0, the pod's address)
// whose other end is on the bridge. Pods reach each other and the host over
// the bridge; no route leads anywhere else (no default route, no
// forwarding), so nothing leaves for an address the agent did not create.
// LoadBalancer addresses are /32s on the bridge from the top of the /16.
type Network struct {
	Prefix string // at most 6 characters: link names have 15
	Subnet string // 10.N.0.0/16
	base   net.IP

	mu   sync.Mutex
	path string         // ipam.json
	ipam map[string]int // pod UID → host index in the subnet
}

type networkFile struct {
	Prefix string
	Subnet string
	Pods   map[string]int
}

// Host indexes: pods from 10.N.1.0 up, LoadBalancer addresses 10.N.255.1-254.
const (
	firstPodIndex = 256
	lastPodIndex  = 254*256 + 255
	lbBase        = 255 * 256
)

// OpenNetwork loads home/network.json or chooses a prefix (from home, so two
// agents with different homes differ) and a /16 that no route or address of
// this machine overlaps.
func OpenNetwork(home string) (*Network, error) {
	path := filepath.Join(home, "network.json")
	var f networkFile
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
	case errors.Is(err, os.ErrNotExist):
		h := fnv.New32a()
		_, _ = h.Write([]byte(home))
		sum := h.Sum32()
		f.Prefix = fmt.Sprintf("hk%04x", sum&0xffff)
		f.Subnet, err = chooseSubnet(int(sum>>16) % 50)
		if err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	_, ipnet, err := net.ParseCIDR(f.Subnet)
	if err != nil {
		return nil, fmt.Errorf("network subnet %q: %w", f.Subnet, err)
	}
	if f.Pods == nil {
		f.Pods = map[string]int{}
	}
	n := &Network{Prefix: f.Prefix, Subnet: f.Subnet, base: ipnet.IP.To4(), path: path, ipam: f.Pods}
	return n, n.save()
}

// chooseSubnet returns the first 10.N.0.0/16, N from 200+start, that overlaps
// nothing this machine routes or holds.
func chooseSubnet(start int) (string, error) {
	var used []*net.IPNet
	for _, args := range [][]string{{"-4", "-o", "addr", "show"}, {"-4", "route", "show", "table", "all"}} {
		out, err := exec.Command("ip", args...).Output()
		if err != nil {
			return "", fmt.Errorf("ip %s: %w", strings.Join(args, " "), err)
		}
		for _, field := range strings.Fields(string(out)) {
			if _, n, err := net.ParseCIDR(field); err == nil {
				used = append(used, n)
			} else if ip := net.ParseIP(field); ip != nil && ip.To4() != nil {
				used = append(used, &net.IPNet{IP: ip, Mask: net.CIDRMask(32, 32)})
			}
		}
	}
	for i := 0; i < 50; i++ {
		cand := &net.IPNet{IP: net.IPv4(10, byte(200+(start+i)%50), 0, 0).To4(), Mask: net.CIDRMask(16, 32)}
		free := true
		for _, u := range used {
			if cand.Contains(u.IP) || u.Contains(cand.IP) {
				free = false
				break
			}
		}
		if free {
			return cand.String(), nil
		}
	}
	return "", errors.New("no free 10.200-249.0.0/16 for the process node")
}

func (n *Network) save() error {
	data, err := json.MarshalIndent(networkFile{Prefix: n.Prefix, Subnet: n.Subnet, Pods: n.ipam}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(n.path, data, 0o600)
}

// Bridge is the name of the agent's bridge.
func (n *Network) Bridge() string { return n.Prefix + "br" }

// HostIP is the bridge's address: the process nodes' InternalIP and the
// pods' hostIP.
func (n *Network) HostIP() string { return n.ip(1).String() }

func (n *Network) ip(index int) net.IP {
	return net.IPv4(n.base[0], n.base[1], byte(index>>8), byte(index))
}

// PodIP returns the address of pod uid, allocating it if new. A pod keeps
// its address across agent restarts.
func (n *Network) PodIP(uid string) (string, int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if i, ok := n.ipam[uid]; ok {
		return n.ip(i).String(), i, nil
	}
	taken := map[int]bool{}
	for _, i := range n.ipam {
		taken[i] = true
	}
	for i := firstPodIndex; i <= lastPodIndex; i++ {
		if i&0xff == 0 || i&0xff == 0xff || taken[i] {
			continue
		}
		n.ipam[uid] = i
		return n.ip(i).String(), i, n.save()
	}
	return "", 0, errors.New("process node: pod addresses exhausted")
}

// ReleasePodIP frees the address of pod uid.
func (n *Network) ReleasePodIP(uid string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.ipam[uid]; !ok {
		return nil
	}
	delete(n.ipam, uid)
	return n.save()
}

// KnownPods are the UIDs holding addresses.
func (n *Network) KnownPods() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var uids []string
	for uid := range n.ipam {
		uids = append(uids, uid)
	}
	return uids
}

// LBIP is LoadBalancer address i (1-254).
func (n *Network) LBIP(i int) string { return n.ip(lbBase + i).String() }

// IsLBIP reports whether ip is one of the LoadBalancer addresses.
func (n *Network) IsLBIP(ip string) (int, bool) {
	p := net.ParseIP(ip).To4()
	if p == nil || p[0] != n.base[0] || p[1] != n.base[1] || p[2] != 255 || p[3] == 0 || p[3] == 255 {
		return 0, false
	}
	return int(p[3]), true
}

// Setup creates the bridge with the host address, after removing whatever a
// previous run left.
func (n *Network) Setup() error {
	if err := n.Cleanup(); err != nil {
		return err
	}
	br := n.Bridge()
	for _, args := range [][]string{
		{"link", "add", br, "type", "bridge"},
		{"addr", "add", n.HostIP() + "/16", "dev", br},
		{"link", "set", br, "up"},
	} {
		if err := ipCmd(args...); err != nil {
			return err
		}
	}
	return nil
}

// Cleanup removes every namespace and link named with the prefix.
func (n *Network) Cleanup() error {
	var errs []error
	nss, err := n.Namespaces()
	if err != nil {
		errs = append(errs, err)
	}
	for _, ns := range nss {
		errs = append(errs, ipCmd("netns", "del", ns))
	}
	links, err := n.Links()
	if err != nil {
		errs = append(errs, err)
	}
	for _, l := range links {
		// Deleting a namespace took its veth pair along; the bridge remains.
		if err := ipCmd("link", "del", l); err != nil && linkExists(l) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Namespaces are the agent's network namespaces that exist.
func (n *Network) Namespaces() ([]string, error) {
	entries, err := os.ReadDir("/run/netns")
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), n.Prefix+"-") {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// Links are the agent's links in the host namespace.
func (n *Network) Links() ([]string, error) {
	entries, err := os.ReadDir("/sys/class/net")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), n.Prefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

func linkExists(name string) bool {
	_, err := os.Stat(filepath.Join("/sys/class/net", name))
	return err == nil
}

// PodNetwork is one pod's namespace and link.
type PodNetwork struct {
	Namespace string // name under /run/netns
	HostLink  string
	IP        string
}

// NetnsPath is the namespace's file.
func (p PodNetwork) NetnsPath() string { return filepath.Join("/run/netns", p.Namespace) }

// CreatePod creates the namespace of a pod with its address. A leftover
// namespace or link of the same name is replaced.
func (n *Network) CreatePod(uid, namespace, name string) (PodNetwork, error) {
	ip, idx, err := n.PodIP(uid)
	if err != nil {
		return PodNetwork{}, err
	}
	short := uid
	if len(short) > 8 {
		short = short[:8]
	}
	p := PodNetwork{Namespace: fmt.Sprintf("%s-%s-%s-%s", n.Prefix, namespace, name, short), HostLink: fmt.Sprintf("%sv%04x", n.Prefix, idx), IP: ip}
	if len(p.Namespace) > 200 {
		p.Namespace = p.Namespace[:200]
	}
	n.DeletePod(p)
	for _, args := range [][]string{
		{"netns", "add", p.Namespace},
		{"link", "add", p.HostLink, "type", "veth", "peer", "name", "eth0", "netns", p.Namespace},
		{"link", "set", p.HostLink, "master", n.Bridge(), "up"},
		{"-n", p.Namespace, "addr", "add", ip + "/16", "dev", "eth0"},
		{"-n", p.Namespace, "link", "set", "eth0", "up"},
		{"-n", p.Namespace, "link", "set", "lo", "up"},
	} {
		if err := ipCmd(args...); err != nil {
			n.DeletePod(p)
			return PodNetwork{}, err
		}
	}
	return p, nil
}

// DeletePod removes a pod's namespace and link; what is already gone is no
// error.
func (n *Network) DeletePod(p PodNetwork) error {
	var errs []error
	if _, err := os.Stat(p.NetnsPath()); err == nil {
		errs = append(errs, ipCmd("netns", "del", p.Namespace))
	}
	if linkExists(p.HostLink) {
		if err := ipCmd("link", "del", p.HostLink); err != nil && linkExists(p.HostLink) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// AddLBAddress and DelLBAddress put a LoadBalancer address on the bridge and
// take it off.
func (n *Network) AddLBAddress(ip string) error {
	err := ipCmd("addr", "add", ip+"/32", "dev", n.Bridge())
	if err != nil && strings.Contains(err.Error(), "File exists") {
		return nil
	}
	return err
}

func (n *Network) DelLBAddress(ip string) error {
	err := ipCmd("addr", "del", ip+"/32", "dev", n.Bridge())
	if err != nil && strings.Contains(err.Error(), "Cannot assign") {
		return nil
	}
	return err
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
