package layers

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	gl "github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// The captures come from testdata/layers/capture.sh, run as root in
// namespaces it creates; see the comment at its top for the topology and
// what each file holds.
var captureFiles = []string{
	"echo.pcap", "errors.pcap", "ttl.pcap", "ipopts.pcap", "mtu.pcap", "tcp.pcap", "ext.pcap",
	"offload.pcap", "sll.pcap", "sll2.pcap", "rawip.pcap", "vlan.pcap",
}

type captured struct {
	file  string
	n     int // 1-based packet number, as tcpdump and tshark count
	link  LinkType
	bytes []byte
}

func readCapture(t testing.TB, name string) []captured {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "layers", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []captured
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ci.CaptureLength != ci.Length {
			t.Fatalf("%s #%d: captured %d of %d bytes", name, len(out)+1, ci.CaptureLength, ci.Length)
		}
		out = append(out, captured{name, len(out) + 1, LinkType(r.LinkType()), data})
	}
	if len(out) == 0 {
		t.Fatalf("%s: no packets", name)
	}
	return out
}

func allCaptured(t testing.TB) []captured {
	var all []captured
	for _, f := range captureFiles {
		all = append(all, readCapture(t, f)...)
	}
	return all
}

func decodeAll(t *testing.T, name string) []*Packet {
	t.Helper()
	var out []*Packet
	for _, c := range readCapture(t, name) {
		p := new(Packet)
		if err := p.Decode(c.link, c.bytes); err != nil {
			t.Fatalf("%s #%d: %v", c.file, c.n, err)
		}
		out = append(out, p)
	}
	return out
}

// TestCapturesAgainstGopacket decodes every captured packet with Packet and
// with gopacket's layers and requires the same fields, and every checksum
// to verify (offload.pcap aside, where A's own TCP checksums are partial).
func TestCapturesAgainstGopacket(t *testing.T) {
	var p Packet
	for _, c := range allCaptured(t) {
		if err := p.Decode(c.link, c.bytes); err != nil {
			t.Errorf("%s #%d: %v", c.file, c.n, err)
			continue
		}
		if p.Truncated || len(p.Layers) == 0 {
			t.Errorf("%s #%d: truncated=%v layers=%v", c.file, c.n, p.Truncated, p.String())
		}
		gp := gopacket.NewPacket(c.bytes, gl.LinkType(c.link), gopacket.Default)
		// gopacket also tries the application layer (DNS on port 53); only
		// failures below it matter here.
		if el := gp.ErrorLayer(); el != nil && gp.TransportLayer() == nil {
			t.Fatalf("%s #%d: gopacket: %v", c.file, c.n, el.Error())
		}
		crossCheck(t, c, &p, gp)
		checkSpans(t, c, &p)
		for _, l := range []LayerType{LayerIPv4, LayerICMPv4, LayerICMPv6, LayerTCP, LayerUDP} {
			if !p.Has(l) {
				continue
			}
			want := ChecksumGood
			if p.ipIsFragment() && l != LayerIPv4 {
				want = ChecksumUnverified
			}
			if c.file == "offload.pcap" && l == LayerTCP && p.Src() == netip.MustParseAddr("198.18.0.1") {
				want = ChecksumOffloaded
			}
			if got := p.Checksum(l); got != want {
				t.Errorf("%s #%d: %v checksum %v, want %v", c.file, c.n, l, got, want)
			}
		}
	}
}

// checkSpans requires the spans to nest: each inside the one before (or
// the ICMP message for quoted ones), headers inside their PDUs.
func checkSpans(t *testing.T, c captured, p *Packet) {
	t.Helper()
	prev := Span{End: len(p.Data)}
	for i, s := range p.Layers {
		if s.Start > s.HeaderEnd || s.HeaderEnd > s.End || s.End > len(p.Data) || s.Start < prev.HeaderEnd || s.End > prev.End {
			t.Errorf("%s #%d: span %d %+v does not nest in %+v", c.file, c.n, i, s, prev)
		}
		prev = s
	}
}

