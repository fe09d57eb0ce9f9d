package diagnose

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/handshake"
	"github.com/netdiag/netdiag/pkg/route"
)

func tcpResult(state handshake.State, reason failure.Reason, from string) *handshake.Result {
	r := &handshake.Result{State: state}
	if reason != "" {
		r.Failure = failure.New(reason, "").At(failure.LayerTransport)
		r.Failure.From = from
	}
	return r
}

func TestChooseFailure(t *testing.T) {
	hostUnreach := failure.New(failure.HostUnreachable, "icmp 3/1")
	hostUnreach.From = "198.18.0.1"
	silent := failure.New(failure.Timeout, "no replies").At(failure.LayerNetwork)
	cases := []struct {
		name   string
		ping   pingOutcome
		pf     *failure.Failure
		tcp    *handshake.Result
		layer  failure.Layer
		reason failure.Reason
		from   string
	}{
		{"ping works, reset", pingOK, nil, tcpResult(handshake.Closed, failure.Reset, ""), failure.LayerTransport, failure.Reset, ""},
		{"ping works, SYN dropped", pingOK, nil, tcpResult(handshake.Filtered, failure.Timeout, ""), failure.LayerTransport, failure.Timeout, ""},
		{"ping works, firewall rejects", pingOK, nil, tcpResult(handshake.Filtered, failure.AdminProhibited, "198.18.0.1"), failure.LayerTransport, failure.AdminProhibited, "198.18.0.1"},
		{"ping works, TCP unreachable", pingOK, nil, tcpResult(handshake.Unreachable, failure.HostUnreachable, "198.18.0.1"), failure.LayerTransport, failure.HostUnreachable, "198.18.0.1"},
		{"ping unreachable, TCP silent", pingICMP, hostUnreach, tcpResult(handshake.Filtered, failure.Timeout, ""), failure.LayerNetwork, failure.HostUnreachable, "198.18.0.1"},
		{"ping unreachable, TCP unreachable", pingICMP, hostUnreach, tcpResult(handshake.Unreachable, failure.HostUnreachable, "198.18.0.1"), failure.LayerNetwork, failure.HostUnreachable, "198.18.0.1"},
		{"all silent", pingSilent, silent, tcpResult(handshake.Filtered, failure.Timeout, ""), failure.LayerNetwork, failure.Timeout, ""},
		{"ping silent, TCP rejected", pingSilent, silent, tcpResult(handshake.Filtered, failure.AdminProhibited, "198.18.0.1"), failure.LayerTransport, failure.AdminProhibited, "198.18.0.1"},
		{"ping silent, TCP loops", pingSilent, silent, tcpResult(handshake.Unreachable, failure.TTLExceeded, "198.18.2.2"), failure.LayerNetwork, failure.TTLExceeded, "198.18.2.2"},
		{"ping silent, reset: the host is up", pingSilent, silent, tcpResult(handshake.Closed, failure.Reset, ""), failure.LayerTransport, failure.Reset, ""},
		{"no ping, SYN dropped", pingSkipped, nil, tcpResult(handshake.Filtered, failure.Timeout, ""), failure.LayerTransport, failure.Timeout, ""},
		{"no ping, unreachable", pingSkipped, nil, tcpResult(handshake.Unreachable, failure.NetUnreachable, "198.18.0.1"), failure.LayerNetwork, failure.NetUnreachable, "198.18.0.1"},
	}
	for _, c := range cases {
		f := chooseFailure(c.ping, c.pf, c.tcp)
		if f.Layer != c.layer || f.Reason != c.reason || f.From != c.from {
			t.Errorf("%s: got %+v, want %s/%s from %q", c.name, f, c.layer, c.reason, c.from)
		}
	}
	// The inputs are not changed.
	if hostUnreach.Layer != failure.LayerNetwork || silent.Layer != failure.LayerNetwork {
		t.Fatal("chooseFailure modified its input")
	}
}

