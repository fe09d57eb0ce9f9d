package diagnose

import "net/netip"

// Route is the kernel's answer to "how would a packet to Dst leave this
// machine?" (what `ip route get` prints) plus the state of the next hop's
// neighbour entry (what `ip neigh` prints).
type Route struct {
	Dst netip.Addr
	// Interface is the outgoing interface's name and LinkUp its
	// operational state.
	Interface string
	LinkUp    bool
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
