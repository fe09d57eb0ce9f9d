package layers

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

var (
	src4 = netip.MustParseAddr("198.18.0.1")
	dst4 = netip.MustParseAddr("198.18.1.2")
	src6 = netip.MustParseAddr("2001:db8::1")
	dst6 = netip.MustParseAddr("2001:db8:1::2")
)

func TestRoundTripLinkHeaders(t *testing.T) {
	t.Run("ethernet", func(t *testing.T) {
		in := Ethernet{Dst: Broadcast, Src: macA, EtherType: EtherTypeARP}
		b := append(in.AppendTo(nil), 1, 2, 3)
		var out Ethernet
		if err := out.DecodeFromBytes(b); err != nil || out.Dst != in.Dst || out.Src != in.Src ||
			out.EtherType != in.EtherType || !bytes.Equal(out.Payload, []byte{1, 2, 3}) || out.HasFCS {
			t.Fatalf("%+v %v", out, err)
		}
		f := AppendFCS(b)
		if !CheckFCS(f) || len(f) != len(b)+4 {
			t.Fatal("FCS does not check")
		}
		if err := out.DecodeWithFCS(f); err != nil || !out.HasFCS || out.FCS != FCS(b) || len(out.Payload) != 3 {
			t.Fatalf("with FCS: %+v %v", out, err)
		}
		f[5] ^= 1
		if CheckFCS(f) {
			t.Fatal("corrupt frame passes the FCS check")
		}
	})
	t.Run("vlan", func(t *testing.T) {
		for _, in := range []VLAN{{Priority: 7, DropEligible: true, ID: 4095, EtherType: EtherTypeIPv6}, {ID: 1, EtherType: EtherTypeVLAN}} {
			b, err := in.AppendTo(nil)
			if err != nil {
				t.Fatal(err)
			}
			var out VLAN
			if err := out.DecodeFromBytes(append(b, 9)); err != nil || out.Priority != in.Priority ||
				out.DropEligible != in.DropEligible || out.ID != in.ID || out.EtherType != in.EtherType || len(out.Payload) != 1 {
				t.Fatalf("%+v %v", out, err)
			}
		}
		if _, err := (&VLAN{ID: 4096}).AppendTo(nil); !errors.Is(err, ErrInvalid) {
			t.Fatalf("VLAN ID 4096: %v", err)
		}
	})
	t.Run("arp", func(t *testing.T) {
		in := ARP{HardwareType: ARPHardwareEthernet, ProtocolType: EtherTypeIPv4, Operation: ARPReply,
			SenderHardware: macA[:], SenderProtocol: src4.AsSlice(), TargetHardware: macR[:], TargetProtocol: dst4.AsSlice()}
		b, err := in.AppendTo(nil)
		if err != nil || len(b) != in.Len() || len(b) != 28 {
			t.Fatal(len(b), err)
		}
		var out ARP
		if err := out.DecodeFromBytes(b); err != nil || !reflect.DeepEqual(in, out) || out.SenderIP() != src4 || out.TargetIP() != dst4 {
			t.Fatalf("%+v %v", out, err)
		}
		in.TargetProtocol = nil
		if _, err := in.AppendTo(nil); !errors.Is(err, ErrInvalid) {
			t.Fatal("mismatched addresses accepted")
		}
	})
	t.Run("sll", func(t *testing.T) {
		in := SLL{PacketType: SLLOutgoing, ARPHRDType: 1, AddrLen: 6, Addr: [8]byte{2, 0, 0, 0, 0, 1}, Protocol: EtherTypeIPv6}
		var out SLL
		if err := out.DecodeFromBytes(in.AppendTo(nil)); err != nil || out.PacketType != in.PacketType || out.Addr != in.Addr ||
			out.Protocol != in.Protocol || out.ARPHRDType != 1 || len(out.LinkAddr()) != 6 {
			t.Fatalf("%+v %v", out, err)
		}
	})
	t.Run("sll2", func(t *testing.T) {
		in := SLL2{Protocol: EtherTypeIPv4, IfIndex: 7, ARPHRDType: 1, PacketType: SLLBroadcast, AddrLen: 6, Addr: [8]byte{1, 2, 3, 4, 5, 6}}
		b := in.AppendTo(nil)
		var out SLL2
		if err := out.DecodeFromBytes(b); err != nil || len(b) != SLL2HeaderLen || out.Payload == nil {
			t.Fatal(err)
		}
		out.Payload = nil
		if !reflect.DeepEqual(in, out) {
			t.Fatalf("%+v", out)
		}
	})
	t.Run("null", func(t *testing.T) {
		for _, in := range []Null{{Family: NullFamilyIPv4}, {Family: NullFamilyIPv6Darwin, BigEndian: true}, {Family: NullFamilyIPv6FreeBSD}} {
			var out Null
			if err := out.DecodeFromBytes(in.AppendTo(nil)); err != nil || out.Family != in.Family || out.BigEndian != in.BigEndian {
				t.Fatalf("%+v -> %+v %v", in, out, err)
			}
		}
	})
	t.Run("ppp", func(t *testing.T) {
		for _, in := range []PPP{{Protocol: PPPProtocolIPv4}, {HDLCFraming: true, Protocol: PPPProtocolIPv6},
			{Compressed: true, Protocol: PPPProtocolIPv4}, {HDLCFraming: true, Compressed: true, Protocol: PPPProtocolIPv6},
			{Protocol: PPPProtocolLCP}} {
			b, err := in.AppendTo(nil)
			if err != nil || len(b) != in.Len() {
				t.Fatal(err)
			}
			var out PPP
			if err := out.DecodeFromBytes(append(b, 0x45)); err != nil || out.Protocol != in.Protocol ||
				out.HDLCFraming != in.HDLCFraming || out.Compressed != in.Compressed || len(out.Payload) != 1 {
				t.Fatalf("%+v -> %+v %v", in, out, err)
			}
		}
		if _, err := (&PPP{Compressed: true, Protocol: PPPProtocolLCP}).AppendTo(nil); !errors.Is(err, ErrInvalid) {
			t.Fatal("LCP compressed to one byte")
		}
	})
	t.Run("chdlc", func(t *testing.T) {
		in := CiscoHDLC{Address: CHDLCBroadcast, Protocol: EtherTypeRARP}
		var out CiscoHDLC
		if err := out.DecodeFromBytes(in.AppendTo(nil)); err != nil || out.Address != in.Address || out.Protocol != in.Protocol {
			t.Fatalf("%+v %v", out, err)
		}
	})
}

