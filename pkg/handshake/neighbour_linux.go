package handshake

import (
	"net"
	"net/netip"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/vishvananda/netlink"
)

// unresolvedNeighbour reports whether the next hop toward dst (dst
// itself when it is on a local link) is a neighbour this machine is
// still trying, or has failed, to resolve with ARP or neighbour
// discovery. The kernel gives up on a neighbour after 3 s by default,
// later than a probe's usual timeout, and only then reports the failure
// to the socket; until then its entry stays incomplete. A probe that
// timed out with the next hop in that state never left this link: it
// was not dropped by a firewall.
func unresolvedNeighbour(dst netip.Addr) (netip.Addr, bool) {
	routes, err := netlink.RouteGet(net.IP(dst.WithZone("").AsSlice()))
	if err != nil || len(routes) == 0 {
		return netip.Addr{}, false
	}
	rt := routes[0]
	hop := dst.WithZone("")
	if gw, ok := netip.AddrFromSlice(rt.Gw); ok && rt.Gw != nil {
		hop = gw.Unmap()
	}
	family := netlink.FAMILY_V4
	if hop.Is6() {
		family = netlink.FAMILY_V6
	}
	neighs, err := netlink.NeighList(rt.LinkIndex, family)
	if err != nil {
		return netip.Addr{}, false
	}
	for _, n := range neighs {
		a, ok := netip.AddrFromSlice(n.IP)
		if !ok || a.Unmap() != hop {
			continue
		}
		return hop, n.State&(netlink.NUD_INCOMPLETE|netlink.NUD_FAILED) != 0
	}
	return netip.Addr{}, false
}

// timedOut fills r for a probe that got no answer: filtered (reason
// timeout), or unreachable (neighbor-unresolved) when the next hop never
// answered ARP or neighbour discovery.
func (r *Result) timedOut(detail string) {
	if hop, ok := unresolvedNeighbour(r.Target.Addr); ok {
		r.failed(failure.NeighborUnresolved, "no ARP or neighbour discovery answer from "+hop.String())
		return
	}
	r.failed(failure.Timeout, detail)
}
