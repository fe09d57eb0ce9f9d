package netlab

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Config chooses the shape of a lab.
type Config struct {
	// Servers is the number of server hosts created on the router's
	// bridge; 0 means one. Lab.AddServer adds more later.
	Servers int
}

// Lab is one test's network: a client, a router with a bridge, server
// hosts, and whatever the test adds (a DNS host, a second router). Every
// namespace name ends in the lab's Suffix. A Lab is torn down by the
// cleanup of the test that created it; its methods may be called from the
// test's goroutine (they fail the test given to them on setup errors).
type Lab struct {
	// Suffix is the random part shared by every namespace name of the lab
	// (nd-<role>-<Suffix>), eight hex digits.
	Suffix string
	// Client is the host tests probe from.
	Client *Node
	// Router forwards between the client and the server subnet and is
	// where faults are usually installed.
	Router *Node
	// Servers are the hosts on the server subnet, 198.18.1.10, .11, ...
	// AddServer appends to it; tests that add servers from parallel
	// subtests should use the Node AddServer returns instead.
	Servers []*Node

	t   testing.TB
	reg *registry

	// buildMu serialises the additions that create namespaces once per
	// lab (AddRoutingLoop, StartDNS).
	buildMu sync.Mutex

	mu         sync.Mutex
	nodes      []*Node
	nextOctet  int
	nextServer int
	nextPort   int
	dns        *DNS
	loop       *Loop
	destroyed  bool
}

// neighbour timers for every lab interface: three probes 100 ms apart, so
// an address nobody answers ARP or neighbour discovery for fails in about
// 0.3 s instead of the kernel's default 3 s.
const (
	neighRetransMS  = "100"
	neighMcastProbe = "3"
)

// bridgeMAC is the router bridge's own address (locally administered). A
// bridge whose address is not set takes the lowest address of its ports,
// so a server added later could change it under the hosts that already
// know it; their packets to the router, sent to the old address, would be
// dropped as meant for another host until they look the router up again.
const bridgeMAC = "02:6e:64:00:00:01"

// New builds the base topology (client, router with bridge, cfg.Servers
// hosts) and registers its removal with t.Cleanup. It skips the test when
// the lab cannot run here: not Linux, not root, or ip(8)/nft(8) missing.
func New(t testing.TB, cfg Config) *Lab {
	t.Helper()
	Require(t)
	sweepStaleOnce(t)

	suffix, err := randomSuffix()
	if err != nil {
		t.Fatalf("netlab: %v", err)
	}
	reg, err := newRegistry(suffix)
	if err != nil {
		t.Fatalf("netlab: %v", err)
	}
	l := &Lab{Suffix: suffix, t: t, reg: reg, nextOctet: firstServerOctet}
	t.Cleanup(l.destroy)

	if l.Client, err = l.newNode("client", false, Client4, Client6); err != nil {
		t.Fatalf("netlab: %v", err)
	}
	if l.Router, err = l.newNode("router", true, RouterClientSide4, RouterClientSide6); err != nil {
		t.Fatalf("netlab: %v", err)
	}
	servers := cfg.Servers
	if servers <= 0 {
		servers = 1
	}
	for range servers {
		s, err := l.newServer("srv")
		if err != nil {
			t.Fatalf("netlab: %v", err)
		}
		l.Servers = append(l.Servers, s)
	}

	var root []string
	for _, n := range l.nodes {
		root = append(root, "netns add "+n.Name)
	}
	root = append(root,
		fmt.Sprintf("link add name eth0 address %s netns %s type veth peer name c0 address %s netns %s",
			macOf(Client4), l.Client.Name, macOf(RouterClientSide4), l.Router.Name),
		fmt.Sprintf("link add name br0 netns %s address %s type bridge mcast_snooping 0", l.Router.Name, bridgeMAC))
	ports := make([]string, len(l.Servers))
	for i, s := range l.Servers {
		ports[i] = l.takePort()
		root = append(root, fmt.Sprintf("link add name eth0 address %s netns %s type veth peer name %s netns %s", macOf(s.Addr4), s.Name, ports[i], l.Router.Name))
	}
	if err := ipBatch("", root); err != nil {
		t.Fatalf("netlab: create namespaces and links: %v", err)
	}

	if err := l.setupRouter(); err != nil {
		t.Fatalf("netlab: %v", err)
	}
	if err := l.Client.setupHost("eth0", ClientNet4, ClientNet6, RouterClientSide4, RouterClientSide6); err != nil {
		t.Fatalf("netlab: %v", err)
	}
	err = errors.Join(
		l.Client.pinNeighbours("eth0", macOf(RouterClientSide4), RouterClientSide4, RouterClientSide6),
		l.Router.pinNeighbours("c0", macOf(Client4), Client4, Client6))
	if err != nil {
		t.Fatalf("netlab: %v", err)
	}
	for i, s := range l.Servers {
		if err := l.attachServer(s, ports[i]); err != nil {
			t.Fatalf("netlab: %v", err)
		}
	}
	return l
}

