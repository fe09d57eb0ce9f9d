package layers

import (
	"testing"
)

// Every parser has a fuzz target seeded with the headers of the lab
// captures. Each checks that the parser does not panic, that what it hands
// back aliases the input, and that a decoder that has seen the input once
// decodes it again without allocating: memory stays bounded by the first
// decode, which grows option lists at most to the input's length.

// seedLayer adds, for every captured packet holding a header of type l,
// the bytes from that header on.
func seedLayer(f *testing.F, l LayerType) {
	var p Packet
	for _, c := range allCaptured(f) {
		if p.Decode(c.link, c.bytes) != nil {
			continue
		}
		for _, s := range p.Layers {
			if s.Type == l {
				f.Add(append([]byte{}, c.bytes[s.Start:]...))
			}
		}
	}
}

// fuzzDecoder runs decode on each input twice: the second run must not
// allocate.
func fuzzDecoder(f *testing.F, l LayerType, decode func([]byte) error, check func(t *testing.T, data []byte, err error)) {
	seedLayer(f, l)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		err := decode(data)
		check(t, data, err)
		if n := testing.AllocsPerRun(1, func() { _ = decode(data) }); n != 0 {
			t.Fatalf("second decode allocated %v times", n)
		}
	})
}

// within reports whether sub lies inside data (or is empty).
func within(sub, data []byte) bool {
	if len(sub) == 0 {
		return true
	}
	if len(data) == 0 {
		return false
	}
	for i := range data {
		if &data[i] == &sub[0] {
			return len(sub) <= len(data)-i
		}
	}
	return false
}

func mustWithin(t *testing.T, what string, sub, data []byte) {
	t.Helper()
	if !within(sub, data) {
		t.Fatalf("%s does not alias the input", what)
	}
}

func FuzzParseEthernet(f *testing.F) {
	var e Ethernet
	fuzzDecoder(f, LayerEthernet, func(b []byte) error { return e.DecodeWithFCS(b) }, func(t *testing.T, b []byte, err error) {
		if err == nil {
			mustWithin(t, "payload", e.Payload, b)
			if len(e.Payload) != len(b)-18 {
				t.Fatal("payload length")
			}
		}
		if err := e.DecodeFromBytes(b); err == nil {
			mustWithin(t, "payload", e.Payload, b)
		}
	})
}

func FuzzParseVLAN(f *testing.F) {
	var v VLAN
	fuzzDecoder(f, LayerVLAN, v.DecodeFromBytes, func(t *testing.T, b []byte, err error) {
		if err == nil && (v.ID > 4095 || v.Priority > 7 || !within(v.Payload, b)) {
			t.Fatalf("%+v", v)
		}
	})
}

func FuzzParseARP(f *testing.F) {
	var a ARP
	fuzzDecoder(f, LayerARP, a.DecodeFromBytes, func(t *testing.T, b []byte, err error) {
		if err != nil {
			return
		}
		mustWithin(t, "sender", a.SenderHardware, b)
		mustWithin(t, "target", a.TargetProtocol, b)
		if out, err := a.AppendTo(nil); err != nil || string(out) != string(b[:a.Len()]) {
			t.Fatalf("re-encoding differs: %v", err)
		}
	})
}

func FuzzParseSLL(f *testing.F) {
	var s SLL
	fuzzDecoder(f, LayerSLL, s.DecodeFromBytes, func(t *testing.T, b []byte, err error) {
		if err == nil && (len(s.LinkAddr()) > 8 || string(s.AppendTo(nil)) != string(b[:SLLHeaderLen])) {
			t.Fatalf("%+v", s)
		}
	})
}

func FuzzParseSLL2(f *testing.F) {
	var s SLL2
	fuzzDecoder(f, LayerSLL2, s.DecodeFromBytes, func(t *testing.T, b []byte, err error) {
		if err == nil && (len(s.LinkAddr()) > 8 || string(s.AppendTo(nil)) != string(b[:SLL2HeaderLen])) {
			t.Fatalf("%+v", s)
		}
	})
}

