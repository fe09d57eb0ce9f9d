package layers

import (
	"errors"
	"testing"

	"github.com/gopacket/gopacket"
	gl "github.com/gopacket/gopacket/layers"
)

// TestPacketOtherLinkTypes re-frames the IP packets of real captures in the
// link headers Linux cannot capture (BSD loopback, PPP, Cisco HDLC) and
// decodes them, cross-checking with gopacket where it has a decoder.
func TestPacketOtherLinkTypes(t *testing.T) {
	var ips [][]byte
	for _, f := range []string{"echo.pcap", "tcp.pcap", "errors.pcap"} {
		var p Packet
		for _, c := range readCapture(t, f) {
			if p.Decode(c.link, c.bytes) == nil && p.NetworkLayer() != LayerNone {
				ips = append(ips, c.bytes[p.Layers[0].HeaderEnd:])
			}
		}
	}
	frame := func(ip []byte, hdr func(v6 bool) []byte) []byte {
		return append(hdr(ip[0]>>4 == 6), ip...)
	}
	tests := []struct {
		name   string
		link   LinkType
		layer  LayerType
		hdr    func(v6 bool) []byte
		oracle bool // gopacket decodes it too
	}{
		{"null little-endian", LinkTypeNull, LayerNull, func(v6 bool) []byte {
			n := Null{Family: NullFamilyIPv4}
			if v6 {
				n.Family = NullFamilyIPv6Darwin
			}
			return n.AppendTo(nil)
		}, true},
		{"null big-endian", LinkTypeNull, LayerNull, func(v6 bool) []byte {
			n := Null{Family: NullFamilyIPv4, BigEndian: true}
			if v6 {
				n.Family = NullFamilyIPv6FreeBSD
			}
			return n.AppendTo(nil)
		}, false},
		{"loop", LinkTypeLoop, LayerNull, func(v6 bool) []byte {
			n := Null{Family: NullFamilyIPv4, BigEndian: true}
			if v6 {
				n.Family = NullFamilyIPv6BSD
			}
			return n.AppendTo(nil)
		}, false},
		{"ppp", LinkTypePPP, LayerPPP, func(v6 bool) []byte { return pppHeader(t, v6, false, false) }, true},
		{"ppp hdlc framing", LinkTypePPP, LayerPPP, func(v6 bool) []byte { return pppHeader(t, v6, true, false) }, false},
		{"ppp compressed", LinkTypePPPHDLC, LayerPPP, func(v6 bool) []byte { return pppHeader(t, v6, true, true) }, false},
		{"c_hdlc", LinkTypeCHDLC, LayerCHDLC, chdlcHeader, false},
		{"ppp_hdlc carrying cisco hdlc", LinkTypePPPHDLC, LayerCHDLC, chdlcHeader, false},
		{"raw", LinkTypeRaw, LayerNone, func(bool) []byte { return nil }, true},
	}
	var p, ref Packet
	for _, tt := range tests {
		for i, ip := range ips {
			b := frame(ip, tt.hdr)
			if err := ref.Decode(LinkTypeRaw, ip); err != nil {
				t.Fatal(err)
			}
			if err := p.Decode(tt.link, b); err != nil {
				t.Fatalf("%s %d: %v", tt.name, i, err)
			}
			off := len(b) - len(ip)
			if tt.layer != LayerNone && (p.Layers[0].Type != tt.layer || p.Layers[0].HeaderEnd != off) {
				t.Fatalf("%s %d: %s", tt.name, i, p.String())
			}
			if len(p.Layers) != len(ref.Layers)+min(off, 1) || p.Src() != ref.Src() || p.Dst() != ref.Dst() ||
				string(p.Payload) != string(ref.Payload) || p.Present&^(1<<tt.layer) != ref.Present&^(1<<LayerNone) {
				t.Fatalf("%s %d: %s, want %s", tt.name, i, p.String(), ref.String())
			}
			if tt.oracle {
				gp := gopacket.NewPacket(b, gl.LinkType(tt.link), gopacket.Default)
				if nl := gp.NetworkLayer(); nl == nil || nl.NetworkFlow().Src().String() != p.Src().String() {
					t.Fatalf("%s %d: gopacket sees %v", tt.name, i, gp)
				}
			}
		}
	}
}

func pppHeader(t *testing.T, v6, hdlc, compressed bool) []byte {
	h := PPP{HDLCFraming: hdlc, Compressed: compressed, Protocol: PPPProtocolIPv4}
	if v6 {
		h.Protocol = PPPProtocolIPv6
	}
	b, err := h.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func chdlcHeader(v6 bool) []byte {
	h := CiscoHDLC{Address: CHDLCUnicast, Protocol: EtherTypeIPv4}
	if v6 {
		h.Protocol = EtherTypeIPv6
	}
	return h.AppendTo(nil)
}

// TestPacketTruncated cuts real frames at every length: decoding must stop
// cleanly with a truncation error or a Truncated mark, never claim more than
// it has, and keep the headers it did decode.
func TestPacketTruncated(t *testing.T) {
	var p Packet
	for _, c := range allCaptured(t) {
		var full Packet
		if err := full.Decode(c.link, c.bytes); err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(c.bytes); n++ {
			err := p.Decode(c.link, c.bytes[:n])
			if err == nil && !p.Truncated && len(p.Layers) == len(full.Layers) {
				// Cutting padding or a payload the headers do not count.
				continue
			}
			if err != nil && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s #%d cut at %d: %v", c.file, c.n, n, err)
			}
			if err == nil && !p.Truncated && !(full.Fragment || full.Has(LayerICMPv4) || full.Has(LayerICMPv6)) {
				t.Fatalf("%s #%d cut at %d: %s decoded without complaint (full %s)", c.file, c.n, n, p.String(), full.String())
			}
			for i, s := range p.Layers {
				if s.End > n || s.Type != full.Layers[i].Type {
					t.Fatalf("%s #%d cut at %d: span %d %+v", c.file, c.n, n, i, s)
				}
			}
			if err != nil && !p.Truncated {
				var le *Error
				if !errors.As(err, &le) || le.Err == ErrTruncated {
					t.Fatalf("%s #%d cut at %d: error %v without Truncated", c.file, c.n, n, err)
				}
			}
		}
	}
}

