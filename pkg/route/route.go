// Package route asks the kernel how a packet to an address would leave
// this machine: the route it would take (what `ip route get` prints) and
// the state of the next hop's neighbour entry (what `ip neigh` prints).
//
// The neighbour entry matters after a probe got no answer. The kernel
// resolves a next hop's link-layer address with ARP or neighbour discovery
// before the first packet leaves, and by default gives up only after three
// solicitations a second apart, later than a probe's usual 2 s timeout.
// Until then the packets wait in the kernel: a probe that timed out with
// its next hop still unresolved never left this link, and was not dropped
// by a firewall. UnresolvedNextHop tells that case apart.
//
// The lookups use netlink and work on Linux only; elsewhere every function
// returns a failure.KindLocal error saying so.
package route

import "net/netip"

// Route is the kernel's answer to "how would a packet to Dst leave this
// machine?".
type Route struct {
	Dst netip.Addr
	// Interface is the outgoing interface's name, InterfaceIndex its
	// index and LinkUp its operational state.
	Interface      string
	InterfaceIndex int
	LinkUp         bool
	// Src is the source address the kernel would choose.
	Src netip.Addr
	// Gateway is the next-hop router; invalid when Dst is on-link.
	Gateway netip.Addr
	// Local is true when Dst is one of this machine's own addresses.
	Local bool
}

// NextHop is the address whose link-layer address must be resolved: the
// gateway, or the destination itself when it is on-link.
func (r *Route) NextHop() netip.Addr {
	if r.Gateway.IsValid() {
		return r.Gateway
	}
	return r.Dst
}

// NeighborState is the kernel's neighbour-cache state for a next hop, in
// the words `ip neigh` uses: "REACHABLE", "STALE", "DELAY", "PROBE",
// "INCOMPLETE", "FAILED", "PERMANENT", "NOARP", or "NONE" when there is no
// entry.
type NeighborState string

// Resolved reports whether the state holds a usable link-layer address.
func (s NeighborState) Resolved() bool {
	switch s {
	case "REACHABLE", "STALE", "DELAY", "PROBE", "PERMANENT", "NOARP":
		return true
	}
	return false
}

// Unresolved reports whether the kernel is still soliciting the next hop
// (INCOMPLETE) or has given up on it (FAILED). NONE is neither: without
// an entry, nothing has been tried yet.
func (s NeighborState) Unresolved() bool {
	return s == "INCOMPLETE" || s == "FAILED"
}
