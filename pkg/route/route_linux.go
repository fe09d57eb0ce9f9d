package route

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Lookup asks the kernel (over netlink, as `ip route get` does) which
// route a packet to dst would take. A missing, unreachable or prohibited
// route is a *failure.Failure with reason no-route; a route out of an
// interface that is down is returned with LinkUp false.
//
// An address with a zone (fe80::1%eth0) is looked up on that interface.
// A broadcast or multicast route is an input error: no TCP service has
// such an address.
func Lookup(dst netip.Addr) (*Route, error) {
	r, err := getRoute(dst)
	if err != nil {
		return nil, err
	}
	if link, err := netlink.LinkByIndex(r.InterfaceIndex); err == nil {
		attrs := link.Attrs()
		r.Interface = attrs.Name
		r.LinkUp = attrs.OperState == netlink.OperUp || attrs.OperState == netlink.OperUnknown
		if attrs.Flags&net.FlagUp == 0 {
			r.LinkUp = false
		}
	}
	return r, nil
}

// getRoute is Lookup without the interface's name and state, which cost a
// second netlink request.
func getRoute(dst netip.Addr) (*Route, error) {
	opts := &netlink.RouteGetOptions{}
	if z := dst.Zone(); z != "" {
		if i, err := strconv.Atoi(z); err == nil {
			opts.OifIndex = i
		} else {
			opts.Oif = z
		}
	}
	routes, err := netlink.RouteGetWithOptions(net.IP(dst.AsSlice()), opts)
	if err != nil {
		var errno unix.Errno
		if errors.As(err, &errno) {
			switch errno {
			case unix.ENETUNREACH, unix.EHOSTUNREACH, unix.EACCES, unix.EPERM, unix.EINVAL:
				return nil, failure.New(failure.NoRoute, fmt.Sprintf("the kernel has no usable route to %s (%s)", dst, errno.Error()))
			}
		}
		return nil, failure.Localf(err, "route lookup for %s: %v", dst, err)
	}
	if len(routes) == 0 {
		return nil, failure.New(failure.NoRoute, "the kernel returned no route to "+dst.String())
	}
	rt := routes[0]
	switch rt.Type {
	case unix.RTN_BROADCAST:
		return nil, failure.Inputf("%s is a broadcast address here: a TCP service has one host's address", dst)
	case unix.RTN_MULTICAST:
		return nil, failure.Inputf("%s is a multicast address: a TCP service has one host's address", dst)
	}
	r := &Route{Dst: dst, InterfaceIndex: rt.LinkIndex, Local: rt.Type == unix.RTN_LOCAL}
	if a, ok := netip.AddrFromSlice(rt.Src); ok {
		r.Src = a.Unmap()
	}
	if a, ok := netip.AddrFromSlice(rt.Gw); ok {
		r.Gateway = a.Unmap()
	}
	return r, nil
}

// LookupNeighbor reads the neighbour-cache state of the route's next hop.
func LookupNeighbor(r *Route) (NeighborState, error) {
	if r.Local || (r.Interface == "" && r.InterfaceIndex == 0) {
		return "NOARP", nil
	}
	index := r.InterfaceIndex
	if index == 0 {
		link, err := netlink.LinkByName(r.Interface)
		if err != nil {
			return "", failure.Localf(err, "interface %s: %v", r.Interface, err)
		}
		index = link.Attrs().Index
	}
	hop := r.NextHop().WithZone("")
	t, err := readNeighbors(familyOf(hop), index)
	if err != nil {
		return "", failure.Localf(err, "neighbour table of %s: %v", r.Interface, err)
	}
	if st, ok := t.states[neighborKey{index, hop}]; ok {
		return st, nil
	}
	return "NONE", nil
}

// UnresolvedNextHop reports whether the next hop toward dst (dst itself
// when it is on a local link) is a neighbour this machine is still
// trying, or has failed, to resolve with ARP or neighbour discovery, and
// which address that is. Ask it after a probe to dst got no answer: a
// yes means the probe never left this link. An error means the kernel
// could not be asked (or knows no route to dst); it says nothing about
// the neighbour.
func UnresolvedNextHop(dst netip.Addr) (hop netip.Addr, unresolved bool, err error) {
	var c NeighborCheck
	return c.UnresolvedNextHop(dst)
}

