package netlab

import (
	"fmt"
	"net/netip"
)

// The address plan. Every lab uses the same addresses: namespaces isolate
// labs from each other, so parallel tests never collide. Everything lies in
// 198.18.0.0/15 (RFC 2544 benchmarking) and 2001:db8::/32 (RFC 3849
// documentation), which no real network routes.
var (
	// ClientNet is the link between the client and the router.
	ClientNet4 = netip.MustParsePrefix("198.18.0.0/24")
	ClientNet6 = netip.MustParsePrefix("2001:db8::/64")

	// ServerNet is the router's bridge with the server hosts on it.
	ServerNet4 = netip.MustParsePrefix("198.18.1.0/24")
	ServerNet6 = netip.MustParsePrefix("2001:db8:1::/64")

	// TransitNet links the router to the second router of a routing loop.
	TransitNet4 = netip.MustParsePrefix("198.18.2.0/24")
	TransitNet6 = netip.MustParsePrefix("2001:db8:2::/64")

	// LoopNet is routed in a circle between the two routers once
	// Lab.AddRoutingLoop has been called: packets to it come back as ICMP
	// time exceeded.
	LoopNet4 = netip.MustParsePrefix("198.18.3.0/24")
	LoopNet6 = netip.MustParsePrefix("2001:db8:3::/64")

	// UnreachableNet has an "unreachable" route on the router: IPv4 gets
	// ICMP host unreachable (code 1), IPv6 ICMPv6 no route (code 0).
	UnreachableNet4 = netip.MustParsePrefix("198.18.4.0/24")
	UnreachableNet6 = netip.MustParsePrefix("2001:db8:4::/64")

	// ProhibitNet has a "prohibit" route on the router: IPv4 gets ICMP
	// administratively prohibited (code 13), IPv6 ICMPv6 code 1.
	ProhibitNet4 = netip.MustParsePrefix("198.18.5.0/24")
	ProhibitNet6 = netip.MustParsePrefix("2001:db8:5::/64")

	// NoRouteNet is never routed by the router, which has no default
	// route: packets to it get ICMP net unreachable (ICMPv6 no route).
	NoRouteNet4 = netip.MustParsePrefix("198.19.0.0/16")
	NoRouteNet6 = netip.MustParsePrefix("2001:db8:ff00::/40")

	// FreeNet is left to tests, for example for Node.AddLocalPrefix. Like
	// NoRouteNet, the router has no route to it until a test adds one.
	FreeNet4 = netip.MustParsePrefix("198.18.128.0/17")
	FreeNet6 = netip.MustParsePrefix("2001:db8:8000::/34")
)

// Addresses of the fixed nodes.
var (
	Client4 = netip.MustParseAddr("198.18.0.2")
	Client6 = netip.MustParseAddr("2001:db8::2")

	// RouterClientSide is the client's default gateway.
	RouterClientSide4 = netip.MustParseAddr("198.18.0.1")
	RouterClientSide6 = netip.MustParseAddr("2001:db8::1")

	// RouterServerSide is the servers' default gateway (on the bridge).
	RouterServerSide4 = netip.MustParseAddr("198.18.1.1")
	RouterServerSide6 = netip.MustParseAddr("2001:db8:1::1")

	// RouterTransit and Router2Transit are the two ends of the link
	// between the router and the second router.
	RouterTransit4  = netip.MustParseAddr("198.18.2.1")
	RouterTransit6  = netip.MustParseAddr("2001:db8:2::1")
	Router2Transit4 = netip.MustParseAddr("198.18.2.2")
	Router2Transit6 = netip.MustParseAddr("2001:db8:2::2")

	// NoHost is on the server subnet but no host owns it: the router's
	// ARP (neighbour discovery) fails and it answers with ICMP host
	// unreachable (ICMPv6 address unreachable).
	NoHost4 = netip.MustParseAddr("198.18.1.99")
	NoHost6 = netip.MustParseAddr("2001:db8:1::99")

	// NoNeighbor is on the client's own subnet but no host owns it: the
	// client's own ARP fails (neighbor-unresolved). The client's kernel
	// then reports host unreachable from the client's own address.
	NoNeighbor4 = netip.MustParseAddr("198.18.0.99")
	NoNeighbor6 = netip.MustParseAddr("2001:db8::99")

	// DNS addresses of the lab's DNS host (see Lab.StartDNS): dnsmasq,
	// the answer-code responder and a resolver address that never answers.
	DNS4       = netip.MustParseAddr("198.18.1.53")
	DNS6       = netip.MustParseAddr("2001:db8:1::53")
	RcodeDNS4  = netip.MustParseAddr("198.18.1.54")
	RcodeDNS6  = netip.MustParseAddr("2001:db8:1::54")
	SilentDNS4 = netip.MustParseAddr("198.18.1.55")
	SilentDNS6 = netip.MustParseAddr("2001:db8:1::55")
)

// LabNet4 and LabNet6 hold every address the lab may use.
var (
	LabNet4 = netip.MustParsePrefix("198.18.0.0/15")
	LabNet6 = netip.MustParsePrefix("2001:db8::/32")
)

// firstServerOctet is the last octet of the first server's IPv4 address.
const firstServerOctet = 10

// reservedOctets are server-subnet host numbers that AddServer skips.
var reservedOctets = map[int]bool{53: true, 54: true, 55: true, 99: true}

// serverAddrs returns the IPv4 and IPv6 addresses for server-subnet host
// number octet: 198.18.1.<octet> and 2001:db8:1::<octet> (the IPv6 group
// written with the same decimal digits, so .10 pairs with ::10).
func serverAddrs(octet int) (netip.Addr, netip.Addr) {
	v4 := ServerNet4.Addr().As4()
	v4[3] = byte(octet)
	v6 := netip.MustParseAddr(fmt.Sprintf("2001:db8:1::%d", octet))
	return netip.AddrFrom4(v4), v6
}

// inLab reports whether every address of p lies in the lab's ranges.
func inLab(p netip.Prefix) bool {
	if p.Addr().Is4() {
		return LabNet4.Bits() <= p.Bits() && LabNet4.Contains(p.Addr())
	}
	return LabNet6.Bits() <= p.Bits() && LabNet6.Contains(p.Addr())
}

// withLen returns the prefix addr/bits as the string ip(8) expects.
func withLen(a netip.Addr, p netip.Prefix) string {
	return netip.PrefixFrom(a, p.Bits()).String()
}