func TestRoundTripIPv4(t *testing.T) {
	tests := []IPv4{
		{TOS: 0xb8, ID: 0xbeef, Flags: IPv4DontFragment, TTL: 64, Protocol: IPProtocolTCP, Src: src4, Dst: dst4},
		{ID: 7, Flags: IPv4MoreFragments, FragOffset: 185, TTL: 1, Protocol: IPProtocolUDP, Src: src4, Dst: dst4},
		{TTL: 255, Protocol: IPProtocolICMPv4, Src: src4, Dst: dst4, Options: []IPv4Option{
			{Type: IPv4OptionRouterAlert, Data: []byte{0, 0}}, {Type: IPv4OptionNOP},
			{Type: IPv4OptionRecordRoute, Data: []byte{4, 0, 0, 0, 0, 0, 0, 0, 0}}, {Type: IPv4OptionEOL}}},
		{Flags: IPv4Reserved | IPv4DontFragment, FragOffset: 0x1fff, Protocol: 253, Src: dst4, Dst: src4},
	}
	for i, in := range tests {
		payload := []byte("payload")
		b, err := in.AppendTo(nil, len(payload))
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		b = append(b, payload...)
		var out IPv4
		if err := out.DecodeFromBytes(append(b, 0, 0)); err != nil { // Ethernet padding after
			t.Fatalf("%d: %v", i, err)
		}
		if !out.VerifyChecksum() || out.Checksum != in.Checksum || out.TotalLength != uint16(len(b)) || out.Truncated ||
			!bytes.Equal(out.Payload, payload) || out.HeaderLen() != in.Len() {
			t.Fatalf("%d: %+v", i, out)
		}
		if out.TOS != in.TOS || out.ID != in.ID || out.Flags != in.Flags || out.FragOffset != in.FragOffset ||
			out.TTL != in.TTL || out.Protocol != in.Protocol || out.Src != in.Src || out.Dst != in.Dst {
			t.Fatalf("%d: fields differ: %+v", i, out)
		}
		var kinds []IPv4OptionType
		for _, o := range out.Options {
			kinds = append(kinds, o.Type)
		}
		var want []IPv4OptionType
		for _, o := range in.Options {
			want = append(want, o.Type)
		}
		if !reflect.DeepEqual(kinds, want) {
			t.Fatalf("%d: options %v, want %v", i, kinds, want)
		}
		b[12] ^= 0xff
		if out.DecodeFromBytes(b) != nil || out.VerifyChecksum() {
			t.Fatalf("%d: corrupted header verifies", i)
		}
	}
	if s := (IPv4Reserved | IPv4DontFragment | IPv4MoreFragments).String(); s != "RES,DF,MF" {
		t.Errorf("flags %q", s)
	}
	bad := []IPv4{
		{Src: src4, Dst: dst6},
		{Src: src4, Dst: dst4, Options: []IPv4Option{{Type: IPv4OptionRecordRoute, Data: make([]byte, 39)}}},
		{Src: src4, Dst: dst4, FragOffset: 0x2000},
	}
	for i, in := range bad {
		if _, err := in.AppendTo(nil, 0); !errors.Is(err, ErrInvalid) {
			t.Errorf("bad %d accepted: %v", i, err)
		}
	}
	if _, err := (&IPv4{Src: src4, Dst: dst4}).AppendTo(nil, 65516); !errors.Is(err, ErrInvalid) {
		t.Error("oversized packet accepted")
	}
}

