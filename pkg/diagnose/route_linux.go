package diagnose

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

// LookupRoute asks the kernel (over netlink, as `ip route get` does) which
// route a packet to dst would take. A missing, unreachable or prohibited
// route is a *failure.Failure with reason no-route; a route out of an
// interface that is down is returned with LinkUp false.
//
// An address with a zone (fe80::1%eth0) is looked up on that interface.
// A broadcast or multicast route is an input error: no TCP service has
// such an address.
func LookupRoute(dst netip.Addr) (*Route, error) {
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
	r := &Route{Dst: dst}
	if a, ok := netip.AddrFromSlice(rt.Src); ok {
		r.Src = a.Unmap()
	}
	if a, ok := netip.AddrFromSlice(rt.Gw); ok {
		r.Gateway = a.Unmap()
	}
	r.Local = rt.Type == unix.RTN_LOCAL
	if link, err := netlink.LinkByIndex(rt.LinkIndex); err == nil {
		attrs := link.Attrs()
		r.Interface = attrs.Name
		r.LinkUp = attrs.OperState == netlink.OperUp || attrs.OperState == netlink.OperUnknown
		if attrs.Flags&net.FlagUp == 0 {
			r.LinkUp = false
		}
	}
	return r, nil
}

// LookupNeighbor reads the neighbour-cache state of the route's next hop.
func LookupNeighbor(r *Route) (NeighborState, error) {
	if r.Local || r.Interface == "" {
		return "NOARP", nil
	}
	link, err := netlink.LinkByName(r.Interface)
	if err != nil {
		return "", failure.Localf(err, "interface %s: %v", r.Interface, err)
	}
	family := unix.AF_INET
	if r.NextHop().Is6() {
		family = unix.AF_INET6
	}
	neighs, err := netlink.NeighList(link.Attrs().Index, family)
	if err != nil {
		return "", failure.Localf(err, "neighbour table of %s: %v", r.Interface, err)
	}
	hop := r.NextHop().WithZone("")
	for _, n := range neighs {
		if a, ok := netip.AddrFromSlice(n.IP); ok && a.Unmap() == hop {
			return neighborStateName(n.State), nil
		}
	}
	return "NONE", nil
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
