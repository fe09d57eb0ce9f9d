package layers

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/netdiag/netdiag/pkg/failure"
)

var (
	addrA  = netip.MustParseAddr("198.18.0.1")
	addrR  = netip.MustParseAddr("198.18.0.2")
	addrB  = netip.MustParseAddr("198.18.1.2")
	addrA6 = netip.MustParseAddr("2001:db8::1")
	addrR6 = netip.MustParseAddr("2001:db8::2")
	addrB6 = netip.MustParseAddr("2001:db8:1::2")
	macA   = MAC{2, 0, 0, 0, 0, 1}
	macR   = MAC{2, 0, 0, 0, 0, 2}
)

func TestCaptureEcho(t *testing.T) {
	ps := decodeAll(t, "echo.pcap")
	req, rep := ps[0], ps[1]
	if !req.Has(LayerARP) || req.ARP.Operation != ARPRequest || req.Ethernet.Dst != Broadcast ||
		req.ARP.SenderIP() != addrA || req.ARP.TargetIP() != addrR {
		t.Errorf("ARP request: %+v", req.ARP)
	}
	if m, ok := req.ARP.SenderMAC(); !ok || m != macA {
		t.Errorf("ARP request sender %v", m)
	}
	if m, _ := rep.ARP.SenderMAC(); rep.ARP.Operation != ARPReply || m != macR || rep.ARP.SenderIP() != addrR {
		t.Errorf("ARP reply: %+v", rep.ARP)
	}
	er, ey := ps[2], ps[3]
	if er.ICMPv4.Type != ICMPv4EchoRequest || ey.ICMPv4.Type != ICMPv4EchoReply || er.ICMPv4.Seq != 1 ||
		ey.ICMPv4.ID != er.ICMPv4.ID || ey.ICMPv4.Seq != 1 || string(ey.ICMPv4.Data) != string(er.ICMPv4.Data) {
		t.Errorf("echo: %v / %v", er.ICMPv4.String(), ey.ICMPv4.String())
	}
	if er.IPv4.Src != addrA || er.IPv4.Dst != addrB || er.IPv4.TTL != 64 || ey.IPv4.TTL != 63 || !er.IPv4.DontFragment() {
		t.Errorf("echo IPv4: %+v", er.IPv4)
	}
	if er.Ethernet.Src != macA || er.Ethernet.Dst != macR || er.Ethernet.EtherType != EtherTypeIPv4 {
		t.Errorf("echo Ethernet: %+v", er.Ethernet)
	}
	ns, na := ps[6], ps[7]
	if ns.ICMPv6.Type != ICMPv6NeighborSolicit || ns.ICMPv6.Target != addrR6 || na.ICMPv6.Type != ICMPv6NeighborAdvert {
		t.Errorf("ND: %v / %v", ns.ICMPv6.String(), na.ICMPv6.String())
	}
	e6, r6 := ps[8], ps[9]
	if e6.ICMPv6.Type != ICMPv6EchoRequest || r6.ICMPv6.ID != e6.ICMPv6.ID || e6.ICMPv6.Seq != 1 || e6.IPv6.HopLimit != 64 ||
		r6.IPv6.HopLimit != 63 || e6.IPv6.Src != addrA6 || e6.IPv6.Dst != addrB6 {
		t.Errorf("echo6: %v / %v", e6.ICMPv6.String(), r6.ICMPv6.String())
	}
}

