package cli

import (
	"bufio"
	"strconv"

	"github.com/netdiag/netdiag/pkg/decode"
	"github.com/netdiag/netdiag/pkg/layers"
	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// summaryView prints one line per packet in tcpdump's style (addresses
// and ports "addr.port > addr.port", TCP flags in brackets, absolute
// sequence numbers as tcpdump -S prints them), preceded by the packet
// number, with the time of day in UTC. It appends to one reused buffer and
// allocates nothing per packet for the common protocols.
type summaryView struct {
	out  *bufio.Writer
	dump bool
	b    []byte
}

func (v *summaryView) frame(f *decode.Frame) {
	b := appendSummary(v.b[:0], f)
	b = append(b, '\n')
	if v.dump {
		b = appendDump(b, f, "  ")
	}
	v.b = b
	v.out.Write(b)
}

func (v *summaryView) finish(*decodeSummary) {}

func appendSummary(b []byte, f *decode.Frame) []byte {
	b = appendPadded(b, f.N, 5)
	b = append(b, ' ')
	if !f.Time.IsZero() {
		t := f.Time.UTC()
		h, m, s := t.Clock()
		b = appendDigits(b, h, 2)
		b = append(b, ':')
		b = appendDigits(b, m, 2)
		b = append(b, ':')
		b = appendDigits(b, s, 2)
		b = appendFraction(b, t)
		b = append(b, ' ')
	}
	p := &f.Packet
	if p.Has(layers.LayerSLL) {
		b = appendDirection(b, p.SLL.PacketType)
	} else if p.Has(layers.LayerSLL2) {
		b = appendDirection(b, p.SLL2.PacketType)
	}
	for i := 0; i < p.NumVLANs; i++ {
		b = append(b, "vlan "...)
		b = strconv.AppendUint(b, uint64(p.VLANs[i].ID), 10)
		b = append(b, ", "...)
	}
	switch {
	case p.Has(layers.LayerIPv4):
		b = append(b, "IP "...)
		b = appendIPSummary(b, f)
	case p.Has(layers.LayerIPv6):
		b = append(b, "IP6 "...)
		b = appendIPSummary(b, f)
	case p.Has(layers.LayerARP):
		b = appendARP(b, &p.ARP)
	case p.Has(layers.LayerEthernet):
		b = p.Ethernet.Src.AppendText(b)
		b = append(b, " > "...)
		b = p.Ethernet.Dst.AppendText(b)
		b = append(b, ", ethertype "...)
		b = append(b, p.Ethernet.EtherType.String()...)
		b = append(b, ", length "...)
		b = strconv.AppendInt(b, int64(f.Length), 10)
	default:
		b = append(b, "length "...)
		b = strconv.AppendInt(b, int64(f.Length), 10)
	}
	if p.Err != nil {
		b = append(b, " [|"...)
		b = append(b, decodeErrText(p)...)
		b = append(b, ']')
	}
	return b
}

func appendPadded(b []byte, n, width int) []byte {
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}

func appendDirection(b []byte, t layers.SLLPacketType) []byte {
	if t == layers.SLLOutgoing {
		return append(b, "Out "...)
	}
	return append(b, "In  "...)
}

func appendARP(b []byte, a *layers.ARP) []byte {
	switch a.Operation {
	case 1:
		b = append(b, "ARP, Request who-has "...)
		b = a.TargetIP().AppendTo(b)
		b = append(b, " tell "...)
		b = a.SenderIP().AppendTo(b)
	case 2:
		b = append(b, "ARP, Reply "...)
		b = a.SenderIP().AppendTo(b)
		b = append(b, " is-at "...)
		m, _ := a.SenderMAC()
		b = m.AppendText(b)
	default:
		b = append(b, "ARP, operation "...)
		b = strconv.AppendUint(b, uint64(a.Operation), 10)
	}
	return b
}

func appendEndpoint(b []byte, a interface{ AppendTo([]byte) []byte }, port uint16) []byte {
	b = a.AppendTo(b)
	b = append(b, '.')
	return strconv.AppendUint(b, uint64(port), 10)
}

func appendIPSummary(b []byte, f *decode.Frame) []byte {
	p := &f.Packet
	src, dst := p.Src(), p.Dst()
	switch {
	case p.Has(layers.LayerTCP):
		t := &p.TCP
		b = appendEndpoint(b, src, t.SrcPort)
		b = append(b, " > "...)
		b = appendEndpoint(b, dst, t.DstPort)
		b = appendTCPSummary(append(b, ": "...), f)
	case p.Has(layers.LayerUDP):
		u := &p.UDP
		b = appendEndpoint(b, src, u.SrcPort)
		b = append(b, " > "...)
		b = appendEndpoint(b, dst, u.DstPort)
		b = append(b, ": "...)
		if f.DNS != nil {
			b = appendDNSSummary(b, f.DNS)
			b = append(b, " ("...)
			b = strconv.AppendInt(b, int64(len(u.Payload)), 10)
			b = append(b, ')')
		} else {
			b = append(b, "UDP, length "...)
			b = strconv.AppendInt(b, int64(len(u.Payload)), 10)
		}
	case p.Has(layers.LayerICMPv4):
		b = src.AppendTo(b)
		b = append(b, " > "...)
		b = dst.AppendTo(b)
		m := &p.ICMPv4
		b = append(b, ": ICMP "...)
		b = appendICMPSummary(b, m.Type.String(), m.CodeName(), m.IsError(), m.Type == layers.ICMPv4EchoRequest || m.Type == layers.ICMPv4EchoReply, m.ID, m.Seq, &m.Quote)
		b = append(b, ", length "...)
		b = strconv.AppendInt(b, int64(len(m.Contents)), 10)
	case p.Has(layers.LayerICMPv6):
		b = src.AppendTo(b)
		b = append(b, " > "...)
		b = dst.AppendTo(b)
		m := &p.ICMPv6
		b = append(b, ": ICMP6 "...)
		b = appendICMPSummary(b, m.Type.String(), m.CodeName(), m.IsError(), m.Type == layers.ICMPv6EchoRequest || m.Type == layers.ICMPv6EchoReply, m.ID, m.Seq, &m.Quote)
		if m.Target.IsValid() {
			b = append(b, ", target "...)
			b = m.Target.AppendTo(b)
		}
		b = append(b, ", length "...)
		b = strconv.AppendInt(b, int64(len(m.Contents)), 10)
	default:
		b = src.AppendTo(b)
		b = append(b, " > "...)
		b = dst.AppendTo(b)
		b = append(b, ": "...)
		proto, id, off := p.IPv6.Protocol, p.IPv6.FragID, uint32(p.IPv6.FragOffset)
		if p.Has(layers.LayerIPv4) {
			proto, id, off = p.IPv4.Protocol, uint32(p.IPv4.ID), uint32(p.IPv4.FragOffset)
		}
		if p.Fragment {
			b = append(b, "fragment id "...)
			b = strconv.AppendUint(b, uint64(id), 10)
			b = append(b, " offset "...)
			b = strconv.AppendUint(b, uint64(off)*8, 10)
			b = append(b, " of "...)
		}
		b = append(b, proto.String()...)
		b = append(b, ", length "...)
		b = strconv.AppendInt(b, int64(len(p.Payload)), 10)
	}
	return b
}

func appendICMPSummary(b []byte, typ, code string, isErr, echo bool, id, seq uint16, q *layers.Quote) []byte {
	b = append(b, typ...)
	if code != "" {
		b = append(b, ": "...)
		b = append(b, code...)
	}
	if echo {
		b = append(b, ", id "...)
		b = strconv.AppendUint(b, uint64(id), 10)
		b = append(b, ", seq "...)
		b = strconv.AppendUint(b, uint64(seq), 10)
	}
	if isErr && q.Version != 0 {
		b = append(b, ", for "...)
		if q.HasPorts {
			b = appendEndpoint(b, q.Src, q.SrcPort)
			b = append(b, " > "...)
			b = appendEndpoint(b, q.Dst, q.DstPort)
		} else {
			b = q.Src.AppendTo(b)
			b = append(b, " > "...)
			b = q.Dst.AppendTo(b)
		}
		b = append(b, ' ')
		b = append(b, q.Protocol.String()...)
		if q.IsEcho() {
			b = append(b, " echo request seq "...)
			b = strconv.AppendUint(b, uint64(q.EchoSeq), 10)
		}
	}
	return b
}

// tcpdumpFlags are the one-letter flags tcpdump prints, in its order.
var tcpdumpFlags = [...]struct {
	f layers.TCPFlags
	c byte
}{
	{layers.TCPFlagFIN, 'F'}, {layers.TCPFlagSYN, 'S'}, {layers.TCPFlagRST, 'R'}, {layers.TCPFlagPSH, 'P'},
	{layers.TCPFlagURG, 'U'}, {layers.TCPFlagECE, 'E'}, {layers.TCPFlagCWR, 'W'}, {layers.TCPFlagACK, '.'},
}

func appendTCPSummary(b []byte, f *decode.Frame) []byte {
	t := &f.Packet.TCP
	b = append(b, "Flags ["...)
	for _, x := range tcpdumpFlags {
		if t.Flags&x.f != 0 {
			b = append(b, x.c)
		}
	}
	b = append(b, "], seq "...)
	b = strconv.AppendUint(b, uint64(t.Seq), 10)
	n := len(t.Payload)
	if n > 0 {
		b = append(b, ':')
		b = strconv.AppendUint(b, uint64(t.Seq+uint32(n)), 10)
	}
	if t.Flags.Has(layers.TCPFlagACK) {
		b = append(b, ", ack "...)
		b = strconv.AppendUint(b, uint64(t.Ack), 10)
	}
	b = append(b, ", win "...)
	b = strconv.AppendUint(b, uint64(t.Window), 10)
	if len(t.Options) > 0 {
		b = append(b, ", options ["...)
		for i, o := range t.Options {
			if i > 0 {
				b = append(b, ',')
			}
			b = o.AppendText(b)
		}
		b = append(b, ']')
	}
	b = append(b, ", length "...)
	b = strconv.AppendInt(b, int64(n), 10)
	if f.Retransmission {
		b = append(b, " [retransmission]"...)
	}
	switch {
	case f.TLS != nil:
		b = appendTLSSummary(append(b, ": "...), f.TLS)
	case f.DNS != nil:
		b = appendDNSSummary(append(b, ": "...), f.DNS)
	}
	return b
}

func appendTLSSummary(b []byte, t *decode.TLSData) []byte {
	b = append(b, "TLS "...)
	first := true
	sep := func() {
		if !first {
			b = append(b, ", "...)
		}
		first = false
	}
	for i := range t.Messages {
		m := &t.Messages[i]
		sep()
		b = append(b, m.Type.String()...)
		switch x := m.Msg.(type) {
		case *tlswire.ClientHello:
			if x.ServerName != "" {
				b = append(b, " (SNI "...)
				b = append(b, x.ServerName...)
				b = append(b, ')')
			}
		case *tlswire.ServerHello:
			b = append(b, " ("...)
			b = append(b, x.CipherSuite.String()...)
			b = append(b, ')')
		}
	}
	for i := range t.Records {
		r := &t.Records[i]
		switch {
		case r.Type == tlswire.ContentHandshake && !r.Encrypted:
			continue // shown as its messages
		case r.Type == tlswire.ContentHandshake:
			sep()
			b = append(b, "encrypted handshake"...)
		case r.Alert != nil:
			sep()
			b = append(b, "alert "...)
			b = append(b, r.Alert.String()...)
		case r.Type == tlswire.ContentAlert:
			sep()
			b = append(b, "encrypted alert"...)
		case r.Type == tlswire.ContentApplicationData:
			sep()
			b = append(b, "application data "...)
			b = strconv.AppendInt(b, int64(r.Length), 10)
		default:
			sep()
			b = append(b, r.Type.String()...)
		}
	}
	if first && t.Partial > 0 {
		b = append(b, "record continued in a later segment"...)
		first = false
	}
	if t.Err != nil {
		sep()
		b = append(b, "not followed: "...)
		b = append(b, t.Err.Error()...)
	}
	return b
}

// appendDNSSummary writes a DNS message as tcpdump does: "8696+ A?
// www.lab.test." for a query, "8696* 1/0/0 A 198.18.1.10" for a response.
func appendDNSSummary(b []byte, m *decode.DNSMessage) []byte {
	b = strconv.AppendUint(b, uint64(m.ID), 10)
	if !m.Response {
		if m.RD {
			b = append(b, '+')
		}
		for _, q := range m.Questions {
			b = append(b, ' ')
			b = append(b, decode.TypeName(q.Type)...)
			b = append(b, "? "...)
			b = append(b, q.Name...)
			b = append(b, '.')
		}
		return b
	}
	if m.AA {
		b = append(b, '*')
	}
	if m.Rcode != 0 {
		b = append(b, ' ')
		b = append(b, decode.RcodeName(m.Rcode)...)
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(m.AnswerCount), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(m.Authorities), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(m.Additionals), 10)
	for i := range m.Answers {
		a := &m.Answers[i]
		b = append(b, ' ')
		b = append(b, decode.TypeName(a.Type)...)
		b = append(b, ' ')
		b = a.AppendData(b)
	}
	if m.Err != nil {
		b = append(b, " [|dns]"...) // tcpdump's mark for a message that ends early
	}
	return b
}
