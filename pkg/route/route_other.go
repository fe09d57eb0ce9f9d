//go:build !linux

package route

import (
	"errors"
	"net/netip"
	"runtime"

	"github.com/netdiag/netdiag/pkg/failure"
)

var errUnsupported = errors.New("route and neighbour lookups are not supported on " + runtime.GOOS)

func unsupported() error { return failure.Localf(errUnsupported, "%v", errUnsupported) }

// Lookup is not supported on this platform.
func Lookup(dst netip.Addr) (*Route, error) { return nil, unsupported() }

// LookupNeighbor is not supported on this platform.
func LookupNeighbor(r *Route) (NeighborState, error) { return "", unsupported() }

// NeighborCheck answers UnresolvedNextHop for many destinations; on this
// platform it cannot.
type NeighborCheck struct{}

// UnresolvedNextHop is not supported on this platform.
func (c *NeighborCheck) UnresolvedNextHop(dst netip.Addr) (netip.Addr, bool, error) {
	return netip.Addr{}, false, unsupported()
}

// UnresolvedNextHop is not supported on this platform.
func UnresolvedNextHop(dst netip.Addr) (netip.Addr, bool, error) {
	return netip.Addr{}, false, unsupported()
}