// TestCaptureErrors checks that each ICMP error names its cause and that
// the quoted datagram leads back to the probe captured just before it.
func TestCaptureErrors(t *testing.T) {
	files := map[string][]*Packet{}
	for _, f := range []string{"errors.pcap", "ttl.pcap", "mtu.pcap"} {
		files[f] = decodeAll(t, f)
	}
	tests := []struct {
		file   string
		n      int // the error; the probe is n-1
		from   netip.Addr
		typ    uint8
		code   uint8
		reason failure.Reason
		mtu    uint32
	}{
		{"errors.pcap", 2, addrB, 3, 3, failure.PortUnreachable, 0},
		{"errors.pcap", 4, addrB6, 1, 4, failure.PortUnreachable, 0},
		{"errors.pcap", 6, addrR, 3, 1, failure.HostUnreachable, 0},
		{"errors.pcap", 8, addrR6, 1, 0, failure.NetUnreachable, 0},
		{"errors.pcap", 10, addrR, 3, 0, failure.NetUnreachable, 0},
		{"errors.pcap", 12, addrR6, 1, 0, failure.NetUnreachable, 0},
		{"errors.pcap", 14, addrR, 3, 13, failure.AdminProhibited, 0},
		{"errors.pcap", 16, addrR6, 1, 1, failure.AdminProhibited, 0},
		{"errors.pcap", 18, addrR, 3, 13, failure.AdminProhibited, 0},
		{"errors.pcap", 20, addrR6, 1, 1, failure.AdminProhibited, 0},
		{"errors.pcap", 22, addrR, 3, 13, failure.AdminProhibited, 0},
		{"errors.pcap", 24, addrR, 3, 13, failure.AdminProhibited, 0},
		{"errors.pcap", 26, addrR6, 1, 1, failure.AdminProhibited, 0},
		{"ttl.pcap", 2, addrR, 11, 0, failure.TTLExceeded, 0},
		{"ttl.pcap", 4, addrR6, 3, 0, failure.TTLExceeded, 0},
		{"ttl.pcap", 6, addrR, 11, 0, failure.TTLExceeded, 0},
		{"mtu.pcap", 2, addrR, 3, 4, failure.FragNeeded, 1280},
		{"mtu.pcap", 4, addrR6, 2, 0, failure.FragNeeded, 1280},
	}
	for _, tt := range tests {
		e, probe := files[tt.file][tt.n-1], files[tt.file][tt.n-2]
		name := fmt.Sprintf("%s #%d", tt.file, tt.n)
		if e.Src() != tt.from {
			t.Errorf("%s: from %v, want %v", name, e.Src(), tt.from)
		}
		var q *Quote
		var reason failure.Reason
		var mtu uint32
		if e.Has(LayerICMPv4) {
			m := &e.ICMPv4
			if uint8(m.Type) != tt.typ || m.Code != tt.code || !m.IsError() {
				t.Errorf("%s: %s, want type %d code %d", name, m, tt.typ, tt.code)
			}
			q, mtu = &m.Quote, uint32(m.MTU)
			reason, _ = failure.FromICMPv4(uint8(m.Type), m.Code)
		} else {
			m := &e.ICMPv6
			if uint8(m.Type) != tt.typ || m.Code != tt.code || !m.IsError() {
				t.Errorf("%s: %s, want type %d code %d", name, m, tt.typ, tt.code)
			}
			q, mtu = &m.Quote, m.MTU
			reason, _ = failure.FromICMPv6(uint8(m.Type), m.Code)
		}
		if reason != tt.reason || mtu != tt.mtu {
			t.Errorf("%s: reason %v mtu %d, want %v %d", name, reason, mtu, tt.reason, tt.mtu)
		}
		if q.Src != probe.Src() || q.Dst != probe.Dst() {
			t.Errorf("%s: quote %v > %v, probe %v > %v", name, q.Src, q.Dst, probe.Src(), probe.Dst())
		}
		switch {
		case probe.Has(LayerICMPv4):
			if !q.IsEcho() || q.ID != probe.ICMPv4.ID || q.EchoSeq != probe.ICMPv4.Seq {
				t.Errorf("%s: quoted echo %d/%d, probe %s", name, q.ID, q.EchoSeq, probe.ICMPv4.String())
			}
		case probe.Has(LayerICMPv6):
			if !q.IsEcho() || q.ID != probe.ICMPv6.ID || q.EchoSeq != probe.ICMPv6.Seq {
				t.Errorf("%s: quoted echo %d/%d, probe %s", name, q.ID, q.EchoSeq, probe.ICMPv6.String())
			}
		case probe.Has(LayerTCP):
			src, dst, ok := q.AddrPorts()
			if !ok || !q.HasSeq || q.Seq != probe.TCP.Seq || src.Port() != probe.TCP.SrcPort || dst.Port() != probe.TCP.DstPort {
				t.Errorf("%s: quoted TCP %v > %v seq %d, probe %d > %d seq %d", name, src, dst, q.Seq,
					probe.TCP.SrcPort, probe.TCP.DstPort, probe.TCP.Seq)
			}
		case probe.Has(LayerUDP):
			src, dst, ok := q.AddrPorts()
			if !ok || q.HasSeq || src.Port() != probe.UDP.SrcPort || dst.Port() != probe.UDP.DstPort {
				t.Errorf("%s: quoted UDP %v > %v, probe %d > %d", name, src, dst, probe.UDP.SrcPort, probe.UDP.DstPort)
			}
		default:
			t.Errorf("%s: probe %s has no transport", name, probe)
		}
		if q.Truncated {
			t.Errorf("%s: quote marked truncated", name)
		}
		var quoted int
		for _, s := range e.Layers {
			if s.Quoted {
				quoted++
			}
		}
		if quoted != 2 {
			t.Errorf("%s: %d quoted spans, want 2 (%s)", name, quoted, e)
		}
	}
}

