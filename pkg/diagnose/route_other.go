//go:build !linux

package diagnose

import (
	"errors"
	"net/netip"
	"runtime"

	"github.com/netdiag/netdiag/pkg/failure"
)

var errRouteUnsupported = errors.New("route and neighbour lookups are not supported on " + runtime.GOOS)

// LookupRoute is not supported on this platform.
func LookupRoute(dst netip.Addr) (*Route, error) {
	return nil, failure.Localf(errRouteUnsupported, "%v", errRouteUnsupported)
}

// LookupNeighbor is not supported on this platform.
func LookupNeighbor(r *Route) (NeighborState, error) {
	return "", failure.Localf(errRouteUnsupported, "%v", errRouteUnsupported)
}
