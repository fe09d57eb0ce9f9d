package netlab

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// LabDomain is the lab's DNS domain: a name given without a dot is taken
// relative to it, and the client's resolv.conf searches it.
const LabDomain = "lab.test"

// DNSConfig chooses what the lab's DNS answers.
type DNSConfig struct {
	// Records maps names to their addresses; IPv4 addresses become A
	// records, IPv6 addresses AAAA records. A name without a dot is taken
	// relative to LabDomain ("web" is web.lab.test). A name with only IPv4
	// addresses gets an empty NOERROR answer (NODATA) for AAAA. Every
	// address must be in the lab's ranges or loopback, so that no test can
	// be pointed at a real host by its DNS.
	Records map[string][]netip.Addr
	// Rcodes maps names (and everything below them) to a DNS response
	// code, github.com/miekg/dns's Rcode constants: dns.RcodeServerFailure
	// for SERVFAIL, dns.RcodeRefused, ... dnsmasq forwards these names to
	// the lab's answer-code responder, which answers with that code.
	Rcodes map[string]int
}

// DNS is the lab's name service, on a host of its own on the server
// subnet:
//
//   - DNS4 / DNS6 (198.18.1.53, 2001:db8:1::53): dnsmasq, serving the
//     Records and answering NXDOMAIN for every other name (of any domain)
//     itself; it forwards nothing except the Rcodes names, and those only
//     to the responder below.
//   - RcodeDNS4 / RcodeDNS6 (.54, ::54): a small github.com/miekg/dns
//     responder that answers every query with the Rcodes code of the
//     longest matching name, and SERVFAIL for any other name, over UDP and
//     TCP. Query it directly for a resolver that fails everything.
//   - SilentDNS4 / SilentDNS6 (.55, ::55): a resolver address whose port
//     53 drops every packet, for DNS timeouts.
//
// dnsmasq answers NXDOMAIN from its own configuration, without the
// authoritative-answer bit (it sets it only for its host records).
type DNS struct {
	// Host is the DNS host's namespace.
	Host *Node
	// Dnsmasq is the dnsmasq process; its output has a log line per query.
	Dnsmasq *Process
}

// StartDNS adds the DNS host, starts dnsmasq and the answer-code
// responder, waits until dnsmasq answers, and points the client's
// resolv.conf at DNS4 (see Node.UseResolver). It skips the test when
// dnsmasq (Debian package dnsmasq-base) is missing. A lab has at most one
// DNS; calling StartDNS twice fails the test.
func (l *Lab) StartDNS(t testing.TB, cfg DNSConfig) *DNS {
	t.Helper()
	requireTool(t, "dnsmasq", "dnsmasq-base")
	l.buildMu.Lock()
	defer l.buildMu.Unlock()
	if l.dns != nil {
		t.Fatal("netlab: the lab already has a DNS")
	}

	hosts, err := hostsFile(cfg.Records)
	if err != nil {
		t.Fatalf("netlab: StartDNS: %v", err)
	}
	rcodes := make(map[string]int, len(cfg.Rcodes))
	for name, code := range cfg.Rcodes {
		if _, ok := dns.RcodeToString[code]; !ok {
			t.Fatalf("netlab: StartDNS: %d is not a DNS response code", code)
		}
		q, err := qualify(name)
		if err != nil {
			t.Fatalf("netlab: StartDNS: Rcodes: %v", err)
		}
		rcodes[dns.Fqdn(q)] = code
	}
	hostsPath := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hostsPath, []byte(hosts), 0o644); err != nil {
		t.Fatalf("netlab: StartDNS: %v", err)
	}

	host, err := l.newNode("dns", false, DNS4, DNS6)
	if err != nil {
		t.Fatalf("netlab: StartDNS: %v", err)
	}
	if err := l.addHost(host); err != nil {
		t.Fatalf("netlab: StartDNS: %v", err)
	}
	for _, a := range []netip.Addr{RcodeDNS4, SilentDNS4} {
		host.IP(t, "addr", "add", withLen(a, ServerNet4), "dev", "eth0")
	}
	for _, a := range []netip.Addr{RcodeDNS6, SilentDNS6} {
		host.IP(t, "addr", "add", withLen(a, ServerNet6), "dev", "eth0", "nodad")
	}
	if err := l.Router.pinNeighbours("br0", macOf(host.Addr4), RcodeDNS4, SilentDNS4, RcodeDNS6, SilentDNS6); err != nil {
		t.Fatalf("netlab: StartDNS: %v", err)
	}
	for _, a := range []netip.Addr{SilentDNS4, SilentDNS6} {
		host.AddFault(t, Fault{Action: Drop, Dst: a, Proto: UDP, Port: 53})
		host.AddFault(t, Fault{Action: Drop, Dst: a, Proto: TCP, Port: 53})
	}
	startRcodeResponder(t, host, rcodes)

	args := []string{
		"--no-daemon", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
		"--bind-interfaces",
		"--listen-address=" + DNS4.String(), "--listen-address=" + DNS6.String(),
		"--addn-hosts=" + hostsPath,
		"--local=/#/", // every name not answered from the records is NXDOMAIN, never forwarded
		"--cache-size=0",
		"--log-queries", "--log-facility=-",
	}
	names := make([]string, 0, len(rcodes))
	for name := range rcodes {
		names = append(names, strings.TrimSuffix(name, "."))
	}
	sort.Strings(names)
	for _, name := range names {
		args = append(args, "--server=/"+name+"/"+RcodeDNS4.String())
	}
	p := host.Start(t, "dnsmasq", args...)
	p.WaitReady(t, func() error {
		_, err := host.query(DNS4, "netlab-ready."+LabDomain, dns.TypeA)
		return err
	})

	d := &DNS{Host: host, Dnsmasq: p}
	l.dns = d
	l.Client.UseResolver(t, DNS4)
	return d
}

