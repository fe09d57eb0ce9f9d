package handshake_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/netdiag/netdiag/internal/netlab"
	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/handshake"
)

// Ports the lab tests give a meaning to on the server.
const (
	portOpen       = 8080
	portClosed     = 8081
	portDropped    = 8082
	portProhibited = 8083
	portHostUnr    = 8084
	portPortUnr    = 8085
	portReset      = 8086
)

// connectLab builds a lab whose first server listens on portOpen and
// whose router drops or rejects the other ports as their names say.
func connectLab(t *testing.T) *netlab.Lab {
	t.Helper()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	for _, network := range []string{"tcp4", "tcp6"} {
		ln := srv.Listen(t, network, fmt.Sprintf(":%d", portOpen))
		go acceptAndClose(ln)
	}
	for _, f := range []struct {
		port   uint16
		action netlab.Action
	}{
		{portDropped, netlab.Drop},
		{portProhibited, netlab.RejectAdminProhibited},
		{portHostUnr, netlab.RejectHostUnreachable},
		{portPortUnr, netlab.RejectPortUnreachable},
		{portReset, netlab.RejectTCPReset},
	} {
		lab.Router.AddFault(t, netlab.Fault{Action: f.action, Proto: netlab.TCP, Port: f.port})
	}
	return lab
}

