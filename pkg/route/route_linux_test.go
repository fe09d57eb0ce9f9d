package route

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/netdiag/netdiag/internal/netlab"
	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/vishvananda/netlink"
)

// nudge sends one UDP datagram to dst from inside the namespace so that
// the kernel resolves (or fails to resolve) the next hop.
func nudge(t *testing.T, dst netip.Addr) {
	t.Helper()
	c, err := net.Dial("udp", netip.AddrPortFrom(dst, 9).String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("x"))
	c.Close()
}

func TestNeighborStateName(t *testing.T) {
	cases := map[int]NeighborState{
		netlink.NUD_PERMANENT: "PERMANENT", netlink.NUD_NOARP: "NOARP", netlink.NUD_REACHABLE: "REACHABLE",
		netlink.NUD_STALE: "STALE", netlink.NUD_DELAY: "DELAY", netlink.NUD_PROBE: "PROBE",
		netlink.NUD_INCOMPLETE: "INCOMPLETE", netlink.NUD_FAILED: "FAILED", netlink.NUD_NONE: "NONE",
	}
	for nud, want := range cases {
		if got := neighborStateName(nud); got != want {
			t.Errorf("state %#x: %s, want %s", nud, got, want)
		}
	}
}

func TestLookupRouteAndNeighbor(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	lab := netlab.New(t, netlab.Config{Servers: 1})
	srv := lab.Servers[0]

	err := lab.Client.Do(func() error {
		for _, dst := range []netip.Addr{srv.Addr4, srv.Addr6} {
			r, err := Lookup(dst)
			if err != nil {
				t.Errorf("%s: %v", dst, err)
				continue
			}
			wantGW := netlab.RouterClientSide4
			if dst.Is6() {
				wantGW = netlab.RouterClientSide6
			}
			if r.Interface != "eth0" || !r.LinkUp || r.Gateway != wantGW || r.NextHop() != wantGW || r.Local {
				t.Errorf("%s: route %+v", dst, r)
			}
			nudge(t, dst)
		}
		time.Sleep(50 * time.Millisecond)
		for _, dst := range []netip.Addr{srv.Addr4, srv.Addr6} {
			r, _ := Lookup(dst)
			st, err := LookupNeighbor(r)
			if err != nil || !st.Resolved() {
				t.Errorf("%s: neighbour of gateway %s: %s, %v", dst, r.Gateway, st, err)
			}
			if hop, ok, err := UnresolvedNextHop(dst); ok || err != nil {
				t.Errorf("%s: behind a resolved gateway, reported unresolved next hop %s (%v)", dst, hop, err)
			}
		}

		// On-link addresses nobody answers for: ARP and ND fail.
		for _, dst := range []netip.Addr{netlab.NoNeighbor4, netlab.NoNeighbor6} {
			r, err := Lookup(dst)
			if err != nil || r.Gateway.IsValid() || r.NextHop() != dst {
				t.Fatalf("%s: on-link route %+v %v", dst, r, err)
			}
			nudge(t, dst)
		}
		time.Sleep(700 * time.Millisecond)
		for _, dst := range []netip.Addr{netlab.NoNeighbor4, netlab.NoNeighbor6} {
			r, _ := Lookup(dst)
			st, err := LookupNeighbor(r)
			if err != nil || st.Resolved() || !st.Unresolved() {
				t.Errorf("%s: neighbour state %s, %v; want FAILED or INCOMPLETE", dst, st, err)
			}
			if hop, ok, err := UnresolvedNextHop(dst); !ok || hop != dst || err != nil {
				t.Errorf("%s: unresolved next hop %s %v %v, want the address itself", dst, hop, ok, err)
			}
		}

		r, err := Lookup(netlab.Client4)
		if err != nil || !r.Local {
			t.Errorf("own address: %+v %v", r, err)
		}
		if _, ok, err := UnresolvedNextHop(netlab.Client4); ok || err != nil {
			t.Errorf("own address: unresolved %v, %v", ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A gateway on the client's link that nobody owns, solicited at the
	// kernel's default pace (three times, a second apart): while the
	// kernel still solicits it, the destinations behind it have an
	// unresolved next hop, the gateway. One check answers for all of
	// them from one reading of the tables.
	for _, fam := range []string{"ipv4", "ipv6"} {
		lab.Client.Sysctl(t, "net."+fam+".neigh.eth0.retrans_time_ms", "1000")
	}
	deadGW4, deadGW6 := netlab.NoNeighbor4.Prev(), netlab.NoNeighbor6.Prev()
	behind4, behind6 := netlab.FreeNet4.Addr().Next(), netlab.FreeNet6.Addr().Next()
	lab.Client.IP(t, "route", "add", netlab.FreeNet4.String(), "via", deadGW4.String())
	lab.Client.IP(t, "-6", "route", "add", netlab.FreeNet6.String(), "via", deadGW6.String())
	err = lab.Client.Do(func() error {
		nudge(t, behind4)
		nudge(t, behind6)
		time.Sleep(200 * time.Millisecond)
		var c NeighborCheck
		for _, q := range []struct{ dst, hop netip.Addr }{
			{behind4, deadGW4}, {behind4.Next(), deadGW4}, {behind6, deadGW6}, {behind6.Next(), deadGW6},
		} {
			if hop, ok, err := c.UnresolvedNextHop(q.dst); !ok || hop != q.hop || err != nil {
				t.Errorf("%s behind a gateway being solicited: unresolved next hop %s %v %v, want %s", q.dst, hop, ok, err, q.hop)
			}
		}
		if _, ok, err := c.UnresolvedNextHop(srv.Addr4); ok || err != nil {
			t.Errorf("%s behind the working gateway: unresolved %v %v", srv.Addr4, ok, err)
		}

		// Once the kernel has given up, an IPv4 route still leads to
		// the failed gateway; IPv6 prefers a router whose neighbour entry
		// has not failed (RFC 4191's reachability check), here the
		// default router, and the next hop is resolved again.
		time.Sleep(3200 * time.Millisecond)
		if hop, ok, err := UnresolvedNextHop(behind4); !ok || hop != deadGW4 || err != nil {
			t.Errorf("%s behind a failed gateway: unresolved next hop %s %v %v", behind4, hop, ok, err)
		}
		if r, err := Lookup(behind6); err != nil || r.Gateway != netlab.RouterClientSide6 {
			t.Errorf("%s behind a failed IPv6 gateway: route %+v %v, want the default router", behind6, r, err)
		}
		if hop, ok, err := UnresolvedNextHop(behind6); ok || err != nil {
			t.Errorf("%s behind a failed IPv6 gateway: unresolved next hop %s %v", behind6, hop, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Without a default route the kernel has no route at all.
	lab.Client.IP(t, "route", "del", "default")
	lab.Client.IP(t, "-6", "route", "del", "default")
	err = lab.Client.Do(func() error {
		for _, dst := range []netip.Addr{srv.Addr4, srv.Addr6} {
			_, err := Lookup(dst)
			var f *failure.Failure
			if !errors.As(err, &f) || f.Reason != failure.NoRoute {
				t.Errorf("%s without default route: %v, want no-route", dst, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// An interface that is down.
	lab.Client.IP(t, "route", "add", "default", "via", netlab.RouterClientSide4.String())
	lab.Client.IP(t, "link", "set", "eth0", "down")
	err = lab.Client.Do(func() error {
		r, err := Lookup(srv.Addr4)
		if err == nil && r.LinkUp {
			t.Errorf("route over a downed interface reported up: %+v", r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
