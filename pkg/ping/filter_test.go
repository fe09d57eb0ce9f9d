package ping

import (
	"net/netip"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/netdiag/netdiag/pkg/layers"
)

var (
	us4, them4, router4 = netip.MustParseAddr("198.18.0.2"), netip.MustParseAddr("198.18.1.10"), netip.MustParseAddr("198.18.0.1")
	us6, them6          = netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr("2001:db8:1::10")
)

// ipv4Packet wraps an ICMP message in an IPv4 header, with options when
// opts is set (so the header is longer than 20 bytes).
func ipv4Packet(t *testing.T, src, dst netip.Addr, proto layers.IPProtocol, opts bool, msg []byte) []byte {
	t.Helper()
	ip := layers.IPv4{TTL: 64, Protocol: proto, Src: src, Dst: dst}
	if opts {
		ip.Options = []layers.IPv4Option{{Type: layers.IPv4OptionNOP}, {Type: layers.IPv4OptionNOP}, {Type: layers.IPv4OptionNOP}, {Type: layers.IPv4OptionNOP}}
	}
	b, err := ip.AppendTo(nil, len(msg))
	if err != nil {
		t.Fatal(err)
	}
	return append(b, msg...)
}

func icmp4(typ layers.ICMPv4Type, code uint8, id, seq uint16, data []byte) []byte {
	m := layers.ICMPv4{Type: typ, Code: code, ID: id, Seq: seq, Data: data}
	return m.AppendTo(nil)
}

func icmp6(typ layers.ICMPv6Type, code uint8, id, seq uint16, data []byte) []byte {
	m := layers.ICMPv6{Type: typ, Code: code, ID: id, Seq: seq, Data: data}
	return m.AppendTo(nil, us6, them6)
}

func TestFilterIPv4(t *testing.T) {
	const id = 0xbeef
	payload := make([]byte, 56)
	request := icmp4(layers.ICMPv4EchoRequest, 0, id, 1, payload)
	// quote is what a router quotes: the IPv4 header of msg's packet and
	// the first n bytes of msg.
	quote := func(opts bool, msg []byte, n int) []byte {
		b := ipv4Packet(t, us4, them4, layers.IPProtocolICMPv4, opts, msg)
		return b[:len(b)-len(msg)+n]
	}
	errorAbout := func(typ layers.ICMPv4Type, code uint8, quoted []byte, outerOpts bool) []byte {
		return ipv4Packet(t, router4, us4, layers.IPProtocolICMPv4, outerOpts, icmp4(typ, code, 0, 0, quoted))
	}
	udp := ipv4Packet(t, us4, them4, layers.IPProtocolUDP, false, []byte{0x82, 0x9a, 0, 53, 0, 8, 0, 0})
	cases := []struct {
		name   string
		packet []byte
		accept bool
	}{
		{"our reply", ipv4Packet(t, them4, us4, layers.IPProtocolICMPv4, false, icmp4(layers.ICMPv4EchoReply, 0, id, 1, payload)), true},
		{"our reply, header with options", ipv4Packet(t, them4, us4, layers.IPProtocolICMPv4, true, icmp4(layers.ICMPv4EchoReply, 0, id, 1, payload)), true},
		{"another identifier", ipv4Packet(t, them4, us4, layers.IPProtocolICMPv4, false, icmp4(layers.ICMPv4EchoReply, 0, id+1, 1, payload)), false},
		{"our own request (to a local address)", ipv4Packet(t, us4, us4, layers.IPProtocolICMPv4, false, request), false},
		{"host unreachable about our request", errorAbout(layers.ICMPv4DestUnreachable, 1, quote(false, request, 8), false), true},
		{"admin prohibited, quote with options", errorAbout(layers.ICMPv4DestUnreachable, 13, quote(true, request, 8), false), true},
		{"time exceeded, both headers with options", errorAbout(layers.ICMPv4TimeExceeded, 0, quote(true, request, len(request)), true), true},
		{"parameter problem", errorAbout(layers.ICMPv4ParamProblem, 0, quote(false, request, 8), false), true},
		{"error about another identifier", errorAbout(layers.ICMPv4DestUnreachable, 1, quote(false, icmp4(layers.ICMPv4EchoRequest, 0, id+1, 1, payload), 8), false), false},
		{"error about a UDP datagram", errorAbout(layers.ICMPv4DestUnreachable, 3, udp, false), false},
		{"error quoting too little", errorAbout(layers.ICMPv4DestUnreachable, 1, quote(false, request, 4), false), false},
		{"redirect", errorAbout(layers.ICMPv4Redirect, 1, quote(false, request, 8), false), false},
		{"empty", nil, false},
	}
	vm, err := bpf.NewVM(echoFilter(4, id))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		n, err := vm.Run(c.packet)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := n > 0; got != c.accept {
			t.Errorf("%s: accepted %v, want %v", c.name, got, c.accept)
		}
	}
	if _, err := bpf.Assemble(echoFilter(4, id)); err != nil {
		t.Fatal(err)
	}
}

func TestFilterIPv6(t *testing.T) {
	const id = 0x1234
	payload := make([]byte, 56)
	request := icmp6(layers.ICMPv6EchoRequest, 0, id, 1, payload)
	quote := func(msg []byte) []byte {
		ip := layers.IPv6{HopLimit: 64, NextHeader: layers.IPProtocolICMPv6, Protocol: layers.IPProtocolICMPv6, Src: us6, Dst: them6}
		b, err := ip.AppendTo(nil, len(msg))
		if err != nil {
			t.Fatal(err)
		}
		return append(b, msg...)
	}
	cases := []struct {
		name   string
		packet []byte
		accept bool
	}{
		{"our reply", icmp6(layers.ICMPv6EchoReply, 0, id, 1, payload), true},
		{"another identifier", icmp6(layers.ICMPv6EchoReply, 0, id+1, 1, payload), false},
		{"our own request", request, false},
		{"unreachable about our request", icmp6(layers.ICMPv6DestUnreachable, 3, 0, 0, quote(request)), true},
		{"packet too big", icmp6(layers.ICMPv6PacketTooBig, 0, 0, 1280, quote(request)), true},
		{"time exceeded", icmp6(layers.ICMPv6TimeExceeded, 0, 0, 0, quote(request)), true},
		{"parameter problem", icmp6(layers.ICMPv6ParamProblem, 0, 0, 0, quote(request)), true},
		{"error about another identifier", icmp6(layers.ICMPv6DestUnreachable, 3, 0, 0, quote(icmp6(layers.ICMPv6EchoRequest, 0, id+1, 1, nil))), false},
		{"neighbour solicitation", icmp6(layers.ICMPv6NeighborSolicit, 0, 0, 0, make([]byte, 16)), false},
		{"truncated error", icmp6(layers.ICMPv6DestUnreachable, 3, 0, 0, quote(request)[:44]), false},
	}
	vm, err := bpf.NewVM(echoFilter(6, id))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		n, err := vm.Run(c.packet)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := n > 0; got != c.accept {
			t.Errorf("%s: accepted %v, want %v", c.name, got, c.accept)
		}
	}
}
