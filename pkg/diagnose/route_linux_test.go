package diagnose

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/netdiag/netdiag/internal/netlab"
	"github.com/netdiag/netdiag/pkg/failure"
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

func TestLookupRouteAndNeighbor(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	lab := netlab.New(t, netlab.Config{Servers: 1})
	srv := lab.Servers[0]

	err := lab.Client.Do(func() error {
		for _, dst := range []netip.Addr{srv.Addr4, srv.Addr6} {
			r, err := LookupRoute(dst)
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
			r, _ := LookupRoute(dst)
			st, err := LookupNeighbor(r)
			if err != nil || !st.Resolved() {
				t.Errorf("%s: neighbour of gateway %s: %s, %v", dst, r.Gateway, st, err)
			}
		}

		// On-link addresses nobody answers for: ARP and ND fail.
		for _, dst := range []netip.Addr{netlab.NoNeighbor4, netlab.NoNeighbor6} {
			r, err := LookupRoute(dst)
			if err != nil || r.Gateway.IsValid() || r.NextHop() != dst {
				t.Fatalf("%s: on-link route %+v %v", dst, r, err)
			}
			nudge(t, dst)
		}
		time.Sleep(700 * time.Millisecond)
		for _, dst := range []netip.Addr{netlab.NoNeighbor4, netlab.NoNeighbor6} {
			r, _ := LookupRoute(dst)
			st, err := LookupNeighbor(r)
			if err != nil || st.Resolved() || (st != "FAILED" && st != "INCOMPLETE") {
				t.Errorf("%s: neighbour state %s, %v; want FAILED or INCOMPLETE", dst, st, err)
			}
		}

		r, err := LookupRoute(netlab.Client4)
		if err != nil || !r.Local {
			t.Errorf("own address: %+v %v", r, err)
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
			_, err := LookupRoute(dst)
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
		r, err := LookupRoute(srv.Addr4)
		if err == nil && r.LinkUp {
			t.Errorf("route over a downed interface reported up: %+v", r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