func FuzzParseNull(f *testing.F) {
	var n Null
	f.Add([]byte{2, 0, 0, 0, 0x45})
	f.Add([]byte{0, 0, 0, 30, 0x60})
	fuzzDecoder(f, LayerNull, n.DecodeFromBytes, func(t *testing.T, b []byte, err error) {
		if err == nil && string(n.AppendTo(nil)) != string(b[:4]) {
			t.Fatalf("re-encoding differs: %+v", n)
		}
	})
}

func FuzzParsePPP(f *testing.F) {
	var p PPP
	f.Add([]byte{0xff, 0x03, 0x00, 0x21, 0x45})
	f.Add([]byte{0x21, 0x45})
	f.Add([]byte{0xff, 0x03, 0xc0, 0x21, 1})
	fuzzDecoder(f, LayerPPP, p.DecodeFromBytes, func(t *testing.T, b []byte, err error) {
		if err != nil {
			return
		}
		out, err := p.AppendTo(nil)
		if err != nil || string(out) != string(b[:p.Len()]) || !within(p.Payload, b) {
			t.Fatalf("re-encoding differs: %+v %v", p, err)
		}
	})
}

func FuzzParseCiscoHDLC(f *testing.F) {
	var c CiscoHDLC
	f.Add([]byte{0x0f, 0x00, 0x08, 0x00, 0x45})
	f.Add([]byte{0x8f, 0x00, 0x80, 0x35})
	fuzzDecoder(f, LayerCHDLC, c.DecodeFromBytes, func(t *testing.T, b []byte, err error) {
		if err == nil && string(c.AppendTo(nil)) != string(b[:4]) {
			t.Fatalf("re-encoding differs: %+v", c)
		}
	})
}

func FuzzParseIPv4(f *testing.F) {
	var ip IPv4
	fuzzDecoder(f, LayerIPv4, ip.DecodeFromBytes, func(t *testing.T, b []byte, err error) {
		if err != nil {
			return
		}
		mustWithin(t, "payload", ip.Payload, b)
		mustWithin(t, "header", ip.Contents, b)
		if len(ip.Options) > len(ip.Contents) || ip.HeaderLen() != len(ip.Contents) {
			t.Fatalf("%d options in a %d-byte header", len(ip.Options), len(ip.Contents))
		}
		_ = ip.VerifyChecksum()
	})
}

func FuzzParseIPv6(f *testing.F) {
	var ip IPv6
	fuzzDecoder(f, LayerIPv6, ip.DecodeFromBytes, func(t *testing.T, b []byte, err error) {
		if len(ip.Extensions) > maxIPv6Extensions {
			t.Fatalf("%d extensions", len(ip.Extensions))
		}
		if err != nil {
			return
		}
		mustWithin(t, "payload", ip.Payload, b)
		prev := IPv6HeaderLen
		for _, e := range ip.Extensions {
			if e.Start != prev || e.End <= e.Start || e.End > len(b) {
				t.Fatalf("extension %+v after %d", e, prev)
			}
			mustWithin(t, "extension", e.Data, b)
			prev = e.End
		}
	})
}

func FuzzParseICMPv4(f *testing.F) {
	var m ICMPv4
	fuzzDecoder(f, LayerICMPv4, m.DecodeFromBytes, func(t *testing.T, b []byte, err error) {
		if err != nil {
			return
		}
		mustWithin(t, "data", m.Data, b)
		mustWithin(t, "quoted transport", m.Quote.Transport, b)
		_, _ = m.String(), m.VerifyChecksum()
		if m.Quote.HasPorts && len(m.Quote.Transport) < 4 || m.Quote.HasSeq && len(m.Quote.Transport) < 8 ||
			m.Quote.HasAck && len(m.Quote.Transport) < 14 {
			t.Fatalf("quote claims more than it has: %+v", m.Quote)
		}
	})
}

