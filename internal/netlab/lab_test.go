//go:build linux

package netlab_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netdiag/netdiag/internal/netlab"
)

var nameRE = regexp.MustCompile(`^nd-[a-z0-9]+-[0-9a-f]{8}$`)

func TestTopologyPingsEndToEnd(t *testing.T) {
	t.Parallel()
	start := time.Now()
	lab := netlab.New(t, netlab.Config{Servers: 2})
	t.Logf("lab with 2 servers built in %v", time.Since(start).Round(time.Millisecond))
	requireTool(t, "ping")

	for _, n := range lab.Nodes() {
		if !nameRE.MatchString(n.Name) || !strings.HasSuffix(n.Name, "-"+lab.Suffix) {
			t.Errorf("namespace name %q does not look like nd-<role>-%s", n.Name, lab.Suffix)
		}
	}
	s0, s1 := lab.Servers[0], lab.Servers[1]
	if s0.Addr4 != netip.MustParseAddr("198.18.1.10") || s1.Addr6 != netip.MustParseAddr("2001:db8:1::11") {
		t.Errorf("server addresses %s %s, %s %s; want the plan's .10 and ::11", s0.Addr4, s0.Addr6, s1.Addr4, s1.Addr6)
	}
	paths := []struct {
		from *netlab.Node
		to   netip.Addr
	}{
		{lab.Client, s0.Addr4}, {lab.Client, s0.Addr6},
		{lab.Client, s1.Addr4}, {lab.Client, s1.Addr6},
		{lab.Client, netlab.RouterClientSide4}, {lab.Client, netlab.RouterServerSide6},
		{s0, s1.Addr4}, {s1, s0.Addr6},
		{s1, lab.Client.Addr4}, {s0, lab.Client.Addr6},
	}
	for _, p := range paths {
		out, err := p.from.Exec("ping", "-c", "1", "-W", "2", p.to.String())
		if err != nil || !strings.Contains(out, "1 received") {
			t.Errorf("ping %s -> %s: %v\n%s", p.from.Role, p.to, err, out)
		}
	}
	// Nothing of the lab is in the initial namespace.
	links, err := exec.Command("ip", "-o", "link").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(links), lab.Suffix) {
		t.Errorf("a link of the lab is in the initial namespace:\n%s", links)
	}
}

func TestAddServer(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	requireTool(t, "ping")
	s := lab.AddServer(t)
	if s.Addr4 != netip.MustParseAddr("198.18.1.11") || len(lab.Servers) != 2 {
		t.Fatalf("added server %s at %s, %d servers", s.Name, s.Addr4, len(lab.Servers))
	}
	for _, a := range []netip.Addr{s.Addr4, s.Addr6} {
		if out, err := lab.Client.Exec("ping", "-c", "1", "-W", "2", a.String()); err != nil {
			t.Errorf("ping %s: %v\n%s", a, err, out)
		}
	}
}

// TestBridgeAddressStaysPut plugs a port with a very low MAC address into
// the router's bridge after the servers have learnt the router's address.
// A bridge without an address of its own would take the new port's, and
// the server not sitting behind the port whose address the bridge had
// used would see its packets to the router dropped.
func TestBridgeAddressStaysPut(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{Servers: 2})
	requireTool(t, "ping")
	pingAll := func(when string) {
		for _, s := range lab.Servers {
			for _, a := range []netip.Addr{s.Addr4, s.Addr6} {
				if out, err := lab.Client.Exec("ping", "-c", "1", "-W", "2", a.String()); err != nil {
					t.Errorf("%s: ping %s: %v\n%s", when, a, err, out)
				}
			}
		}
	}
	pingAll("before")
	mac := func() string { return strings.Fields(lab.Router.IP(t, "-br", "link", "show", "br0"))[2] }
	before := mac()
	lab.Router.IP(t, "link", "add", "low0", "address", "02:00:00:00:00:01", "type", "veth", "peer", "name", "low1")
	lab.Router.IP(t, "link", "set", "low0", "master", "br0", "up")
	if after := mac(); after != before {
		t.Fatalf("the bridge's address changed from %s to %s when a port joined", before, after)
	}
	pingAll("after a port joined")
}