func TestCaptureTCP(t *testing.T) {
	ps := decodeAll(t, "tcp.pcap")
	for _, base := range []int{0, 8} { // IPv4 connection, then IPv6
		syn, synack, ack, psh := &ps[base].TCP, &ps[base+1].TCP, &ps[base+2].TCP, &ps[base+3].TCP
		fin1, fin2, last := &ps[base+5].TCP, &ps[base+6].TCP, &ps[base+7].TCP
		flags := []string{syn.Flags.String(), synack.Flags.String(), ack.Flags.String(), psh.Flags.String(),
			fin1.Flags.String(), fin2.Flags.String(), last.Flags.String()}
		want := []string{"SYN", "SYN,ACK", "ACK", "PSH,ACK", "FIN,ACK", "FIN,ACK", "ACK"}
		for i := range want {
			if flags[i] != want[i] {
				t.Errorf("connection %d: flags %v, want %v", base, flags, want)
				break
			}
		}
		if synack.Ack != syn.Seq+1 || ack.Ack != synack.Seq+1 || fin2.Ack != fin1.Seq+1 || last.Ack != fin2.Seq+1 {
			t.Errorf("connection %d: handshake arithmetic does not hold", base)
		}
		mss, ok1 := syn.MSS()
		ws, ok2 := syn.WindowScale()
		val, ecr, ok3 := syn.Timestamps()
		if !ok1 || !ok2 || !ok3 || !syn.SACKPermitted() || ws != 10 || val == 0 || ecr != 0 {
			t.Errorf("connection %d: SYN options %v", base, syn.Options)
		}
		if (base == 0 && mss != 1240) || (base == 8 && mss != 1220) {
			t.Errorf("connection %d: mss %d", base, mss)
		}
		if _, ecr2, _ := synack.Timestamps(); ecr2 != val {
			t.Errorf("connection %d: SYN-ACK echoes %d, SYN sent %d", base, ecr2, val)
		}
		if string(ps[base+3].Payload) != "hello\n" || psh.DataOffset != 8 {
			t.Errorf("connection %d: data %q offset %d", base, ps[base+3].Payload, psh.DataOffset)
		}
	}
	if ps[8].IPv6.Src != addrA6 || ps[8].TCP.DstPort != 8081 {
		t.Errorf("IPv6 SYN: %v port %d", ps[8].IPv6.Src, ps[8].TCP.DstPort)
	}
	syn, rst := &ps[16].TCP, &ps[17].TCP
	if syn.DstPort != 9 || rst.Flags.String() != "RST,ACK" || rst.Ack != syn.Seq+1 || rst.Window != 0 {
		t.Errorf("refused: %s ack %d", rst.Flags, rst.Ack)
	}
	q, a := ps[18], ps[19]
	if q.UDP.DstPort != 7000 || string(q.Payload) != "question\n" || a.UDP.SrcPort != 7000 ||
		a.UDP.DstPort != q.UDP.SrcPort || string(a.Payload) != "answer\n" || a.UDP.Length != 15 {
		t.Errorf("UDP: %+v / %+v", q.UDP, a.UDP)
	}
}

func TestCaptureFragmentsAndExtensions(t *testing.T) {
	ps := decodeAll(t, "ext.pcap")
	f1, f2, f3 := ps[0], ps[1], ps[2]
	if !f1.IPv4.MoreFragments() || f1.IPv4.FragOffset != 0 || !f1.Has(LayerICMPv4) || f1.Fragment {
		t.Errorf("first IPv4 fragment: %s %+v", f1, f1.IPv4)
	}
	if f2.IPv4.FragOffset != 185 || !f2.IPv4.MoreFragments() || f2.Has(LayerICMPv4) || !f2.Fragment || f2.IPv4.ID != f1.IPv4.ID {
		t.Errorf("middle IPv4 fragment: %s %+v", f2, f2.IPv4)
	}
	if f3.IPv4.FragOffset != 370 || f3.IPv4.MoreFragments() || f3.Has(LayerICMPv4) || len(f3.Payload) != 48 {
		t.Errorf("last IPv4 fragment: %s %+v", f3, f3.IPv4)
	}
	g1, g2 := ps[6], ps[7]
	if !g1.IPv6.HasFragment || g1.IPv6.FragOffset != 0 || !g1.IPv6.MoreFragments || g1.IPv6.NextHeader != IPProtocolFragment ||
		g1.IPv6.Protocol != IPProtocolICMPv6 || !g1.Has(LayerICMPv6) || len(g1.IPv6.Extensions) != 1 {
		t.Errorf("first IPv6 fragment: %s %+v", g1, g1.IPv6)
	}
	if e := g1.IPv6.Extensions[0]; e.Start != 40 || e.End != 48 || e.Type != IPProtocolFragment || g1.Layers[1].HeaderEnd != 14+48 {
		t.Errorf("fragment header range: %+v, ipv6 span %+v", e, g1.Layers[1])
	}
	if g2.IPv6.FragOffset != 181 || g2.Has(LayerICMPv6) || !g2.Fragment || g2.IPv6.FragID != g1.IPv6.FragID {
		t.Errorf("second IPv6 fragment: %s %+v", g2, g2.IPv6)
	}
	mld := ps[12]
	if mld.ICMPv6.Type != ICMPv6MLDv2Report || mld.IPv6.NextHeader != IPProtocolHopByHop || mld.IPv6.HopLimit != 1 ||
		mld.IPv6.Extensions[0].Type != IPProtocolHopByHop || mld.Checksum(LayerICMPv6) != ChecksumGood {
		t.Errorf("MLD report: %s %+v", mld, mld.IPv6)
	}
}