// qualify puts a dotless name into the lab domain and lowercases it.
func qualify(name string) (string, error) {
	q := strings.ToLower(strings.TrimSuffix(name, "."))
	if q == "" || strings.ContainsAny(q, " \t\n#/") {
		return "", fmt.Errorf("bad name %q", name)
	}
	if !strings.Contains(q, ".") {
		q += "." + LabDomain
	}
	return q, nil
}

// hostsFile renders records in hosts(5) format, sorted so that the file
// (and dnsmasq's log) is the same on every run.
func hostsFile(records map[string][]netip.Addr) (string, error) {
	var lines []string
	for name, addrs := range records {
		q, err := qualify(name)
		if err != nil {
			return "", fmt.Errorf("record: %w", err)
		}
		for _, a := range addrs {
			a = a.Unmap()
			if !a.IsLoopback() && !inLab(netip.PrefixFrom(a, a.BitLen())) {
				return "", fmt.Errorf("record %s -> %s: only lab addresses (%s, %s) and loopback are allowed", q, a, LabNet4, LabNet6)
			}
			lines = append(lines, a.String()+" "+q)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n", nil
}

// startRcodeResponder serves the answer-code responder on RcodeDNS4/6,
// UDP and TCP, until t's cleanup.
func startRcodeResponder(t testing.TB, host *Node, rcodes map[string]int) {
	t.Helper()
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		code := dns.RcodeServerFailure
		if len(r.Question) == 1 {
			code = lookupRcode(rcodes, r.Question[0].Name)
		}
		m.SetRcode(r, code)
		m.RecursionAvailable = true
		_ = w.WriteMsg(m)
	})
	for _, a := range []netip.Addr{RcodeDNS4, RcodeDNS6} {
		addr := netip.AddrPortFrom(a, 53).String()
		servers := []*dns.Server{
			{PacketConn: host.ListenPacket(t, "udp", addr), Handler: h},
			{Listener: host.Listen(t, "tcp", addr), Handler: h},
		}
		for _, s := range servers {
			started := make(chan struct{})
			s.NotifyStartedFunc = func() { close(started) }
			served := make(chan struct{})
			var serveErr error
			go func() {
				defer close(served)
				serveErr = s.ActivateAndServe()
			}()
			select {
			case <-started:
			case <-served:
				t.Fatalf("netlab: answer-code responder on %s: %v", addr, serveErr)
			}
			t.Cleanup(func() {
				_ = s.Shutdown()
				<-served
			})
		}
	}
}

// lookupRcode returns the code of the longest name in rcodes that is
// qname or one of its parents, and SERVFAIL when there is none.
func lookupRcode(rcodes map[string]int, qname string) int {
	name := strings.ToLower(dns.Fqdn(qname))
	for {
		if code, ok := rcodes[name]; ok {
			return code
		}
		i := strings.IndexByte(name, '.')
		if i < 0 || i == len(name)-1 {
			return dns.RcodeServerFailure
		}
		name = name[i+1:]
	}
}

// query asks server (port 53, UDP) about name from inside the node, with a
// one-second deadline.
func (n *Node) query(server netip.Addr, name string, qtype uint16) (*dns.Msg, error) {
	var resp *dns.Msg
	err := n.Do(func() error {
		c := &dns.Client{Net: "udp", Timeout: time.Second}
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), qtype)
		var err error
		resp, _, err = c.Exchange(m, net.JoinHostPort(server.String(), "53"))
		return err
	})
	return resp, err
}

// UseResolver writes /etc/netns/<namespace>/resolv.conf, which
// `ip netns exec` (Command, Exec, Start) bind-mounts over /etc/resolv.conf,
// so programs run in the node resolve through servers. It searches
// LabDomain and sets "options timeout:1 attempts:1" so that a resolver
// that never answers costs a second, not glibc's ten. Use
// UseResolverConf for other settings. The file goes with the lab.
func (n *Node) UseResolver(t testing.TB, servers ...netip.Addr) {
	t.Helper()
	var b strings.Builder
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	fmt.Fprintf(&b, "search %s\noptions timeout:1 attempts:1\n", LabDomain)
	n.UseResolverConf(t, b.String())
}

// UseResolverConf writes content as the node's resolv.conf (see
// UseResolver).
func (n *Node) UseResolverConf(t testing.TB, content string) {
	t.Helper()
	dir := filepath.Join(etcNetnsDir, n.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("netlab: %s: %v", n.Name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(content), 0o644); err != nil {
		t.Fatalf("netlab: %s: %v", n.Name, err)
	}
}