func crossCheck(t *testing.T, c captured, p *Packet, gp gopacket.Packet) {
	t.Helper()
	fail := func(what string, ours, theirs any) {
		t.Errorf("%s #%d: %s: ours %v, gopacket %v", c.file, c.n, what, ours, theirs)
	}
	eq := func(what string, ours, theirs any) {
		if ours != theirs {
			fail(what, ours, theirs)
		}
	}
	if e, ok := gp.Layer(gl.LayerTypeEthernet).(*gl.Ethernet); ok {
		eq("eth src", p.Ethernet.Src.String(), e.SrcMAC.String())
		eq("eth dst", p.Ethernet.Dst.String(), e.DstMAC.String())
		eq("eth type", uint16(p.Ethernet.EtherType), uint16(e.EthernetType))
	} else if p.Has(LayerEthernet) {
		fail("eth", true, false)
	}
	var tags []*gl.Dot1Q
	for _, l := range gp.Layers() {
		if d, ok := l.(*gl.Dot1Q); ok {
			tags = append(tags, d)
		}
	}
	eq("vlan tags", p.NumVLANs, len(tags))
	for i := 0; i < min(p.NumVLANs, len(tags)); i++ {
		v, d := p.VLANs[i], tags[i]
		eq("vlan id", v.ID, d.VLANIdentifier)
		eq("vlan priority", v.Priority, d.Priority)
		eq("vlan dei", v.DropEligible, d.DropEligible)
		eq("vlan type", uint16(v.EtherType), uint16(d.Type))
	}
	if a, ok := gp.Layer(gl.LayerTypeARP).(*gl.ARP); ok {
		eq("arp op", p.ARP.Operation, a.Operation)
		eq("arp hw type", p.ARP.HardwareType, uint16(a.AddrType))
		eq("arp proto", uint16(p.ARP.ProtocolType), uint16(a.Protocol))
		eq("arp sender hw", net.HardwareAddr(p.ARP.SenderHardware).String(), net.HardwareAddr(a.SourceHwAddress).String())
		eq("arp sender ip", p.ARP.SenderIP().String(), net.IP(a.SourceProtAddress).String())
		eq("arp target hw", net.HardwareAddr(p.ARP.TargetHardware).String(), net.HardwareAddr(a.DstHwAddress).String())
		eq("arp target ip", p.ARP.TargetIP().String(), net.IP(a.DstProtAddress).String())
	} else if p.Has(LayerARP) {
		fail("arp", true, false)
	}
	if s, ok := gp.Layer(gl.LayerTypeLinuxSLL).(*gl.LinuxSLL); ok {
		eq("sll type", uint16(p.SLL.PacketType), uint16(s.PacketType))
		eq("sll addr", net.HardwareAddr(p.SLL.LinkAddr()).String(), s.Addr.String())
		eq("sll proto", uint16(p.SLL.Protocol), uint16(s.EthernetType))
	} else if p.Has(LayerSLL) {
		fail("sll", true, false)
	}
	if s, ok := gp.Layer(gl.LayerTypeLinuxSLL2).(*gl.LinuxSLL2); ok {
		eq("sll2 type", uint8(p.SLL2.PacketType), uint8(s.PacketType))
		eq("sll2 ifindex", p.SLL2.IfIndex, s.InterfaceIndex)
		eq("sll2 arphrd", p.SLL2.ARPHRDType, uint16(s.ARPHardwareType))
		eq("sll2 addr", net.HardwareAddr(p.SLL2.LinkAddr()).String(), s.Addr.String())
		eq("sll2 proto", uint16(p.SLL2.Protocol), uint16(s.ProtocolType))
	} else if p.Has(LayerSLL2) {
		fail("sll2", true, false)
	}
	if ip, ok := gp.Layer(gl.LayerTypeIPv4).(*gl.IPv4); ok {
		compareIPv4(eq, &p.IPv4, ip)
	} else if p.Has(LayerIPv4) {
		fail("ipv4", true, false)
	}
	if ip, ok := gp.Layer(gl.LayerTypeIPv6).(*gl.IPv6); ok {
		compareIPv6(eq, &p.IPv6, ip)
		if f, ok := gp.Layer(gl.LayerTypeIPv6Fragment).(*gl.IPv6Fragment); ok {
			eq("frag offset", p.IPv6.FragOffset, f.FragmentOffset)
			eq("frag more", p.IPv6.MoreFragments, f.MoreFragments)
			eq("frag id", p.IPv6.FragID, f.Identification)
		} else if p.IPv6.HasFragment {
			fail("ipv6 fragment header", true, false)
		}
		if h, ok := gp.Layer(gl.LayerTypeIPv6HopByHop).(*gl.IPv6HopByHop); ok {
			if len(p.IPv6.Extensions) == 0 || p.IPv6.Extensions[0].Type != IPProtocolHopByHop {
				fail("hop-by-hop", false, true)
			} else {
				eq("hop-by-hop bytes", string(p.IPv6.Extensions[0].Data), string(h.Contents))
			}
		}
	} else if p.Has(LayerIPv6) {
		fail("ipv6", true, false)
	}
	// gopacket leaves the first fragment's transport header undecoded;
	// Packet decodes it (only later fragments must not be).
	frag := p.ipIsFragment()
	if m, ok := gp.Layer(gl.LayerTypeICMPv4).(*gl.ICMPv4); ok {
		eq("icmp type", uint8(p.ICMPv4.Type), m.TypeCode.Type())
		eq("icmp code", p.ICMPv4.Code, m.TypeCode.Code())
		eq("icmp checksum", p.ICMPv4.Checksum, m.Checksum)
		eq("icmp id", p.ICMPv4.ID, m.Id)
		eq("icmp seq", p.ICMPv4.Seq, m.Seq)
		if p.ICMPv4.IsError() {
			compareQuote(t, c, eq, &p.ICMPv4.Quote, m.Payload)
		}
	} else if p.Has(LayerICMPv4) && !frag {
		fail("icmp", true, false)
	}
	if m, ok := gp.Layer(gl.LayerTypeICMPv6).(*gl.ICMPv6); ok {
		eq("icmpv6 type", uint8(p.ICMPv6.Type), m.TypeCode.Type())
		eq("icmpv6 code", p.ICMPv6.Code, m.TypeCode.Code())
		eq("icmpv6 checksum", p.ICMPv6.Checksum, m.Checksum)
		if e, ok := gp.Layer(gl.LayerTypeICMPv6Echo).(*gl.ICMPv6Echo); ok {
			eq("icmpv6 id", p.ICMPv6.ID, e.Identifier)
			eq("icmpv6 seq", p.ICMPv6.Seq, e.SeqNumber)
		}
		if p.ICMPv6.IsError() {
			// gopacket keeps the 4 type-specific bytes in the payload.
			compareQuote(t, c, eq, &p.ICMPv6.Quote, m.Payload[4:])
		}
	} else if p.Has(LayerICMPv6) && !frag {
		fail("icmpv6", true, false)
	}
	if tc, ok := gp.Layer(gl.LayerTypeTCP).(*gl.TCP); ok {
		compareTCP(eq, &p.TCP, tc)
		eq("tcp payload", string(p.Payload), string(tc.Payload))
	} else if p.Has(LayerTCP) && !frag {
		fail("tcp", true, false)
	}
	if u, ok := gp.Layer(gl.LayerTypeUDP).(*gl.UDP); ok {
		eq("udp src", p.UDP.SrcPort, uint16(u.SrcPort))
		eq("udp dst", p.UDP.DstPort, uint16(u.DstPort))
		eq("udp length", p.UDP.Length, u.Length)
		eq("udp checksum", p.UDP.Checksum, u.Checksum)
		eq("udp payload", string(p.Payload), string(u.Payload))
	} else if p.Has(LayerUDP) && !frag {
		fail("udp", true, false)
	}
}