func acceptAndClose(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

// probeFrom runs one probe on a thread inside node's namespace.
func probeFrom(t *testing.T, node *netlab.Node, p handshake.Prober, addr netip.Addr, port int) handshake.Result {
	t.Helper()
	var r handshake.Result
	err := node.Do(func() error {
		var err error
		r, err = p.Probe(context.Background(), handshake.Target{Name: addr.String(), Addr: addr, Port: port}, 0)
		return err
	})
	if err != nil {
		t.Fatalf("probe %s port %d: %v", addr, port, err)
	}
	return r
}

type want struct {
	state  handshake.State
	reason failure.Reason
	from   string
}

// TestLabConnectStates probes every kind of answer in connect mode, over
// IPv4 and IPv6: the host's own answers, the router's rejects (reported
// with the router's address, never as closed), silence, and unreachable
// routes and neighbours.
func TestLabConnectStates(t *testing.T) {
	t.Parallel()
	lab := connectLab(t)
	srv := lab.Servers[0]
	p := handshake.NewConnectProber(handshake.ConnectOptions{Timeout: 2 * time.Second})
	defer p.Close()

	for _, fam := range []struct {
		name                  string
		server, router, local netip.Addr
		unreachableNet        netip.Prefix
		prohibitNet, noRoute  netip.Prefix
		noHost, noNeighbor    netip.Addr
		unreachableNetReason  failure.Reason
	}{
		{"IPv4", srv.Addr4, netlab.RouterClientSide4, netlab.Client4, netlab.UnreachableNet4, netlab.ProhibitNet4, netlab.NoRouteNet4,
			netlab.NoHost4, netlab.NoNeighbor4, failure.HostUnreachable},
		{"IPv6", srv.Addr6, netlab.RouterClientSide6, netlab.Client6, netlab.UnreachableNet6, netlab.ProhibitNet6, netlab.NoRouteNet6,
			netlab.NoHost6, netlab.NoNeighbor6, failure.NetUnreachable},
	} {
		router := fam.router.String()
		// The router's own route errors come first: for IPv4 the kernel
		// sends them through a limiter of its own (five at once, then one
		// a second), which the other ICMP errors drain.
		cases := []struct {
			name string
			addr netip.Addr
			port int
			want want
		}{
			{"unreachable route", fam.unreachableNet.Addr().Next(), portOpen, want{handshake.Unreachable, fam.unreachableNetReason, router}},
			{"prohibit route", fam.prohibitNet.Addr().Next(), portOpen, want{handshake.Filtered, failure.AdminProhibited, router}},
			{"no route on the router", fam.noRoute.Addr().Next(), portOpen, want{handshake.Unreachable, failure.NetUnreachable, router}},
			{"open", fam.server, portOpen, want{handshake.Open, "", ""}},
			{"closed", fam.server, portClosed, want{handshake.Closed, failure.Reset, ""}},
			{"rejected admin-prohibited", fam.server, portProhibited, want{handshake.Filtered, failure.AdminProhibited, router}},
			{"rejected host-unreachable", fam.server, portHostUnr, want{handshake.Unreachable, failure.HostUnreachable, router}},
			{"rejected port-unreachable", fam.server, portPortUnr, want{handshake.Filtered, failure.PortUnreachable, router}},
			{"reset by the firewall", fam.server, portReset, want{handshake.Closed, failure.Reset, ""}},
			{"no host behind the router", fam.noHost, portOpen, want{handshake.Unreachable, failure.HostUnreachable, router}},
			{"no neighbour on our link", fam.noNeighbor, portOpen, want{handshake.Unreachable, failure.NeighborUnresolved, fam.local.String()}},
		}
		for _, c := range cases {
			t.Run(fam.name+"/"+c.name, func(t *testing.T) {
				r := probeFrom(t, lab.Client, p, c.addr, c.port)
				if r.State != c.want.state || r.Reason() != c.want.reason {
					t.Fatalf("%s port %d: %s/%s, want %s/%s (%+v)", c.addr, c.port, r.State, r.Reason(), c.want.state, c.want.reason, r.Failure)
				}
				if r.Failure != nil && r.Failure.From != c.want.from {
					t.Errorf("from %q, want %q", r.Failure.From, c.want.from)
				}
				if c.want.from != "" && r.ICMP == nil {
					t.Error("no ICMP details")
				}
				if r.State == handshake.Open && (r.Info == nil || r.Info.MSS <= 0) {
					t.Errorf("open without TCP_INFO: %+v", r.Info)
				}
				if r.RTT <= 0 {
					t.Errorf("no RTT for an answered probe")
				}
			})
		}
	}
}

// TestLabConnectDropped: a dropped SYN is filtered after the timeout,
// not before and not much later.
func TestLabConnectDropped(t *testing.T) {
	t.Parallel()
	lab := connectLab(t)
	p := handshake.NewConnectProber(handshake.ConnectOptions{Timeout: 2 * time.Second})
	for _, addr := range []netip.Addr{lab.Servers[0].Addr4, lab.Servers[0].Addr6} {
		start := time.Now()
		r := probeFrom(t, lab.Client, p, addr, portDropped)
		took := time.Since(start)
		if r.State != handshake.Filtered || r.Reason() != failure.Timeout || r.ICMP != nil || r.RTT != 0 {
			t.Errorf("%s: %s/%s %+v, want filtered/timeout", addr, r.State, r.Reason(), r.Failure)
		}
		if took < 1900*time.Millisecond || took > 4*time.Second {
			t.Errorf("%s: filtered after %v, want about 2s", addr, took)
		}
	}
}

// TestLabHostDropsICMP: a host that drops ICMP echo (ping fails) still
// accepts TCP, and tcpprobe says open.
func TestLabHostDropsICMP(t *testing.T) {
	t.Parallel()
	lab := connectLab(t)
	srv := lab.Servers[0]
	srv.AddFault(t, netlab.Fault{Action: netlab.Drop, Proto: netlab.ICMP})
	for _, addr := range []netip.Addr{srv.Addr4, srv.Addr6} {
		if out, err := lab.Client.Exec("ping", "-c", "1", "-W", "1", addr.String()); err == nil {
			t.Fatalf("ping %s should fail, the host drops ICMP:\n%s", addr, out)
		}
		r := probeFrom(t, lab.Client, handshake.NewConnectProber(handshake.ConnectOptions{Timeout: 2 * time.Second}), addr, portOpen)
		if r.State != handshake.Open {
			t.Errorf("%s: %s/%s, want open", addr, r.State, r.Reason())
		}
	}
}