func hop(ttl int, from string, reason failure.Reason) Hop {
	h := Hop{TTL: ttl}
	if from != "" {
		h.From = netip.MustParseAddr(from)
	}
	switch reason {
	case "":
	case "reply":
		h.Reply = true
	default:
		h.Failure = failure.New(reason, "")
		h.Message = string(reason)
	}
	return h
}

func TestExplain(t *testing.T) {
	onLink := &route.Route{Dst: netip.MustParseAddr("198.18.0.99"), Interface: "eth0", Src: netip.MustParseAddr("198.18.0.2")}
	gwRoute := &route.Route{Dst: netip.MustParseAddr("198.18.1.10"), Interface: "eth0", Gateway: netip.MustParseAddr("198.18.0.1")}
	loopPath := &Path{Hops: []Hop{hop(1, "198.18.0.1", failure.TTLExceeded), hop(2, "198.18.2.2", failure.TTLExceeded), hop(3, "198.18.0.1", failure.TTLExceeded)}}
	arpPath := &Path{Hops: []Hop{hop(1, "198.18.0.1", failure.TTLExceeded), hop(2, "198.18.0.1", failure.HostUnreachable)}}
	routePath := &Path{Hops: []Hop{hop(1, "198.18.0.1", failure.HostUnreachable)}}
	ndPath := &Path{Dst: netip.MustParseAddr("2001:db8:1::99"), Hops: []Hop{hop(1, "2001:db8::1", failure.TTLExceeded), hop(2, "2001:db8::1", failure.HostUnreachable)}}
	silentPath := &Path{Hops: []Hop{hop(1, "198.18.0.1", failure.TTLExceeded), hop(2, "", "")}}
	from := func(r failure.Reason, l failure.Layer, addr string) *failure.Failure {
		f := failure.New(r, "").At(l)
		f.From = addr
		return f
	}
	c := sentenceContext{host: "web", port: 443}
	cases := []struct {
		f    *failure.Failure
		c    sentenceContext
		want string
	}{
		{failure.New(failure.NXDomain, ""), c, "web does not resolve: the name does not exist (NXDOMAIN)"},
		{failure.New(failure.NoRoute, ""), c, "this machine has no route to web"},
		{failure.New(failure.NeighborUnresolved, ""), sentenceContext{host: "198.18.0.99", route: onLink},
			"198.18.0.99, on this machine's own link, does not answer ARP on eth0: it is down, or not on this link"},
		{failure.New(failure.NeighborUnresolved, ""), sentenceContext{host: "web", route: gwRoute},
			"the gateway 198.18.0.1 does not answer ARP on eth0"},
		{from(failure.TTLExceeded, failure.LayerNetwork, "198.18.2.2"), sentenceContext{host: "web", path: loopPath},
			"routing loop near 198.18.2.2: packets go round 198.18.0.1 → 198.18.2.2 → 198.18.0.1"},
		{from(failure.HostUnreachable, failure.LayerNetwork, "198.18.0.1"), sentenceContext{host: "web", path: arpPath},
			"router 198.18.0.1 cannot deliver to web: no answer to its ARP"},
		{from(failure.HostUnreachable, failure.LayerNetwork, "198.18.0.1"), sentenceContext{host: "web", path: routePath},
			"router 198.18.0.1 has no usable route to web: it rejects the packets at once"},
		{from(failure.HostUnreachable, failure.LayerNetwork, "198.18.0.1"), c, "router 198.18.0.1 reports web unreachable"},
		{from(failure.AdminProhibited, failure.LayerTransport, "198.18.0.1"), c, "firewall 198.18.0.1 rejects connections to port 443"},
		{from(failure.AdminProhibited, failure.LayerNetwork, "198.18.0.1"), c, "firewall 198.18.0.1 rejects the traffic to web"},
		{failure.New(failure.Reset, ""), c, "host is up; nothing listens on port 443"},
		{failure.New(failure.Timeout, ""), c, "dropped silently: a firewall between you and web drops connections to port 443"},
		{failure.New(failure.Timeout, "").At(failure.LayerNetwork), sentenceContext{host: "web", path: silentPath},
			"dropped silently: a firewall between you and web; packets stop after hop 1 (198.18.0.1)"},
		{failure.New(failure.CertExpired, `"CN=web" expired`), c, `a certificate in the chain has expired: "CN=web" expired`},
		// Only the AAAA query failed: the name does resolve.
		{failure.New(failure.ServFail, ""), sentenceContext{host: "web", rtype: "AAAA"},
			"the AAAA query for web fails: the resolver could not answer (SERVFAIL)"},
		{failure.New(failure.NoAddress, unusableDetail([]netip.Addr{netip.IPv4Unspecified()})), c,
			"web does not resolve: the resolver answers 0.0.0.0, the answer DNS filters give to names they block"},
		// A name is shown with the family's address.
		{from(failure.NetUnreachable, failure.LayerNetwork, "198.18.0.1"), sentenceContext{host: "web", addr: netip.MustParseAddr("198.18.1.10")},
			"router 198.18.0.1 has no route to the network of web (198.18.1.10)"},
		{from(failure.HostUnreachable, failure.LayerNetwork, "2001:db8::1"), sentenceContext{host: "2001:db8:1::99", path: ndPath},
			"router 2001:db8::1 cannot deliver to 2001:db8:1::99: no answer to its neighbour discovery"},
		// This machine's own firewall.
		{from(failure.AdminProhibited, failure.LayerTransport, "198.18.0.2"), sentenceContext{host: "web", port: 443, route: onLink},
			"this machine's own firewall rejects connections to port 443"},
		{from(failure.AdminProhibited, failure.LayerNetwork, "this machine"), c,
			"this machine refuses to send to web: its own firewall rules reject the packets"},
		// Without ping, a silent handshake may be a host that is down.
		{failure.New(failure.Timeout, ""), sentenceContext{host: "web", port: 443, noPing: true},
			"drops connections to port 443, or the host is down (without ping there is no telling)"},
		{failure.New(failure.HTTPError, "HTTP/1.1 503 Service Unavailable"), c, "the application answers with an error: HTTP/1.1 503"},
	}
	for _, tc := range cases {
		if got := explain(tc.f, tc.c); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q does not contain %q", tc.f.Reason, got, tc.want)
		}
	}
}

