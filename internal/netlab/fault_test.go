//go:build linux

package netlab_test

import (
	"errors"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/netdiag/netdiag/internal/netlab"
)

var (
	unreach4  icmp.Type = ipv4.ICMPTypeDestinationUnreachable
	unreach6  icmp.Type = ipv6.ICMPTypeDestinationUnreachable
	exceeded4 icmp.Type = ipv4.ICMPTypeTimeExceeded
	exceeded6 icmp.Type = ipv6.ICMPTypeTimeExceeded
	reply4    icmp.Type = ipv4.ICMPTypeEchoReply
	reply6    icmp.Type = ipv6.ICMPTypeEchoReply
)

type echoCase struct {
	name  string
	fault *netlab.Fault
	dst   netip.Addr
	ttl   int
	typ   icmp.Type // nil: nothing may come back
	code  int
	from  netip.Addr
	// slow marks the neighbour failures: they take the router's (or
	// client's) ARP / neighbour discovery time, which must stay well
	// under ping's 2 s timeout.
	slow bool
}

// TestEchoFaults sends one echo request per case from the client and
// checks the ICMP message that comes back, its code and who sent it.
func TestEchoFaults(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	loop := lab.AddRoutingLoop(t)
	r4, r6 := netlab.RouterClientSide4, netlab.RouterClientSide6

	runEchoCases(t, lab, []echoCase{
		{name: "healthy v4", dst: srv.Addr4, typ: reply4, from: srv.Addr4},
		{name: "healthy v6", dst: srv.Addr6, typ: reply6, from: srv.Addr6},
		{name: "drop v4", fault: &netlab.Fault{Action: netlab.Drop, Dst: srv.Addr4, Proto: netlab.ICMP}, dst: srv.Addr4},
		{name: "drop v6", fault: &netlab.Fault{Action: netlab.Drop, Dst: srv.Addr6}, dst: srv.Addr6},
		{name: "admin-prohibited v4", fault: &netlab.Fault{Action: netlab.RejectAdminProhibited, Dst: srv.Addr4}, dst: srv.Addr4, typ: unreach4, code: 13, from: r4},
		{name: "admin-prohibited v6", fault: &netlab.Fault{Action: netlab.RejectAdminProhibited, Dst: srv.Addr6}, dst: srv.Addr6, typ: unreach6, code: 1, from: r6},
		{name: "host-unreachable v4", fault: &netlab.Fault{Action: netlab.RejectHostUnreachable, Dst: srv.Addr4, Proto: netlab.ICMP}, dst: srv.Addr4, typ: unreach4, code: 1, from: r4},
		{name: "host-unreachable v6", fault: &netlab.Fault{Action: netlab.RejectHostUnreachable, Dst: srv.Addr6, Proto: netlab.ICMP}, dst: srv.Addr6, typ: unreach6, code: 3, from: r6},
		{name: "net-unreachable v4", fault: &netlab.Fault{Action: netlab.RejectNetUnreachable, DstNet: netlab.ServerNet4}, dst: srv.Addr4, typ: unreach4, code: 0, from: r4},
		{name: "net-unreachable v6", fault: &netlab.Fault{Action: netlab.RejectNetUnreachable, DstNet: netlab.ServerNet6}, dst: srv.Addr6, typ: unreach6, code: 0, from: r6},
		{name: "port-unreachable v4", fault: &netlab.Fault{Action: netlab.RejectPortUnreachable, Dst: srv.Addr4}, dst: srv.Addr4, typ: unreach4, code: 3, from: r4},
		{name: "port-unreachable v6", fault: &netlab.Fault{Action: netlab.RejectPortUnreachable, Dst: srv.Addr6}, dst: srv.Addr6, typ: unreach6, code: 4, from: r6},
		{name: "both families rejected", fault: &netlab.Fault{Action: netlab.RejectAdminProhibited, Proto: netlab.ICMP}, dst: srv.Addr6, typ: unreach6, code: 1, from: r6},
		{name: "routing loop v4", dst: loop.Target4, typ: exceeded4, code: 0, from: netlab.Router2Transit4},
		{name: "routing loop v6", dst: loop.Target6, typ: exceeded6, code: 0, from: netlab.Router2Transit6},
		{name: "routing loop odd ttl", dst: loop.Target4, ttl: 63, typ: exceeded4, code: 0, from: r4},
		{name: "no host v4", dst: netlab.NoHost4, typ: unreach4, code: 1, from: r4, slow: true},
		{name: "no host v6", dst: netlab.NoHost6, typ: unreach6, code: 3, from: r6, slow: true},
		{name: "no neighbour v4", dst: netlab.NoNeighbor4, typ: unreach4, code: 1, from: netlab.Client4, slow: true},
		{name: "no neighbour v6", dst: netlab.NoNeighbor6, typ: unreach6, code: 3, from: netlab.Client6, slow: true},
	})
}