// Require skips t unless labs can be built here: Linux, root, and ip(8)
// and nft(8) installed. New calls it; tests that need the same conditions
// without a lab of their own may call it too.
func Require(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("netlab: network namespaces need Linux, this is %s", runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		t.Skip("netlab: needs root (network namespaces, nftables, raw sockets); run the tests as root")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("netlab: needs %s (Debian packages iproute2 and nftables): %v", tool, err)
		}
	}
}

// requireTool skips t when a program the lab feature needs is missing.
func requireTool(t testing.TB, tool, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Skipf("netlab: needs %s (Debian package %s): %v", tool, pkg, err)
	}
}

func randomSuffix() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random namespace suffix: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// newNode records a node and its namespace name before the namespace
// exists, so that a crash half-way through setup is still swept.
func (l *Lab) newNode(role string, router bool, a4, a6 netip.Addr) (*Node, error) {
	n := &Node{Name: fmt.Sprintf("nd-%s-%s", role, l.Suffix), Role: role, Addr4: a4, Addr6: a6, lab: l, router: router}
	if err := l.reg.add("netns", n.Name); err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.nodes = append(l.nodes, n)
	l.mu.Unlock()
	return n, nil
}

// newServer allocates the next server-subnet address and a node for it.
// Roles are numbered: srv0, srv1, ...
func (l *Lab) newServer(kind string) (*Node, error) {
	l.mu.Lock()
	for reservedOctets[l.nextOctet] {
		l.nextOctet++
	}
	octet := l.nextOctet
	l.nextOctet++
	index := l.nextServer
	l.nextServer++
	l.mu.Unlock()
	if octet > 254 {
		return nil, fmt.Errorf("the server subnet %s is full", ServerNet4)
	}
	a4, a6 := serverAddrs(octet)
	return l.newNode(fmt.Sprintf("%s%d", kind, index), false, a4, a6)
}

// takePort names the router's next bridge port (s0, s1, ...).
func (l *Lab) takePort() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := fmt.Sprintf("s%d", l.nextPort)
	l.nextPort++
	return p
}

// AddServer adds a server host to the bridge with the next free address
// (198.18.1.10, .11, ... skipping .53-.55 and .99) and returns it.
func (l *Lab) AddServer(t testing.TB) *Node {
	t.Helper()
	s, err := l.newServer("srv")
	if err != nil {
		t.Fatalf("netlab: add server: %v", err)
	}
	if err := l.addHost(s); err != nil {
		t.Fatalf("netlab: add server: %v", err)
	}
	l.mu.Lock()
	l.Servers = append(l.Servers, s)
	l.mu.Unlock()
	return s
}

// addHost creates the namespace of a server-subnet node and plugs it into
// the router's bridge.
func (l *Lab) addHost(s *Node) error {
	port := l.takePort()
	err := ipBatch("", []string{
		"netns add " + s.Name,
		fmt.Sprintf("link add name eth0 address %s netns %s type veth peer name %s netns %s", macOf(s.Addr4), s.Name, port, l.Router.Name),
	})
	if err != nil {
		return fmt.Errorf("create %s: %w", s.Name, err)
	}
	return l.attachServer(s, port)
}

// attachServer configures a server host whose veth peer (port) already
// sits in the router's namespace.
func (l *Lab) attachServer(s *Node, port string) error {
	err := l.Router.setSysctls([][2]string{{"net.ipv6.conf." + port + ".accept_dad", "0"}})
	if err != nil {
		return err
	}
	if err := ipBatch(l.Router.Name, []string{"link set " + port + " master br0", "link set " + port + " up"}); err != nil {
		return fmt.Errorf("plug %s into the bridge: %w", s.Name, err)
	}
	if err := s.setupHost("eth0", ServerNet4, ServerNet6, RouterServerSide4, RouterServerSide6); err != nil {
		return err
	}
	return errors.Join(
		s.pinNeighbours("eth0", bridgeMAC, RouterServerSide4, RouterServerSide6),
		l.Router.pinNeighbours("br0", macOf(s.Addr4), s.Addr4, s.Addr6))
}