func compareIPv4(eq func(string, any, any), ours *IPv4, ip *gl.IPv4) {
	eq("ipv4 ihl", ours.IHL, ip.IHL)
	eq("ipv4 tos", ours.TOS, ip.TOS)
	eq("ipv4 length", ours.TotalLength, ip.Length)
	eq("ipv4 id", ours.ID, ip.Id)
	eq("ipv4 flags", uint8(ours.Flags), uint8(ip.Flags))
	eq("ipv4 frag offset", ours.FragOffset, ip.FragOffset)
	eq("ipv4 ttl", ours.TTL, ip.TTL)
	eq("ipv4 protocol", uint8(ours.Protocol), uint8(ip.Protocol))
	eq("ipv4 checksum", ours.Checksum, ip.Checksum)
	eq("ipv4 src", ours.Src.String(), ip.SrcIP.String())
	eq("ipv4 dst", ours.Dst.String(), ip.DstIP.String())
	eq("ipv4 options", len(ours.Options), len(ip.Options))
}

func compareIPv6(eq func(string, any, any), ours *IPv6, ip *gl.IPv6) {
	eq("ipv6 traffic class", ours.TrafficClass, ip.TrafficClass)
	eq("ipv6 flow label", ours.FlowLabel, ip.FlowLabel)
	eq("ipv6 payload length", ours.PayloadLength, ip.Length)
	eq("ipv6 next header", uint8(ours.NextHeader), uint8(ip.NextHeader))
	eq("ipv6 hop limit", ours.HopLimit, ip.HopLimit)
	eq("ipv6 src", ours.Src.String(), ip.SrcIP.String())
	eq("ipv6 dst", ours.Dst.String(), ip.DstIP.String())
}