// TestRouteErrors checks the router's unreachable and prohibit routes and
// the absent route. It has a lab of its own: IPv4 errors for routes are
// limited by the kernel (see the package documentation), and a fresh
// client gets a burst of five.
func TestRouteErrors(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	r4, r6 := netlab.RouterClientSide4, netlab.RouterClientSide6
	runEchoCases(t, lab, []echoCase{
		{name: "unreachable route v4", dst: netlab.UnreachableNet4.Addr().Next(), typ: unreach4, code: 1, from: r4},
		{name: "unreachable route v6", dst: netlab.UnreachableNet6.Addr().Next(), typ: unreach6, code: 0, from: r6},
		{name: "prohibit route v4", dst: netlab.ProhibitNet4.Addr().Next(), typ: unreach4, code: 13, from: r4},
		{name: "prohibit route v6", dst: netlab.ProhibitNet6.Addr().Next(), typ: unreach6, code: 1, from: r6},
		{name: "no route v4", dst: netlab.NoRouteNet4.Addr().Next(), typ: unreach4, code: 0, from: r4},
		{name: "no route v6", dst: netlab.NoRouteNet6.Addr().Next(), typ: unreach6, code: 0, from: r6},
	})
	// The burst is spent after two more; IPv6 has no such limit.
	var answered4, answered6 int
	for range 6 {
		if _, err := echo(t, lab.Client, netlab.UnreachableNet4.Addr().Next(), 0, 100*time.Millisecond); err == nil {
			answered4++
		}
		if _, err := echo(t, lab.Client, netlab.UnreachableNet6.Addr().Next(), 0, 100*time.Millisecond); err == nil {
			answered6++
		}
	}
	t.Logf("of 6 rapid probes after 3 route errors, IPv4 got %d errors back, IPv6 %d", answered4, answered6)
	if answered6 != 6 {
		t.Errorf("IPv6 route errors are limited: %d of 6", answered6)
	}
}

func runEchoCases(t *testing.T, lab *netlab.Lab, cases []echoCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.fault != nil {
				lab.Router.AddFault(t, *c.fault)
			}
			timeout := 2 * time.Second
			if c.typ == nil {
				timeout = 300 * time.Millisecond
			}
			got, err := echo(t, lab.Client, c.dst, c.ttl, timeout)
			switch {
			case c.typ == nil && err == nil:
				t.Fatalf("got %v, want nothing", got)
			case c.typ == nil && !isTimeout(err):
				t.Fatalf("want a timeout, got %v", err)
			case c.typ == nil:
			case err != nil:
				t.Fatalf("want %v code %d from %s, got %v", c.typ, c.code, c.from, err)
			case got.Type != c.typ || got.Code != c.code || got.From != c.from:
				t.Fatalf("got %v, want %v code %d from %s", got, c.typ, c.code, c.from)
			case c.slow && got.After >= time.Second:
				t.Fatalf("got %v: neighbour resolution should fail in well under a second", got)
			default:
				t.Logf("%v", got)
			}
		})
	}
}