// macOf is the fixed MAC address of the lab interface whose IPv4 address
// is a: 02:6e:64 followed by the address's last three bytes.
func macOf(a netip.Addr) string {
	b := a.As4()
	return fmt.Sprintf("02:6e:64:%02x:%02x:%02x", b[1], b[2], b[3])
}

// pinNeighbours enters addrs, all at mac on dev, in n's neighbour table
// for good. The lab's own hosts never need ARP or neighbour discovery
// then: with the short neighbour timers (fastNeighbours), a busy machine
// could delay an answer past the third solicitation and make a real host
// look unreachable. Addresses nobody owns (NoHost, NoNeighbor) are still
// resolved, and fail, as on a real network.
func (n *Node) pinNeighbours(dev, mac string, addrs ...netip.Addr) error {
	var cmds []string
	for _, a := range addrs {
		cmds = append(cmds, "neigh replace "+a.String()+" lladdr "+mac+" dev "+dev+" nud permanent")
	}
	if err := ipBatch(n.Name, cmds); err != nil {
		return fmt.Errorf("neighbours of %s: %w", n.Name, err)
	}
	return nil
}

// setupHost gives a host its address on dev, a default route via the
// gateways, immediate IPv6 addresses and short neighbour timers.
func (n *Node) setupHost(dev string, net4, net6 netip.Prefix, gw4, gw6 netip.Addr) error {
	sysctls := [][2]string{
		{"net.ipv4.conf.all.forwarding", "0"},
		{"net.ipv6.conf.all.forwarding", "0"},
	}
	sysctls = append(sysctls, noDAD("lo", dev)...)
	sysctls = append(sysctls, fastNeighbours(dev)...)
	if err := n.setSysctls(sysctls); err != nil {
		return err
	}
	err := ipBatch(n.Name, []string{
		"link set lo up",
		"link set " + dev + " up",
		"addr add " + withLen(n.Addr4, net4) + " dev " + dev,
		"addr add " + withLen(n.Addr6, net6) + " dev " + dev + " nodad",
		"route add default via " + gw4.String(),
		"route add default via " + gw6.String(),
	})
	if err != nil {
		return fmt.Errorf("configure %s: %w", n.Name, err)
	}
	return nil
}

// setupRouter turns the router namespace into a router: forwarding on,
// ICMP error rate limits off (every probe gets its error, which makes
// tests deterministic), no reverse-path filter, the fixed unreachable and
// prohibit routes.
func (l *Lab) setupRouter() error {
	r := l.Router
	sysctls := [][2]string{
		{"net.ipv4.conf.all.forwarding", "1"},
		{"net.ipv6.conf.all.forwarding", "1"},
	}
	sysctls = append(sysctls, routerSysctls()...)
	sysctls = append(sysctls, noDAD("lo", "c0", "br0")...)
	sysctls = append(sysctls, fastNeighbours("c0", "br0")...)
	if err := r.setSysctls(sysctls); err != nil {
		return err
	}
	err := ipBatch(r.Name, []string{
		"link set lo up",
		"link set c0 up",
		"link set br0 up",
		"addr add " + withLen(RouterClientSide4, ClientNet4) + " dev c0",
		"addr add " + withLen(RouterClientSide6, ClientNet6) + " dev c0 nodad",
		"addr add " + withLen(RouterServerSide4, ServerNet4) + " dev br0",
		"addr add " + withLen(RouterServerSide6, ServerNet6) + " dev br0 nodad",
		"route add unreachable " + UnreachableNet4.String(),
		"route add unreachable " + UnreachableNet6.String(),
		"route add prohibit " + ProhibitNet4.String(),
		"route add prohibit " + ProhibitNet6.String(),
	})
	if err != nil {
		return fmt.Errorf("configure %s: %w", r.Name, err)
	}
	return nil
}