func compareTCP(eq func(string, any, any), ours *TCP, tc *gl.TCP) {
	eq("tcp src", ours.SrcPort, uint16(tc.SrcPort))
	eq("tcp dst", ours.DstPort, uint16(tc.DstPort))
	eq("tcp seq", ours.Seq, tc.Seq)
	eq("tcp ack", ours.Ack, tc.Ack)
	eq("tcp data offset", ours.DataOffset, tc.DataOffset)
	eq("tcp window", ours.Window, tc.Window)
	eq("tcp checksum", ours.Checksum, tc.Checksum)
	eq("tcp urgent", ours.Urgent, tc.Urgent)
	flags := []struct {
		f TCPFlags
		b bool
	}{{TCPFlagFIN, tc.FIN}, {TCPFlagSYN, tc.SYN}, {TCPFlagRST, tc.RST}, {TCPFlagPSH, tc.PSH},
		{TCPFlagACK, tc.ACK}, {TCPFlagURG, tc.URG}, {TCPFlagECE, tc.ECE}, {TCPFlagCWR, tc.CWR}, {TCPFlagNS, tc.NS}}
	for _, f := range flags {
		eq("tcp flag "+f.f.String(), ours.Flags.Has(f.f), f.b)
	}
	eq("tcp options", len(ours.Options), len(tc.Options))
	for i := 0; i < min(len(ours.Options), len(tc.Options)); i++ {
		o, g := ours.Options[i], tc.Options[i]
		eq("tcp option kind", uint8(o.Kind), uint8(g.OptionType))
		eq("tcp option length", o.Length, g.OptionLength)
		eq("tcp option data", string(o.Data), string(g.OptionData))
	}
}

// compareQuote decodes the quoted bytes with gopacket too. gopacket
// refuses a TCP header shorter than 20 bytes, so for short quotes only the
// IP header and the ports are compared.
func compareQuote(t *testing.T, c captured, eq func(string, any, any), q *Quote, quoted []byte) {
	t.Helper()
	if q.Version == 0 {
		t.Errorf("%s #%d: quote not parsed", c.file, c.n)
		return
	}
	first := gl.LayerTypeIPv4
	if q.Version == 6 {
		first = gl.LayerTypeIPv6
	}
	gp := gopacket.NewPacket(quoted, first, gopacket.Lazy)
	if ip, ok := gp.Layer(gl.LayerTypeIPv4).(*gl.IPv4); ok && q.Version == 4 {
		compareIPv4(eq, &q.IPv4, ip)
	}
	if ip, ok := gp.Layer(gl.LayerTypeIPv6).(*gl.IPv6); ok && q.Version == 6 {
		compareIPv6(eq, &q.IPv6, ip)
	}
	if q.HasPorts {
		src, dst := uint16(0), uint16(0)
		if tc, ok := gp.Layer(gl.LayerTypeTCP).(*gl.TCP); ok {
			src, dst = uint16(tc.SrcPort), uint16(tc.DstPort)
			eq("quoted tcp seq", q.Seq, tc.Seq)
			eq("quoted tcp ack present", q.HasAck, true)
			eq("quoted tcp ack", q.Ack, tc.Ack)
			eq("quoted tcp SYN", q.Flags.Has(TCPFlagSYN), tc.SYN)
			eq("quoted tcp ACK", q.Flags.Has(TCPFlagACK), tc.ACK)
			eq("quoted tcp RST", q.Flags.Has(TCPFlagRST), tc.RST)
		} else if u, ok := gp.Layer(gl.LayerTypeUDP).(*gl.UDP); ok {
			src, dst = uint16(u.SrcPort), uint16(u.DstPort)
		} else {
			src, dst = be16(q.Transport), be16(q.Transport[2:])
		}
		eq("quoted src port", q.SrcPort, src)
		eq("quoted dst port", q.DstPort, dst)
	}
	if q.HasICMP {
		if m, ok := gp.Layer(gl.LayerTypeICMPv4).(*gl.ICMPv4); ok {
			eq("quoted icmp type", q.ICMPType, m.TypeCode.Type())
			eq("quoted icmp id", q.ID, m.Id)
			eq("quoted icmp seq", q.EchoSeq, m.Seq)
		}
		if e, ok := gp.Layer(gl.LayerTypeICMPv6Echo).(*gl.ICMPv6Echo); ok {
			eq("quoted icmpv6 id", q.ID, e.Identifier)
			eq("quoted icmpv6 seq", q.EchoSeq, e.SeqNumber)
		}
	}
	if !bytes.Equal(q.Transport, quoted[q.HeaderLen:]) && q.Version == 6 {
		t.Errorf("%s #%d: quoted transport bytes differ", c.file, c.n)
	}
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