func TestPacketErrors(t *testing.T) {
	var p Packet
	if err := p.Decode(LinkType(147), []byte{1, 2, 3}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown link type: %v", err)
	}
	if err := p.Decode(LinkTypeRaw, []byte{0x25, 0}); !errors.Is(err, ErrMalformed) {
		t.Errorf("IPv2: %v", err)
	}
	ip := buildIPv4UDP(t, 1, 2, []byte("x"))
	ip[0] = 0x44 // IHL 4 words
	if err := p.Decode(LinkTypeRaw, ip); !errors.Is(err, ErrMalformed) || p.ErrOffset != 0 {
		t.Errorf("IHL 4: %v", err)
	}
	ip = buildIPv4UDP(t, 1, 2, []byte("x"))
	ip[24], ip[25] = 0, 4 // UDP length 4
	if err := p.Decode(LinkTypeRaw, ip); !errors.Is(err, ErrMalformed) || p.ErrOffset != 20 || !p.Has(LayerUDP) {
		t.Errorf("UDP length 4: %v at %d", err, p.ErrOffset)
	}
	var e *Error
	if err := p.Decode(LinkTypeEthernet, make([]byte, 10)); !errors.As(err, &e) || e.Layer != LayerEthernet || e.Error() != "eth: truncated: fewer than 14 bytes" {
		t.Errorf("short frame: %v", err)
	}
	// Too many VLAN tags.
	f := (&Ethernet{EtherType: EtherTypeVLAN}).AppendTo(nil)
	for range MaxVLANTags + 1 {
		f, _ = (&VLAN{ID: 1, EtherType: EtherTypeVLAN}).AppendTo(f)
	}
	if err := p.Decode(LinkTypeEthernet, f); !errors.Is(err, ErrUnsupported) || p.NumVLANs != MaxVLANTags {
		t.Errorf("deep VLAN stack: %v", err)
	}
	// An unknown EtherType leaves the rest as payload, without error.
	f = append((&Ethernet{EtherType: EtherTypeLLDP}).AppendTo(nil), 1, 2, 3)
	if err := p.Decode(LinkTypeEthernet, f); err != nil || len(p.Payload) != 3 || p.PayloadOffset != 14 {
		t.Errorf("LLDP: %v %v", err, p.Payload)
	}
}

func TestPacketFCSAndPadding(t *testing.T) {
	var c captured
	for _, x := range readCapture(t, "echo.pcap") {
		if len(x.bytes) == 42 { // the ARP request
			c = x
			break
		}
	}
	frame := append(append([]byte{}, c.bytes...), make([]byte, 60-len(c.bytes))...)
	frame = AppendFCS(frame)
	p := Packet{EthernetFCS: true}
	if err := p.Decode(LinkTypeEthernet, frame); err != nil || !p.Ethernet.HasFCS || !CheckFCS(frame) ||
		p.Layers[0].End != 64 || p.Layers[1].End != 42 || p.ARP.TargetIP() != addrR {
		t.Fatalf("%v %s %+v", err, p.String(), p.Layers)
	}
	ip := readCapture(t, "tcp.pcap")[17] // RST, 54 bytes: IPv4 + TCP with no options
	frame = AppendFCS(append(append([]byte{}, ip.bytes...), make([]byte, 6)...))
	if err := p.Decode(LinkTypeEthernet, frame); err != nil || p.Layers[1].End != 54 || len(p.Payload) != 0 ||
		p.Checksum(LayerTCP) != ChecksumGood {
		t.Fatalf("padded RST: %v %+v", err, p.Layers)
	}
}

func TestLayerModel(t *testing.T) {
	for _, tt := range []struct {
		l         LayerType
		name, tcp string
		pdu       PDU
	}{
		{LayerEthernet, "eth", "link", PDUFrame}, {LayerVLAN, "vlan", "link", PDUFrame}, {LayerARP, "arp", "link", PDUPacket},
		{LayerSLL, "sll", "link", PDUFrame}, {LayerSLL2, "sll2", "link", PDUFrame}, {LayerNull, "null", "link", PDUFrame},
		{LayerPPP, "ppp", "link", PDUFrame}, {LayerCHDLC, "chdlc", "link", PDUFrame},
		{LayerIPv4, "ipv4", "network", PDUPacket}, {LayerIPv6, "ipv6", "network", PDUPacket},
		{LayerICMPv4, "icmp", "network", PDUMessage}, {LayerICMPv6, "icmpv6", "network", PDUMessage},
		{LayerTCP, "tcp", "transport", PDUSegment}, {LayerUDP, "udp", "transport", PDUDatagram},
	} {
		if tt.l.String() != tt.name || string(tt.l.TCPIPLayer()) != tt.tcp || tt.l.PDU() != tt.pdu {
			t.Errorf("%v: %s %s %s", tt.l, tt.l, tt.l.TCPIPLayer(), tt.l.PDU())
		}
	}
}