func TestRoundTripIPv6(t *testing.T) {
	hbh := IPv6Extension{Type: IPProtocolHopByHop, Data: []byte{0, 0, 5, 2, 0, 0, 1, 0}} // router alert, PadN
	dst := IPv6Extension{Type: IPProtocolDstOpts, Data: []byte{0, 1, 1, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}
	rt := IPv6Extension{Type: IPProtocolRouting, Data: append([]byte{0, 2, 0, 0, 0, 0, 0, 0}, dst6.AsSlice()...)}
	ah := IPv6Extension{Type: IPProtocolAH, Data: make([]byte, 24)}
	ah.Data[1] = 4
	tests := []IPv6{
		{TrafficClass: 0xb8, FlowLabel: 0xfffff, HopLimit: 64, Protocol: IPProtocolTCP, Src: src6, Dst: dst6},
		{HopLimit: 1, Protocol: IPProtocolICMPv6, Src: src6, Dst: dst6, Extensions: []IPv6Extension{hbh}},
		{HopLimit: 9, Protocol: IPProtocolUDP, Src: src6, Dst: dst6,
			Extensions: []IPv6Extension{hbh, dst, rt, FragmentExtension(0, true, 0xcafe), ah}},
		{HopLimit: 9, Protocol: IPProtocolUDP, Src: src6, Dst: dst6, Extensions: []IPv6Extension{FragmentExtension(181, false, 77)}},
	}
	for i, in := range tests {
		payload := []byte("0123456789abcdef")
		b, err := in.AppendTo(nil, len(payload))
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		b = append(b, payload...)
		var out IPv6
		if err := out.DecodeFromBytes(b); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if out.TrafficClass != in.TrafficClass || out.FlowLabel != in.FlowLabel || out.HopLimit != in.HopLimit ||
			out.Src != in.Src || out.Dst != in.Dst || out.Protocol != in.Protocol || out.NextHeader != in.NextHeader ||
			int(out.PayloadLength) != len(b)-40 || !bytes.Equal(out.Payload, payload) || out.HeaderLen() != in.Len() {
			t.Fatalf("%d: %+v", i, out)
		}
		if len(out.Extensions) != len(in.Extensions) {
			t.Fatalf("%d: %d extensions", i, len(out.Extensions))
		}
		for j, e := range out.Extensions {
			w := in.Extensions[j]
			if e.Type != w.Type || e.Start != w.Start || e.End != w.End || !bytes.Equal(e.Data, w.Data) || e.NextHeader != w.NextHeader {
				t.Fatalf("%d: extension %d %+v, want %+v", i, j, e, w)
			}
		}
	}
	var out IPv6
	if b, _ := tests[2].AppendTo(nil, 0); out.DecodeFromBytes(b) != nil || !out.HasFragment || !out.MoreFragments || out.FragID != 0xcafe || !out.IsFragment() {
		t.Fatalf("fragment fields: %+v", out)
	}
	if b, _ := tests[3].AppendTo(nil, 16); out.DecodeFromBytes(append(b, make([]byte, 16)...)) != nil || out.FragOffset != 181 || out.Protocol != IPProtocolUDP {
		t.Fatalf("later fragment: %+v", out)
	}
	bad := IPv6{Src: src6, Dst: dst6, Extensions: []IPv6Extension{{Type: IPProtocolHopByHop, Data: make([]byte, 12)}}}
	if _, err := bad.AppendTo(nil, 0); !errors.Is(err, ErrInvalid) {
		t.Error("extension of 12 bytes accepted")
	}
	if _, err := (&IPv6{Src: src4, Dst: dst6}).AppendTo(nil, 0); !errors.Is(err, ErrInvalid) {
		t.Error("IPv4 source accepted")
	}
}

func TestRoundTripICMPv4(t *testing.T) {
	quote := buildIPv4UDP(t, 40000, 33434, []byte("probe"))
	tests := []struct {
		in    ICMPv4
		check func(*ICMPv4) bool
	}{
		{ICMPv4{Type: ICMPv4EchoRequest, ID: 0x1234, Seq: 9, Data: []byte("ping payload")},
			func(m *ICMPv4) bool { return m.ID == 0x1234 && m.Seq == 9 && !m.IsError() && m.Quote.Version == 0 }},
		{ICMPv4{Type: ICMPv4EchoReply, ID: 1, Seq: 65535},
			func(m *ICMPv4) bool { return m.ID == 1 && m.Seq == 65535 }},
		{ICMPv4{Type: ICMPv4DestUnreachable, Code: 4, MTU: 1280, Data: quote},
			func(m *ICMPv4) bool {
				return m.MTU == 1280 && m.Quote.HasPorts && m.Quote.SrcPort == 40000 && m.Quote.DstPort == 33434 && m.Quote.Dst == dst4
			}},
		{ICMPv4{Type: ICMPv4TimeExceeded, Code: 1, Data: quote[:28]},
			func(m *ICMPv4) bool { return m.Quote.Version == 4 && m.Quote.HasPorts && !m.Quote.Truncated }},
		{ICMPv4{Type: ICMPv4ParamProblem, Pointer: 9, Data: quote[:22]},
			func(m *ICMPv4) bool {
				return m.Pointer == 9 && m.Quote.Version == 4 && !m.Quote.HasPorts && m.Quote.Truncated
			}},
		{ICMPv4{Type: ICMPv4Redirect, Code: 1, Gateway: netip.MustParseAddr("198.18.0.254"), Data: quote},
			func(m *ICMPv4) bool { return m.Gateway == netip.MustParseAddr("198.18.0.254") && m.Quote.HasPorts }},
		{ICMPv4{Type: ICMPv4DestUnreachable, Code: 3, Length: 7, Data: append(append([]byte{}, quote...), make([]byte, 128-len(quote))...)},
			func(m *ICMPv4) bool { return m.Length == 7 && len(m.Quote.Transport) == 8 }},
		{ICMPv4{Type: 200, Code: 1, Rest: [4]byte{1, 2, 3, 4}},
			func(m *ICMPv4) bool { return m.Rest == [4]byte{1, 2, 3, 4} }},
	}
	for i, tt := range tests {
		b := tt.in.AppendTo(nil)
		if len(b) != tt.in.Len() || Checksum(b) != 0 {
			t.Fatalf("%d: length %d, checksum %#x", i, len(b), Checksum(b))
		}
		var out ICMPv4
		if err := out.DecodeFromBytes(b); err != nil || out.Type != tt.in.Type || out.Code != tt.in.Code ||
			out.Checksum != tt.in.Checksum || !out.VerifyChecksum() || !bytes.Equal(out.Data, tt.in.Data) || !tt.check(&out) {
			t.Fatalf("%d: %v %+v", i, err, out)
		}
	}
}

func TestRoundTripICMPv6(t *testing.T) {
	tcpQuote := buildIPv6TCP(t, 50000, 443, 0xfeedface)
	tests := []struct {
		in    ICMPv6
		check func(*ICMPv6) bool
	}{
		{ICMPv6{Type: ICMPv6EchoRequest, ID: 7, Seq: 3, Data: []byte("abc")},
			func(m *ICMPv6) bool { return m.ID == 7 && m.Seq == 3 && !m.IsError() }},
		{ICMPv6{Type: ICMPv6PacketTooBig, MTU: 1280, Data: tcpQuote},
			func(m *ICMPv6) bool {
				return m.MTU == 1280 && m.Quote.HasSeq && m.Quote.Seq == 0xfeedface && m.Quote.DstPort == 443
			}},
		{ICMPv6{Type: ICMPv6ParamProblem, Code: 1, Pointer: 40, Data: tcpQuote[:44]},
			func(m *ICMPv6) bool {
				return m.Pointer == 40 && m.Quote.HasPorts && !m.Quote.HasSeq && m.Quote.Truncated
			}},
		{ICMPv6{Type: ICMPv6DestUnreachable, Code: 4, Data: tcpQuote[:30]},
			func(m *ICMPv6) bool { return m.Quote.Version == 0 && m.Quote.Truncated }},
		{ICMPv6{Type: ICMPv6NeighborSolicit, Data: dst6.AsSlice()},
			func(m *ICMPv6) bool { return m.Target == dst6 }},
	}
	for i, tt := range tests {
		b := tt.in.AppendTo(nil, src6, dst6)
		c, _ := PseudoHeaderChecksum(src6, dst6, IPProtocolICMPv6, b)
		if len(b) != tt.in.Len() || c != 0 {
			t.Fatalf("%d: checksum does not verify", i)
		}
		var out ICMPv6
		if err := out.DecodeFromBytes(b); err != nil || out.Type != tt.in.Type || out.Code != tt.in.Code ||
			!out.VerifyChecksum(src6, dst6) || out.VerifyChecksum(src6, src6) || !tt.check(&out) {
			t.Fatalf("%d: %v %+v", i, err, out)
		}
	}
	if b := (&ICMPv6{Type: ICMPv6EchoRequest}).AppendTo(nil, netip.Addr{}, netip.Addr{}); b[2] != 0 || b[3] != 0 {
		t.Error("checksum written without addresses")
	}
}

func TestRoundTripTCP(t *testing.T) {
	opts := []TCPOption{TCPOptionMSSOf(1460), TCPOptionSACKPermittedOf(), TCPOptionTimestampsOf(123456, 654321),
		TCPOptionNOPOf(), TCPOptionWindowScaleOf(7)}
	tests := []struct {
		in       TCP
		src, dst netip.Addr
		payload  []byte
	}{
		{TCP{SrcPort: 40000, DstPort: 443, Seq: 0xdeadbeef, Flags: TCPFlagSYN, Window: 64240, Options: opts}, src4, dst4, nil},
		{TCP{SrcPort: 443, DstPort: 40000, Seq: 1, Ack: 0xdeadbef0, Flags: TCPFlagSYN | TCPFlagACK | TCPFlagECE, Window: 65535, Options: opts}, src6, dst6, nil},
		{TCP{SrcPort: 1, DstPort: 2, Seq: 5, Ack: 6, Flags: 0x1ff, Window: 1, Urgent: 3, Reserved: 5,
			Options: []TCPOption{TCPOptionNOPOf(), TCPOptionNOPOf(), TCPOptionSACKOf(SACKBlock{100, 200}, SACKBlock{300, 400}),
				{Kind: 254, Data: []byte{0xf9, 0x89}}, {Kind: TCPOptionEOL}}}, src4, dst4, []byte("GET / HTTP/1.0\r\n\r\n")},
		{TCP{SrcPort: 80, DstPort: 80, Flags: TCPFlagRST}, src6, dst6, []byte{1}},
	}
	for i, tt := range tests {
		b, err := tt.in.AppendTo(nil, tt.src, tt.dst, tt.payload)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if c, _ := PseudoHeaderChecksum(tt.src, tt.dst, IPProtocolTCP, b); c != 0 || len(b) != tt.in.Len()+len(tt.payload) {
			t.Fatalf("%d: checksum %#x", i, c)
		}
		var out TCP
		if err := out.DecodeFromBytes(b); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		in := tt.in
		if out.SrcPort != in.SrcPort || out.DstPort != in.DstPort || out.Seq != in.Seq || out.Ack != in.Ack ||
			out.Flags != in.Flags || out.Window != in.Window || out.Urgent != in.Urgent || out.Reserved != in.Reserved ||
			out.Checksum != in.Checksum || out.DataOffset != in.DataOffset || !bytes.Equal(out.Payload, tt.payload) {
			t.Fatalf("%d: %+v", i, out)
		}
		if out.VerifyChecksum(tt.src, tt.dst) != ChecksumGood || out.VerifyChecksum(tt.src, tt.src) != ChecksumBad ||
			out.VerifyChecksum(src4, dst6) != ChecksumUnverified {
			t.Fatalf("%d: checksum verdicts wrong", i)
		}
		if len(out.Options) < len(in.Options) {
			t.Fatalf("%d: options %v", i, out.Options)
		}
		for j, o := range in.Options {
			if out.Options[j].Kind != o.Kind || !bytes.Equal(out.Options[j].Data, o.Data) {
				t.Fatalf("%d: option %d %v, want %v", i, j, out.Options[j], o)
			}
		}
	}
	var out TCP
	b, _ := tests[0].in.AppendTo(nil, src4, dst4, nil)
	_ = out.DecodeFromBytes(b)
	mss, _ := out.MSS()
	ws, _ := out.WindowScale()
	val, ecr, _ := out.Timestamps()
	if mss != 1460 || ws != 7 || !out.SACKPermitted() || val != 123456 || ecr != 654321 {
		t.Fatalf("option accessors: %d %d %d %d", mss, ws, val, ecr)
	}
	b, _ = tests[2].in.AppendTo(nil, src4, dst4, nil)
	_ = out.DecodeFromBytes(b)
	if s := out.AppendSACKBlocks(nil); !reflect.DeepEqual(s, []SACKBlock{{100, 200}, {300, 400}}) {
		t.Fatalf("SACK blocks %v", s)
	}
	if _, err := (&TCP{Options: []TCPOption{{Kind: 99, Data: make([]byte, 39)}}}).AppendTo(nil, src4, dst4, nil); !errors.Is(err, ErrInvalid) {
		t.Error("41 bytes of options accepted")
	}
	if _, err := (&TCP{}).AppendTo(nil, src4, dst6, nil); !errors.Is(err, ErrInvalid) {
		t.Error("mixed families accepted")
	}
}

func TestTCPFlagsAndOptionText(t *testing.T) {
	for f, want := range map[TCPFlags]string{
		TCPFlagSYN:                           "SYN",
		TCPFlagSYN | TCPFlagACK:              "SYN,ACK",
		TCPFlagFIN | TCPFlagPSH | TCPFlagACK: "FIN,PSH,ACK",
		TCPFlagRST | TCPFlagACK:              "RST,ACK",
		TCPFlagSYN | TCPFlagECE | TCPFlagCWR: "SYN,ECE,CWR",
		0x1ff:                                "FIN,SYN,RST,PSH,ACK,URG,ECE,CWR,NS",
		0:                                    "",
	} {
		if got := f.String(); got != want {
			t.Errorf("%#x: %q, want %q", uint16(f), got, want)
		}
	}
	for o, want := range map[*TCPOption]string{
		ptr(TCPOptionMSSOf(1460)):             "mss 1460",
		ptr(TCPOptionWindowScaleOf(7)):        "wscale 7",
		ptr(TCPOptionSACKPermittedOf()):       "sackOK",
		ptr(TCPOptionTimestampsOf(1, 2)):      "TS val 1 ecr 2",
		ptr(TCPOptionSACKOf(SACKBlock{5, 9})): "sack 1 {5:9}",
		ptr(TCPOptionNOPOf()):                 "nop",
		{Kind: 254, Data: []byte{0xf9, 0x89}}: "opt-254 0xf989",
	} {
		if got := o.String(); got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestRoundTripUDP(t *testing.T) {
	for _, a := range [][2]netip.Addr{{src4, dst4}, {src6, dst6}} {
		in := UDP{SrcPort: 5353, DstPort: 53}
		b, err := in.AppendTo(nil, a[0], a[1], []byte("query"))
		if err != nil {
			t.Fatal(err)
		}
		var out UDP
		if err := out.DecodeFromBytes(append(b, 0, 0)); err != nil || out.Length != 13 || string(out.Payload) != "query" ||
			out.Checksum != in.Checksum || out.VerifyChecksum(a[0], a[1]) != ChecksumGood {
			t.Fatalf("%+v %v", out, err)
		}
		b[6], b[7] = 0, 0
		_ = out.DecodeFromBytes(b)
		want := ChecksumZero
		if a[0].Is6() {
			want = ChecksumBad
		}
		if got := out.VerifyChecksum(a[0], a[1]); got != want {
			t.Errorf("zero checksum over %v: %v, want %v", a[0], got, want)
		}
	}
}

// buildIPv4UDP returns an IPv4 packet with a UDP datagram.
func buildIPv4UDP(t testing.TB, sport, dport uint16, payload []byte) []byte {
	ip := IPv4{TTL: 64, Protocol: IPProtocolUDP, Src: src4, Dst: dst4, ID: 1}
	u := UDP{SrcPort: sport, DstPort: dport}
	b, err := ip.AppendTo(nil, u.Len()+len(payload))
	if err != nil {
		t.Fatal(err)
	}
	b, err = u.AppendTo(b, ip.Src, ip.Dst, payload)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// buildIPv6TCP returns an IPv6 packet with a TCP SYN.
func buildIPv6TCP(t testing.TB, sport, dport uint16, seq uint32) []byte {
	ip := IPv6{HopLimit: 64, Protocol: IPProtocolTCP, Src: src6, Dst: dst6}
	tc := TCP{SrcPort: sport, DstPort: dport, Seq: seq, Flags: TCPFlagSYN, Window: 65535, Options: []TCPOption{TCPOptionMSSOf(1440)}}
	b, err := ip.AppendTo(nil, tc.Len())
	if err != nil {
		t.Fatal(err)
	}
	b, err = tc.AppendTo(b, ip.Src, ip.Dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
