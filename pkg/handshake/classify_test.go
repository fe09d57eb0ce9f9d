package handshake

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/netdiag/netdiag/pkg/failure"
)

func TestFromICMP(t *testing.T) {
	router := netip.MustParseAddr("198.18.0.1")
	router6 := netip.MustParseAddr("2001:db8::1")
	cases := []struct {
		e      ICMPError
		local  bool
		state  State
		reason failure.Reason
		says   string
	}{
		{ICMPError{Type: 3, Code: 13, From: router}, false, Filtered, failure.AdminProhibited, "firewall 198.18.0.1 rejects the connection"},
		{ICMPError{Type: 3, Code: 10, From: router}, false, Filtered, failure.AdminProhibited, "firewall 198.18.0.1"},
		{ICMPError{Type: 3, Code: 3, From: router}, false, Filtered, failure.PortUnreachable, "ICMP port unreachable"},
		{ICMPError{Type: 3, Code: 1, From: router}, false, Unreachable, failure.HostUnreachable, "router 198.18.0.1 cannot reach the host"},
		{ICMPError{Type: 3, Code: 0, From: router}, false, Unreachable, failure.NetUnreachable, "router 198.18.0.1 has no route"},
		{ICMPError{Type: 11, Code: 0, From: router}, false, Unreachable, failure.TTLExceeded, "reported by 198.18.0.1"},
		{ICMPError{Type: 3, Code: 1, From: netip.MustParseAddr("198.18.0.2")}, true, Unreachable, failure.NeighborUnresolved, "no answer to ARP"},
		{ICMPError{Type: 3, Code: 13, From: netip.MustParseAddr("198.18.0.2")}, true, Filtered, failure.AdminProhibited, "this machine's firewall"},
		{ICMPError{V6: true, Type: 1, Code: 1, From: router6}, false, Filtered, failure.AdminProhibited, "firewall 2001:db8::1"},
		{ICMPError{V6: true, Type: 1, Code: 3, From: netip.MustParseAddr("2001:db8::2")}, true, Unreachable, failure.NeighborUnresolved, "neighbour discovery"},
		{ICMPError{V6: true, Type: 1, Code: 0, From: router6}, false, Unreachable, failure.NetUnreachable, "no route to the network"},
		{ICMPError{V6: true, Type: 1, Code: 4, From: router6}, false, Filtered, failure.PortUnreachable, "port unreachable"},
	}
	for _, c := range cases {
		r := Result{Target: Target{Addr: netip.MustParseAddr("198.18.1.10"), Port: 80}}
		r.fromICMP(&c.e, c.local)
		if r.State != c.state || r.Reason() != c.reason {
			t.Errorf("%+v: %s/%s, want %s/%s", c.e, r.State, r.Reason(), c.state, c.reason)
		}
		if r.Failure.From != c.e.From.String() || r.ICMP == nil {
			t.Errorf("%+v: from %q", c.e, r.Failure.From)
		}
		if !strings.Contains(r.Explain(), c.says) {
			t.Errorf("%+v: %q does not say %q", c.e, r.Explain(), c.says)
		}
	}
}

// A reset is closed; admin-prohibited must never be.
func TestStateFor(t *testing.T) {
	cases := map[failure.Reason]State{
		"":                         Open,
		failure.Reset:              Closed,
		failure.Timeout:            Filtered,
		failure.AdminProhibited:    Filtered,
		failure.PortUnreachable:    Filtered,
		failure.HostUnreachable:    Unreachable,
		failure.NetUnreachable:     Unreachable,
		failure.NoRoute:            Unreachable,
		failure.NeighborUnresolved: Unreachable,
		failure.TTLExceeded:        Unreachable,
	}
	for reason, want := range cases {
		if got := stateFor(reason); got != want {
			t.Errorf("%q: %s, want %s", reason, got, want)
		}
	}
}

func TestExplain(t *testing.T) {
	r := Result{Target: Target{Addr: netip.MustParseAddr("198.18.1.10"), Port: 81}}
	r.failed(failure.Reset, "")
	if r.Explain() != "host is up; nothing listens on port 81" || r.Failure.Layer != failure.LayerTransport {
		t.Errorf("reset: %q %s", r.Explain(), r.Failure.Layer)
	}
	r.failed(failure.Timeout, "")
	if !strings.HasPrefix(r.Explain(), "dropped silently: a firewall between you and the host") {
		t.Errorf("timeout: %q", r.Explain())
	}
	r.failed(failure.NoRoute, "")
	if r.Explain() != "this machine has no route to 198.18.1.10" {
		t.Errorf("no route: %q", r.Explain())
	}
	open := Result{Target: Target{Port: 22}, State: Open}
	if open.Explain() != "a service listens on port 22" || open.Reason() != "" {
		t.Errorf("open: %q", open.Explain())
	}
}