func TestConclude(t *testing.T) {
	ok := func(fam string) *FamilyReport {
		return &FamilyReport{Family: fam, Verdict: Healthy, Summary: "works"}
	}
	bad := func(fam, summary string) *FamilyReport {
		f := &FamilyReport{Family: fam}
		f.fail(failure.New(failure.Timeout, ""), summary)
		return f
	}
	cases := []struct {
		fams     []*FamilyReport
		verdict  Verdict
		summary  string
		deciding string
	}{
		{[]*FamilyReport{ok("ipv4")}, Healthy, "works", "ipv4"},
		{[]*FamilyReport{ok("ipv4"), ok("ipv6")}, Healthy, "over IPv4 and IPv6: works", "ipv4"},
		{[]*FamilyReport{ok("ipv4"), bad("ipv6", "dropped")}, Degraded, "IPv6 fails while IPv4 works: dropped", "ipv6"},
		{[]*FamilyReport{bad("ipv4", "reset"), ok("ipv6")}, Degraded, "IPv4 fails while IPv6 works: reset", "ipv4"},
		{[]*FamilyReport{bad("ipv4", "reset"), bad("ipv6", "reset")}, Failed, "reset (over IPv4 and IPv6)", "ipv4"},
		{[]*FamilyReport{bad("ipv4", "a"), bad("ipv6", "b")}, Failed, "IPv4: a; IPv6: b", "ipv4"},
	}
	for _, c := range cases {
		r := &Report{Families: c.fams}
		r.conclude()
		if r.Verdict != c.verdict || r.Summary != c.summary || r.Deciding().Family != c.deciding ||
			(c.verdict != Healthy) != (r.Failure != nil) {
			t.Errorf("got %s %q deciding %s, want %s %q %s", r.Verdict, r.Summary, r.Deciding().Family, c.verdict, c.summary, c.deciding)
		}
	}
}