// TestHostsNeedNoNeighbourDiscovery: the router stops answering ARP and
// neighbour solicitations; the lab's own hosts still reach each other,
// because their addresses are entered in the neighbour tables for good,
// so a busy machine that answers late cannot make them unreachable.
func TestHostsNeedNoNeighbourDiscovery(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	requireTool(t, "ping")
	srv := lab.Servers[0]
	lab.Router.Nft(t, `
table arp netlab_test {
	chain in { type filter hook input priority 0; policy drop; }
}
table ip6 netlab_test {
	chain in {
		type filter hook input priority 0;
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } drop
	}
}
`)
	for _, p := range []struct {
		from *netlab.Node
		to   netip.Addr
	}{
		{lab.Client, srv.Addr4}, {lab.Client, srv.Addr6}, {srv, lab.Client.Addr4}, {srv, lab.Client.Addr6},
	} {
		if out, err := p.from.Exec("ping", "-c", "1", "-W", "2", p.to.String()); err != nil {
			t.Errorf("ping %s -> %s: %v\n%s", p.from.Role, p.to, err, out)
		}
	}
	for _, n := range []*netlab.Node{lab.Client, lab.Router, srv} {
		if out := n.IP(t, "neigh", "show", "nud", "permanent"); strings.Count(out, "PERMANENT") < 2 {
			t.Errorf("%s: permanent neighbours:\n%s", n.Role, out)
		}
	}
	// An address nobody owns is still looked up, and fails.
	if out, _ := lab.Client.Exec("ping", "-c", "1", "-W", "2", netlab.NoNeighbor4.String()); !strings.Contains(out, "Destination Host Unreachable") {
		t.Errorf("ping %s:\n%s", netlab.NoNeighbor4, out)
	}
}

func TestDoRunsInsideTheNamespace(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})

	var addrs []net.Addr
	err := lab.Client.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		addrs, err = ifi.Addrs()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range addrs {
		got = append(got, a.String())
	}
	want := []string{"198.18.0.2/24", "2001:db8::2/64"}
	for _, w := range want {
		if !strings.Contains(strings.Join(got, " "), w) {
			t.Errorf("client eth0 addresses %v, want %s among them", got, w)
		}
	}

	// The thread is in the namespace; a goroutine started inside is not.
	nsFile, err := os.Stat("/run/netns/" + lab.Client.Name)
	if err != nil {
		t.Fatal(err)
	}
	want64 := nsFile.Sys().(*syscall.Stat_t).Ino
	var inside, spawned uint64
	err = lab.Client.Do(func() error {
		inside = threadNetns(t)
		done := make(chan uint64)
		go func() { done <- threadNetns(t) }()
		spawned = <-done
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if inside != want64 {
		t.Errorf("Do ran in network namespace %d, want %d", inside, want64)
	}
	if spawned == want64 {
		t.Errorf("a goroutine started inside Do ran in the lab namespace; the documented caveat no longer holds")
	}

	if err := lab.Client.Do(func() error { return io.EOF }); !errors.Is(err, io.EOF) {
		t.Errorf("Do returned %v, want fn's error", err)
	}
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("recovered %v, want Do to re-raise fn's panic", v)
			}
		}()
		_ = lab.Client.Do(func() error { panic("boom") })
	}()
}

// threadNetns returns the inode of the calling thread's network namespace.
func threadNetns(t *testing.T) uint64 {
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/thread-self/ns/net", &st); err != nil {
		t.Error(err)
	}
	return st.Ino
}