func FuzzParseICMPv6(f *testing.F) {
	var m ICMPv6
	fuzzDecoder(f, LayerICMPv6, m.DecodeFromBytes, func(t *testing.T, b []byte, err error) {
		if err != nil {
			return
		}
		mustWithin(t, "data", m.Data, b)
		mustWithin(t, "quoted transport", m.Quote.Transport, b)
		_, _ = m.String(), m.VerifyChecksum(src6, dst6)
		if m.Quote.HasICMP && len(m.Quote.Transport) < 8 {
			t.Fatalf("quote claims more than it has: %+v", m.Quote)
		}
	})
}

func FuzzParseTCP(f *testing.F) {
	var tc TCP
	fuzzDecoder(f, LayerTCP, tc.DecodeFromBytes, func(t *testing.T, b []byte, err error) {
		if err != nil {
			return
		}
		mustWithin(t, "payload", tc.Payload, b)
		if len(tc.Options) > 40 {
			t.Fatalf("%d options", len(tc.Options))
		}
		for _, o := range tc.Options {
			mustWithin(t, "option", o.Data, b)
			_ = o.String()
		}
		_, _ = tc.Flags.String(), tc.VerifyChecksum(src4, dst4)
		_, _ = tc.MSS()
		_ = tc.AppendSACKBlocks(nil)
	})
}

func FuzzParseUDP(f *testing.F) {
	var u UDP
	fuzzDecoder(f, LayerUDP, u.DecodeFromBytes, func(t *testing.T, b []byte, err error) {
		if err == nil {
			mustWithin(t, "payload", u.Payload, b)
			_ = u.VerifyChecksum(src6, dst6)
		}
	})
}

// FuzzParseICMPv4Read covers the socket-read entry point ping uses.
func FuzzParseICMPv4Read(f *testing.F) {
	var ip IPv4
	var m ICMPv4
	seedLayer(f, LayerIPv4)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, withIP := range []bool{true, false} {
			if err := DecodeICMPv4Read(data, withIP, &ip, &m); err == nil {
				mustWithin(t, "message", m.Contents, data)
			}
			if n := testing.AllocsPerRun(1, func() { _ = DecodeICMPv4Read(data, withIP, &ip, &m) }); n != 0 {
				t.Fatalf("second decode allocated %v times", n)
			}
		}
	})
}

// FuzzParsePacket runs the whole decoder over any link type.
func FuzzParsePacket(f *testing.F) {
	for _, c := range allCaptured(f) {
		f.Add(uint16(c.link), false, c.bytes)
	}
	for _, lt := range []LinkType{LinkTypeNull, LinkTypeLoop, LinkTypePPP, LinkTypePPPHDLC, LinkTypeCHDLC} {
		f.Add(uint16(lt), false, []byte{0x0f, 0x00, 0x08, 0x00, 0x45, 0, 0, 20})
	}
	f.Add(uint16(LinkTypeEthernet), true, AppendFCS(make([]byte, 60)))
	var p Packet
	f.Fuzz(func(t *testing.T, lt uint16, fcs bool, data []byte) {
		p.EthernetFCS = fcs
		_ = p.Decode(LinkType(lt), data)
		checkDecoded(t, &p, data)
		if n := testing.AllocsPerRun(1, func() { _ = p.Decode(LinkType(lt), data) }); n != 0 {
			t.Fatalf("second decode allocated %v times", n)
		}
	})
}

func checkDecoded(t *testing.T, p *Packet, data []byte) {
	t.Helper()
	prev := Span{End: len(data)}
	for _, s := range p.Layers {
		if s.Start > s.HeaderEnd || s.HeaderEnd > s.End || s.End > len(data) || s.Start < prev.HeaderEnd || s.End > prev.End {
			t.Fatalf("span %+v does not nest in %+v (%s)", s, prev, p)
		}
		prev = s
	}
	mustWithin(t, "payload", p.Payload, data)
	if p.Payload != nil && (p.PayloadOffset < 0 || p.PayloadOffset+len(p.Payload) > len(data)) {
		t.Fatalf("payload offset %d", p.PayloadOffset)
	}
	for _, l := range []LayerType{LayerIPv4, LayerICMPv4, LayerICMPv6, LayerTCP, LayerUDP} {
		_ = p.Checksum(l)
	}
	_ = p.String()
	if p.Err != nil {
		_ = p.Err.Error()
	}
}