// routerSysctls are shared by both routers.
func routerSysctls() [][2]string {
	return [][2]string{
		{"net.ipv4.conf.all.rp_filter", "0"},
		{"net.ipv4.conf.default.rp_filter", "0"},
		{"net.ipv4.conf.all.send_redirects", "0"},
		{"net.ipv4.conf.default.send_redirects", "0"},
		{"net.ipv4.icmp_ratelimit", "0"},
		{"net.ipv6.icmp.ratelimit", "0"},
	}
}

// noDAD switches IPv6 duplicate address detection off, so that addresses
// (the link-local ones too) are usable the moment they are added.
func noDAD(devs ...string) [][2]string {
	s := [][2]string{
		{"net.ipv6.conf.all.accept_dad", "0"},
		{"net.ipv6.conf.default.accept_dad", "0"},
	}
	for _, d := range devs {
		s = append(s, [2]string{"net.ipv6.conf." + d + ".accept_dad", "0"})
	}
	return s
}

// fastNeighbours shortens ARP and neighbour discovery on devs. There is no
// per-namespace "default" for these outside the initial namespace, so they
// are set per device.
func fastNeighbours(devs ...string) [][2]string {
	var s [][2]string
	for _, d := range devs {
		for _, fam := range []string{"ipv4", "ipv6"} {
			s = append(s,
				[2]string{"net." + fam + ".neigh." + d + ".retrans_time_ms", neighRetransMS},
				[2]string{"net." + fam + ".neigh." + d + ".mcast_solicit", neighMcastProbe})
		}
	}
	return s
}

func (l *Lab) isDestroyed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.destroyed
}

// Nodes returns every node of the lab, in creation order.
func (l *Lab) Nodes() []*Node {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*Node(nil), l.nodes...)
}

// ipBatch runs ip(8) once for many commands, in namespace ns ("" for the
// initial namespace, which is only used to create namespaces and the links
// between them).
func ipBatch(ns string, cmds []string) error {
	args := []string{"-batch", "-"}
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	cmd := exec.Command("ip", args...)
	cmd.Stdin = strings.NewReader(strings.Join(cmds, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// destroy removes everything the lab created: processes still running in
// its namespaces, the namespaces and their /etc/netns directories.
func (l *Lab) destroy() {
	l.mu.Lock()
	l.destroyed = true
	nodes := append([]*Node(nil), l.nodes...)
	l.mu.Unlock()

	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	if err := removeNamespaces(names); err != nil {
		l.t.Errorf("netlab: cleanup: %v", err)
		return
	}
	if err := l.reg.remove(); err != nil {
		l.t.Errorf("netlab: cleanup: %v", err)
	}
}

// removeNamespaces kills every process left in the named namespaces, then
// deletes the namespaces and their /etc/netns/<name> directories. Names
// that do not exist (any more) are not an error: another test process may
// be sweeping the same stale lab at the same moment.
func removeNamespaces(names []string) error {
	var errs []error
	for _, name := range names {
		path := filepath.Join(netnsDir, name)
		if _, err := os.Stat(path); err == nil {
			if err := killNamespaceProcesses(name); err != nil {
				errs = append(errs, err)
			}
			out, err := exec.Command("ip", "netns", "del", name).CombinedOutput()
			if _, statErr := os.Stat(path); err != nil && statErr == nil {
				errs = append(errs, fmt.Errorf("ip netns del %s: %w: %s", name, err, strings.TrimSpace(string(out))))
			}
		}
		if err := os.RemoveAll(filepath.Join(etcNetnsDir, name)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// killNamespaceProcesses sends SIGKILL to every process in namespace name.
func killNamespaceProcesses(name string) error {
	out, err := exec.Command("ip", "netns", "pids", name).Output()
	if err != nil {
		if _, statErr := os.Stat(filepath.Join(netnsDir, name)); errors.Is(statErr, os.ErrNotExist) {
			return nil // removed meanwhile
		}
		return fmt.Errorf("ip netns pids %s: %w", name, err)
	}
	for _, f := range strings.Fields(string(out)) {
		var pid int
		if _, err := fmt.Sscan(f, &pid); err == nil && pid > 0 && pid != os.Getpid() {
			killPid(pid)
		}
	}
	return nil
}

// The directories ip-netns(8) uses: the namespace mount points and the
// per-namespace files it bind-mounts over /etc.
const (
	netnsDir    = "/run/netns"
	etcNetnsDir = "/etc/netns"
)