func TestListenServesFromTheTest(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	for _, a := range []netip.Addr{srv.Addr4, srv.Addr6} {
		ln := srv.Listen(t, "tcp", netip.AddrPortFrom(a, 8080).String())
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "hello from %s\n", c.LocalAddr())
			c.Close()
		}()
		var got []byte
		err := lab.Client.Do(func() error {
			c, err := net.DialTimeout("tcp", ln.Addr().String(), 2*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
				return err
			}
			got, err = io.ReadAll(c)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := "hello from " + ln.Addr().String() + "\n"; string(got) != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestSysctlIsPerNamespace(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	const key = "net.ipv4.icmp_echo_ignore_all"
	root, err := os.ReadFile("/proc/sys/net/ipv4/icmp_echo_ignore_all")
	if err != nil {
		t.Fatal(err)
	}
	lab.Client.Sysctl(t, key, "1")
	if v := lab.Client.ReadSysctl(t, key); v != "1" {
		t.Errorf("ReadSysctl = %q after setting 1", v)
	}
	out := strings.TrimSpace(lab.Client.Run(t, "sysctl", "-n", key))
	if out != "1" {
		t.Errorf("sysctl -n inside the namespace says %q, want 1", out)
	}
	if v := lab.Servers[0].ReadSysctl(t, key); v != "0" {
		t.Errorf("the server's %s is %q; setting the client's leaked", key, v)
	}
	after, err := os.ReadFile("/proc/sys/net/ipv4/icmp_echo_ignore_all")
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(root) {
		t.Errorf("the initial namespace's %s changed from %q to %q", key, root, after)
	}
	for _, k := range []string{"net.ipv4.neigh.br0.retrans_time_ms", "net.ipv6.neigh.br0.retrans_time_ms"} {
		if v := lab.Router.ReadSysctl(t, k); v != "100" {
			t.Errorf("router %s = %s, want 100", k, v)
		}
	}
}

func TestUnprivilegedDatagramPing(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	requireTool(t, "setpriv")
	bin := netlab.Build(t, "./internal/netlab/testdata/dgramping")
	srv := lab.Servers[0]

	if out := lab.Client.Run(t, "id", "-u"); strings.TrimSpace(out) != "0" {
		t.Errorf("Exec runs as uid %s, want 0", out)
	}
	if out, err := lab.Client.ExecAs(netlab.Nobody, "id", "-u"); err != nil || strings.TrimSpace(out) != "65534" {
		t.Errorf("ExecAs(Nobody) runs as uid %q (%v), want 65534", out, err)
	}

	// A new namespace's ping_group_range is "1 0": nobody may open ICMP
	// datagram sockets.
	out, err := lab.Client.ExecAs(netlab.Nobody, bin, srv.Addr4.String())
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 4 {
		t.Errorf("with the range closed: %v, want exit status 4\n%s", err, out)
	}
	lab.Client.Sysctl(t, "net.ipv4.ping_group_range", "0 2147483647")
	for _, a := range []netip.Addr{srv.Addr4, srv.Addr6} {
		out, err := lab.Client.ExecAs(netlab.Nobody, bin, a.String())
		if err != nil || !strings.Contains(out, "reply from "+a.String()+" seq 1 uid 65534") {
			t.Errorf("with the range open, %s: %v\n%s", a, err, out)
		}
	}
}

func TestStartWaitsAndStops(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	requireTool(t, "socat")
	srv := lab.Servers[0]
	p := srv.Start(t, "socat", "TCP6-LISTEN:7000,ipv6only=0,reuseaddr,fork", "SYSTEM:echo served")
	p.WaitListening(t, "tcp", 7000)
	for _, a := range []netip.Addr{srv.Addr4, srv.Addr6} {
		out, err := lab.Client.Exec("socat", "-T", "2", "-", "TCP:"+netip.AddrPortFrom(a, 7000).String())
		if err != nil || strings.TrimSpace(out) != "served" {
			t.Errorf("socat client to %s: %q, %v", a, out, err)
		}
	}
	p.Stop()
	select {
	case <-p.Done():
	default:
		t.Fatal("Stop returned before the process ended")
	}
	if _, err := lab.Client.Exec("socat", "-T", "1", "-", "TCP:198.18.1.10:7000,connect-timeout=1"); err == nil {
		t.Error("the server still answers after Stop")
	}

	udp := srv.Start(t, "socat", "-u", "UDP4-RECV:7001", "STDOUT")
	udp.WaitListening(t, "udp", 7001)
	cmd := lab.Client.Command(context.Background(), "socat", "-u", "-", "UDP4-SENDTO:198.18.1.10:7001")
	cmd.Stdin = strings.NewReader("datagram\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("socat UDP client: %v\n%s", err, out)
	}
	udp.WaitReady(t, func() error {
		if !strings.Contains(udp.Output(), "datagram") {
			return errNotYet
		}
		return nil
	})
}

func TestLocalPrefix(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	requireTool(t, "ping")
	srv := lab.Servers[0]
	srv.AddLocalPrefix(t, netip.MustParsePrefix("198.18.128.0/22"))
	srv.AddLocalPrefix(t, netip.MustParsePrefix("2001:db8:8000::/64"))
	addrs := []string{"198.18.128.1", "198.18.131.254", "2001:db8:8000::1", "2001:db8:8000::ffff"}
	check := func() {
		t.Helper()
		for _, a := range addrs {
			out, err := lab.Client.Exec("ping", "-c", "1", "-W", "2", a)
			if err != nil || !strings.Contains(out, "bytes from "+a+":") {
				t.Errorf("ping %s: %v\n%s", a, err, out)
			}
		}
	}
	check() // the kernel answers
	r := srv.StartResponder(t, nil)
	check() // the responder answers, from the address asked
	if got := r.Received(); len(got) != len(addrs) || got[len(got)-1].To != netip.MustParseAddr(addrs[len(addrs)-1]) {
		t.Errorf("responder saw %+v", got)
	}
	if err := r.Err(); err != nil {
		t.Errorf("responder: %v", err)
	}
}

// requireTool skips when a program a test runs is missing; the lab's own
// dependencies are checked by netlab.New.
func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("netlab test needs %s: %v", name, err)
	}
}

func TestNetdiagBinaryRunsInTheLab(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	bin := netlab.Netdiag(t)
	if again := netlab.Netdiag(t); again != bin {
		t.Errorf("second Netdiag built again: %s, then %s", bin, again)
	}
	for _, run := range []func() (string, error){
		func() (string, error) { return lab.Client.Exec(bin, "--version") },
		func() (string, error) { return lab.Client.ExecAs(netlab.Nobody, bin, "--version") },
	} {
		out, err := run()
		if err != nil || !strings.HasPrefix(out, "netdiag ") {
			t.Errorf("netdiag --version in the lab: %v\n%s", err, out)
		}
	}
}