func TestCaptureOtherLinks(t *testing.T) {
	sll := decodeAll(t, "sll.pcap")
	if sll[0].SLL.PacketType != SLLOutgoing || sll[1].SLL.PacketType != SLLHost || sll[0].SLL.Protocol != EtherTypeIPv4 ||
		string(sll[0].SLL.LinkAddr()) != string(macA[:]) || sll[0].SLL.ARPHRDType != 1 {
		t.Errorf("SLL: %+v / %+v", sll[0].SLL, sll[1].SLL)
	}
	sll2 := decodeAll(t, "sll2.pcap")
	if sll2[0].SLL2.PacketType != SLLOutgoing || sll2[1].SLL2.PacketType != SLLHost || sll2[0].SLL2.IfIndex == 0 ||
		string(sll2[1].SLL2.LinkAddr()) != string(macR[:]) || sll2[3].TCP.Flags.String() != "SYN,ACK" {
		t.Errorf("SLL2: %+v / %+v", sll2[0].SLL2, sll2[1].SLL2)
	}
	raw := decodeAll(t, "rawip.pcap")
	if raw[0].LinkType != LinkTypeRaw || raw[0].Layers[0].Type != LayerIPv4 || raw[0].ICMPv4.Type != ICMPv4EchoRequest ||
		raw[2].Layers[0].Type != LayerIPv6 || raw[2].ICMPv6.Type != ICMPv6EchoRequest {
		t.Errorf("raw IP: %s / %s", raw[0], raw[2])
	}
	vl := decodeAll(t, "vlan.pcap")
	one, two := vl[2], vl[3]
	if one.NumVLANs != 1 || one.VLANs[0].TPID != EtherTypeVLAN || one.VLANs[0].ID != 100 || one.VLANs[0].Priority != 5 ||
		one.VLANs[0].DropEligible || !one.Has(LayerICMPv4) {
		t.Errorf("802.1Q: %s %+v", one, one.VLANs[0])
	}
	o, i := two.VLANs[0], two.VLANs[1]
	if two.NumVLANs != 2 || o.TPID != EtherTypeQinQ || o.ID != 10 || o.Priority != 3 || !o.DropEligible ||
		o.EtherType != EtherTypeVLAN || i.TPID != EtherTypeVLAN || i.ID != 20 || i.EtherType != EtherTypeIPv4 {
		t.Errorf("QinQ: %s %+v %+v", two, o, i)
	}
	if two.ICMPv4.ID != one.ICMPv4.ID || two.Layers[3].Start != 22 {
		t.Errorf("QinQ payload: %s", two)
	}
}

func TestCaptureIPv4Options(t *testing.T) {
	ps := decodeAll(t, "ipopts.pcap")
	opts := func(p *Packet) (s []string) {
		for _, o := range p.IPv4.Options {
			s = append(s, fmt.Sprintf("%v/%d/%d", o.Type, o.Length, len(o.Data)))
		}
		return s
	}
	want := [][]string{
		{"NOP/1/0", "RR/39/37"},
		{"RR/39/37", "EOL/1/0"},
		{"TS/36/34"},
		{"TS/36/34"},
	}
	for i, p := range ps {
		if got := opts(p); fmt.Sprint(got) != fmt.Sprint(want[i]) || p.IPv4.BadOptions || !p.IPv4.VerifyChecksum() {
			t.Errorf("#%d: options %v, want %v", i+1, got, want[i])
		}
	}
	// Record route: the pointer (first data byte) has moved past the five
	// addresses the reply gathered, the second of them R's outgoing one.
	rr := ps[1].IPv4.Options[0].Data
	if rr[0] != 4+5*4 || netip.AddrFrom4([4]byte(rr[5:9])) != netip.MustParseAddr("198.18.1.1") {
		t.Errorf("record route data %v", rr)
	}
	// Timestamp with addresses (flag 1): four slots, all used in the reply.
	ts := ps[3].IPv4.Options[0].Data
	if ts[1]&0x0f != 1 || ts[0] != 4+4*8+1 || netip.AddrFrom4([4]byte(ts[10:14])) != addrR {
		t.Errorf("timestamp data %v", ts)
	}
}