// NeighborCheck answers UnresolvedNextHop for many destinations at one
// moment, as at the end of a sweep: it reads each family's neighbour table
// once, on first use, and looks up a destination's route only when that
// table holds an unresolved entry at all. Thousands of silent addresses
// behind a working gateway then cost one table read. A check keeps what
// it read: make a new one for each moment the question is asked. The zero
// value is ready to use; a check is not safe for concurrent use.
type NeighborCheck struct {
	tables [2]*neighborTable // IPv4, IPv6
	errs   [2]error
}

// UnresolvedNextHop is the function UnresolvedNextHop, answered from the
// neighbour tables as the check first read them.
func (c *NeighborCheck) UnresolvedNextHop(dst netip.Addr) (netip.Addr, bool, error) {
	dst = dst.Unmap()
	fi := 0
	if dst.Is6() {
		fi = 1
	}
	if c.tables[fi] == nil && c.errs[fi] == nil {
		c.tables[fi], c.errs[fi] = readNeighbors(familyOf(dst), 0)
	}
	if err := c.errs[fi]; err != nil {
		return netip.Addr{}, false, failure.Localf(err, "neighbour table: %v", err)
	}
	t := c.tables[fi]
	if !t.anyUnresolved {
		return netip.Addr{}, false, nil
	}
	r, err := getRoute(dst)
	if err != nil {
		return netip.Addr{}, false, err
	}
	if r.Local {
		return netip.Addr{}, false, nil
	}
	hop := r.NextHop().WithZone("")
	return hop, t.states[neighborKey{r.InterfaceIndex, hop}].Unresolved(), nil
}

// neighborTable is a copy of the kernel's neighbour entries of one family.
type neighborTable struct {
	states        map[neighborKey]NeighborState
	anyUnresolved bool
}

type neighborKey struct {
	link int
	addr netip.Addr
}

func familyOf(a netip.Addr) int {
	if a.Unmap().Is4() {
		return netlink.FAMILY_V4
	}
	return netlink.FAMILY_V6
}

// dumpAttempts bounds the re-reads of a neighbour table whose dump the
// kernel interrupted because the table changed meanwhile.
const dumpAttempts = 3

// readNeighbors reads the neighbour entries of family on the interface
// with index link (0: on every interface). A dump the kernel keeps
// interrupting is used as it came on the last attempt: it holds most of
// the entries, and a missing one reads as "no entry".
func readNeighbors(family, link int) (*neighborTable, error) {
	var (
		neighs []netlink.Neigh
		err    error
	)
	for range dumpAttempts {
		neighs, err = netlink.NeighList(link, family)
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return nil, err
	}
	t := &neighborTable{states: make(map[neighborKey]NeighborState, len(neighs))}
	for _, n := range neighs {
		a, ok := netip.AddrFromSlice(n.IP)
		if !ok {
			continue
		}
		st := neighborStateName(n.State)
		t.states[neighborKey{n.LinkIndex, a.Unmap()}] = st
		t.anyUnresolved = t.anyUnresolved || st.Unresolved()
	}
	return t, nil
}

func neighborStateName(s int) NeighborState {
	switch {
	case s&netlink.NUD_PERMANENT != 0:
		return "PERMANENT"
	case s&netlink.NUD_NOARP != 0:
		return "NOARP"
	case s&netlink.NUD_REACHABLE != 0:
		return "REACHABLE"
	case s&netlink.NUD_STALE != 0:
		return "STALE"
	case s&netlink.NUD_DELAY != 0:
		return "DELAY"
	case s&netlink.NUD_PROBE != 0:
		return "PROBE"
	case s&netlink.NUD_INCOMPLETE != 0:
		return "INCOMPLETE"
	case s&netlink.NUD_FAILED != 0:
		return "FAILED"
	}
	return "NONE"
}