// TestTransportFaults checks the faults that concern TCP and UDP.
func TestTransportFaults(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	for _, a := range []netip.Addr{srv.Addr4, srv.Addr6} {
		ln := srv.Listen(t, "tcp", netip.AddrPortFrom(a, 80).String())
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}

	t.Run("reset", func(t *testing.T) {
		for _, a := range []netip.Addr{srv.Addr4, srv.Addr6} {
			lab.Router.AddFault(t, netlab.Fault{Action: netlab.RejectTCPReset, Dst: a, Port: 80})
			seen, err := attempt(t, lab.Client, a, 200*time.Millisecond, dialTCP(a, 80, time.Second))
			if !errors.Is(err, syscall.ECONNREFUSED) || seen != nil {
				t.Errorf("%s: connect error %v and ICMP %v, want a refused connection and no ICMP", a, err, seen)
			}
		}
	})
	t.Run("drop", func(t *testing.T) {
		lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, DstNet: netlab.ServerNet6, Proto: netlab.TCP, Port: 80})
		seen, err := attempt(t, lab.Client, srv.Addr6, 100*time.Millisecond, dialTCP(srv.Addr6, 80, 300*time.Millisecond))
		if !isTimeout(err) || seen != nil {
			t.Errorf("connect error %v and ICMP %v, want a timeout and no ICMP", err, seen)
		}
		if err := lab.Client.Do(dialTCP(srv.Addr4, 80, time.Second)); err != nil {
			t.Errorf("the IPv6 rule blocked IPv4: %v", err)
		}
	})
	t.Run("admin-prohibited", func(t *testing.T) {
		lab.Router.AddFault(t, netlab.Fault{Action: netlab.RejectAdminProhibited, Dst: srv.Addr4, Proto: netlab.TCP, Port: 80})
		seen, err := attempt(t, lab.Client, srv.Addr4, time.Second, dialTCP(srv.Addr4, 80, time.Second))
		if !errors.Is(err, syscall.EHOSTUNREACH) || seen == nil || seen.Type != unreach4 || seen.Code != 13 || seen.From != netlab.RouterClientSide4 {
			t.Errorf("connect error %v and ICMP %v, want EHOSTUNREACH and admin-prohibited from the router", err, seen)
		}
	})
	t.Run("port-unreachable udp", func(t *testing.T) {
		for _, c := range []struct {
			a    netip.Addr
			typ  icmp.Type
			code int
			from netip.Addr
		}{{srv.Addr4, unreach4, 3, netlab.RouterClientSide4}, {srv.Addr6, unreach6, 4, netlab.RouterClientSide6}} {
			lab.Router.AddFault(t, netlab.Fault{Action: netlab.RejectPortUnreachable, Dst: c.a, Proto: netlab.UDP, Port: 5353})
			seen, _ := attempt(t, lab.Client, c.a, time.Second, sendUDP(c.a, 5353))
			if seen == nil || seen.Type != c.typ || seen.Code != c.code || seen.From != c.from {
				t.Errorf("%s: ICMP %v, want %v code %d from %s", c.a, seen, c.typ, c.code, c.from)
			}
		}
	})
	t.Run("router drops ICMP, TCP passes", func(t *testing.T) {
		lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, Proto: netlab.ICMP})
		checkICMPDroppedTCPOpen(t, lab, srv)
	})
	t.Run("host drops ICMP, TCP passes", func(t *testing.T) {
		srv.AddFault(t, netlab.Fault{Action: netlab.Drop, Proto: netlab.ICMP})
		checkICMPDroppedTCPOpen(t, lab, srv)
	})
	t.Run("remove and clear", func(t *testing.T) {
		rule := lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, Dst: srv.Addr4})
		if _, err := echo(t, lab.Client, srv.Addr4, 0, 200*time.Millisecond); err == nil {
			t.Fatal("the drop rule let an echo through")
		}
		rule.Remove(t)
		if _, err := echo(t, lab.Client, srv.Addr4, 0, time.Second); err != nil {
			t.Fatalf("after Remove: %v", err)
		}
		lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, Dst: srv.Addr4})
		lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, Dst: srv.Addr6})
		lab.Router.ClearFaults(t)
		for _, a := range []netip.Addr{srv.Addr4, srv.Addr6} {
			if _, err := echo(t, lab.Client, a, 0, time.Second); err != nil {
				t.Fatalf("after ClearFaults, %s: %v", a, err)
			}
		}
	})
	// Every subtest's faults are gone with the subtest.
	if out := lab.Router.Nft(t, "list chain inet netlab faults\n"); containsRule(out) {
		t.Errorf("rules survived their subtests:\n%s", out)
	}
}

func checkICMPDroppedTCPOpen(t *testing.T, lab *netlab.Lab, srv *netlab.Node) {
	t.Helper()
	for _, a := range []netip.Addr{srv.Addr4, srv.Addr6} {
		if got, err := echo(t, lab.Client, a, 0, 300*time.Millisecond); !isTimeout(err) {
			t.Errorf("echo to %s: %v %v, want a timeout", a, got, err)
		}
		if err := lab.Client.Do(dialTCP(a, 80, time.Second)); err != nil {
			t.Errorf("TCP to %s: %v", a, err)
		}
	}
}

// containsRule reports whether nft's listing of a chain holds a rule.
func containsRule(listing string) bool {
	return strings.Contains(listing, " drop") || strings.Contains(listing, " reject")
}
