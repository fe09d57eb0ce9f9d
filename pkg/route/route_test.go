package route

import (
	"net/netip"
	"testing"
)

func TestNeighborStateResolved(t *testing.T) {
	for _, c := range []struct {
		s                    NeighborState
		resolved, unresolved bool
	}{
		{"REACHABLE", true, false}, {"STALE", true, false}, {"DELAY", true, false}, {"PROBE", true, false},
		{"PERMANENT", true, false}, {"NOARP", true, false},
		{"INCOMPLETE", false, true}, {"FAILED", false, true},
		{"NONE", false, false}, {"", false, false},
	} {
		if c.s.Resolved() != c.resolved || c.s.Unresolved() != c.unresolved {
			t.Errorf("%q: resolved %v unresolved %v", c.s, c.s.Resolved(), c.s.Unresolved())
		}
	}
}

func TestNextHop(t *testing.T) {
	dst, gw := netip.MustParseAddr("198.18.1.10"), netip.MustParseAddr("198.18.0.1")
	if r := (&Route{Dst: dst, Gateway: gw}); r.NextHop() != gw {
		t.Errorf("via a gateway: next hop %s", r.NextHop())
	}
	if r := (&Route{Dst: dst}); r.NextHop() != dst {
		t.Errorf("on-link: next hop %s", r.NextHop())
	}
}
