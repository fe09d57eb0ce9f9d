package cli

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/netdiag/netdiag/pkg/decode"
	"github.com/netdiag/netdiag/pkg/layers"
)

// jsonView writes one {"type":"packet"} object per packet and a summary.
// It writes the JSON itself into a reused buffer rather than through
// encoding/json, which would cost reflection and allocations on every
// packet of a large capture; docs/json.md lists the keys.
type jsonView struct {
	out *bufio.Writer
	b   []byte
}

func newJSONView(out *bufio.Writer) *jsonView { return &jsonView{out: out} }

func (v *jsonView) frame(f *decode.Frame) {
	b := appendPacketJSON(v.b[:0], f)
	v.b = append(b, '\n')
	v.out.Write(v.b)
}

func (v *jsonView) finish(sum *decodeSummary) {
	b := append(v.b[:0], `{"type":"summary","packets":`...)
	b = strconv.AppendInt(b, int64(sum.Packets), 10)
	b = append(b, `,"shown":`...)
	b = strconv.AppendInt(b, int64(sum.Shown), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, sum.Bytes, 10)
	b = append(b, `,"cut":`...)
	b = strconv.AppendInt(b, int64(sum.Cut), 10)
	b = append(b, `,"problems":`...)
	b = strconv.AppendInt(b, int64(sum.Problems), 10)
	b = append(b, "}\n"...)
	v.b = b
	v.out.Write(b)
}

// JSON building blocks. Keys after the first of an object are written
// with key(), which puts the comma in front.

func key(b []byte, k string) []byte {
	b = append(b, ',', '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

func jint(b []byte, k string, v int64) []byte { return strconv.AppendInt(key(b, k), v, 10) }

func juint(b []byte, k string, v uint64) []byte { return strconv.AppendUint(key(b, k), v, 10) }

func jbool(b []byte, k string, v bool) []byte { return strconv.AppendBool(key(b, k), v) }

func jstr(b []byte, k, v string) []byte { return appendJSONText(key(b, k), v) }

func jaddr(b []byte, k string, a netip.Addr) []byte {
	b = append(key(b, k), '"')
	return append(a.AppendTo(b), '"')
}

// appendJSONText appends s as a JSON string, escaping what JSON requires
// and replacing invalid UTF-8.
func appendJSONText[T string | []byte](b []byte, s T) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, `\u00`...)
				b = appendHex(b, uint64(c), 2)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// appendTimeJSON writes an RFC 3339 time in UTC with microseconds (or
// nanoseconds when the capture has them).
func appendTimeJSON(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = append(b, '"')
	b = t.AppendFormat(b, "2006-01-02T15:04:05")
	b = appendFraction(b, t)
	return append(b, 'Z', '"')
}

func appendPacketJSON(b []byte, f *decode.Frame) []byte {
	p := &f.Packet
	b = append(b, `{"type":"packet","n":`...)
	b = strconv.AppendInt(b, int64(f.N), 10)
	if !f.Time.IsZero() {
		b = appendTimeJSON(key(b, "time"), f.Time)
	}
	b = jint(b, "length", int64(f.Length))
	b = jint(b, "captured", int64(f.Captured()))
	b = jstr(b, "link_type", p.LinkType.String())
	if f.Conversation > 0 {
		b = jint(b, "conversation", int64(f.Conversation))
	}
	b = append(key(b, "layers"), '[')
	first := true
	for _, sp := range p.Layers {
		if sp.Quoted {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendLayerJSON(b, f, sp)
	}
	if f.DNS != nil || f.TLS != nil || len(p.Payload) > 0 {
		if !first {
			b = append(b, ',')
		}
		b = appendAppJSON(b, f)
	}
	b = append(b, ']')
	if p.Err != nil {
		b = jstr(b, "error", decodeErrText(p))
		b = jint(b, "error_offset", int64(p.ErrOffset))
	}
	return append(b, '}')
}

// appendLayerHead starts a layer object with the keys every layer has.
func appendLayerHead(b []byte, name, tcpip, pdu string, start, hdrEnd, end int) []byte {
	b = append(b, `{"name":`...)
	b = appendJSONText(b, name)
	b = jstr(b, "layer", tcpip)
	b = jstr(b, "pdu", pdu)
	b = jint(b, "offset", int64(start))
	b = jint(b, "header_length", int64(hdrEnd-start))
	return jint(b, "length", int64(end-start))
}

func checksumJSON(b []byte, v uint16, st layers.ChecksumStatus) []byte {
	b = juint(b, "checksum", uint64(v))
	return jstr(b, "checksum_status", st.String())
}

func appendLayerJSON(b []byte, f *decode.Frame, sp layers.Span) []byte {
	p := &f.Packet
	b = appendLayerHead(b, sp.Type.String(), string(sp.Type.TCPIPLayer()), string(sp.Type.PDU()), sp.Start, sp.HeaderEnd, sp.End)
	switch sp.Type {
	case layers.LayerEthernet:
		e := &p.Ethernet
		b = append(key(b, "src"), '"')
		b = append(e.Src.AppendText(b), '"')
		b = append(key(b, "dst"), '"')
		b = append(e.Dst.AppendText(b), '"')
		b = juint(b, "ethertype", uint64(e.EtherType))
		if e.HasFCS {
			b = juint(b, "fcs", uint64(e.FCS))
			b = jstr(b, "fcs_status", fcsStatus(p, sp).String())
		}
	case layers.LayerVLAN:
		vl := vlanAt(p, sp)
		b = juint(b, "id", uint64(vl.ID))
		b = juint(b, "priority", uint64(vl.Priority))
		b = jbool(b, "drop_eligible", vl.DropEligible)
		b = juint(b, "ethertype", uint64(vl.EtherType))
	case layers.LayerARP:
		a := &p.ARP
		b = juint(b, "operation", uint64(a.Operation))
		sm, _ := a.SenderMAC()
		tm, _ := a.TargetMAC()
		b = jstr(b, "sender_mac", sm.String())
		b = jaddr(b, "sender_ip", a.SenderIP())
		b = jstr(b, "target_mac", tm.String())
		b = jaddr(b, "target_ip", a.TargetIP())
	case layers.LayerSLL:
		b = juint(b, "packet_type", uint64(p.SLL.PacketType))
		b = jstr(b, "address", hexBytes(p.SLL.LinkAddr()))
		b = juint(b, "ethertype", uint64(p.SLL.Protocol))
	case layers.LayerSLL2:
		b = juint(b, "packet_type", uint64(p.SLL2.PacketType))
		b = juint(b, "ifindex", uint64(p.SLL2.IfIndex))
		b = jstr(b, "address", hexBytes(p.SLL2.LinkAddr()))
		b = juint(b, "ethertype", uint64(p.SLL2.Protocol))
	case layers.LayerNull:
		b = juint(b, "family", uint64(p.Null.Family))
	case layers.LayerPPP:
		b = juint(b, "protocol", uint64(p.PPP.Protocol))
	case layers.LayerCHDLC:
		b = juint(b, "address", uint64(p.CiscoHDLC.Address))
		b = juint(b, "ethertype", uint64(p.CiscoHDLC.Protocol))
	case layers.LayerIPv4:
		b = appendIPv4JSON(b, &p.IPv4)
		b = checksumJSON(b, p.IPv4.Checksum, p.Checksum(layers.LayerIPv4))
	case layers.LayerIPv6:
		b = appendIPv6JSON(b, &p.IPv6)
	case layers.LayerICMPv4:
		m := &p.ICMPv4
		b = juint(b, "type", uint64(m.Type))
		b = juint(b, "code", uint64(m.Code))
		b = jstr(b, "type_name", m.Type.String())
		if c := m.CodeName(); c != "" {
			b = jstr(b, "code_name", c)
		}
		b = checksumJSON(b, m.Checksum, p.Checksum(layers.LayerICMPv4))
		switch m.Type {
		case layers.ICMPv4EchoRequest, layers.ICMPv4EchoReply:
			b = juint(b, "id", uint64(m.ID))
			b = juint(b, "seq", uint64(m.Seq))
		case layers.ICMPv4DestUnreachable:
			if m.Code == 4 {
				b = juint(b, "mtu", uint64(m.MTU))
			}
		case layers.ICMPv4Redirect:
			b = jaddr(b, "gateway", m.Gateway)
		}
		if m.IsError() {
			b = appendQuoteJSON(b, &m.Quote)
		}
	case layers.LayerICMPv6:
		m := &p.ICMPv6
		b = juint(b, "type", uint64(m.Type))
		b = juint(b, "code", uint64(m.Code))
		b = jstr(b, "type_name", m.Type.String())
		if c := m.CodeName(); c != "" {
			b = jstr(b, "code_name", c)
		}
		b = checksumJSON(b, m.Checksum, p.Checksum(layers.LayerICMPv6))
		switch m.Type {
		case layers.ICMPv6EchoRequest, layers.ICMPv6EchoReply:
			b = juint(b, "id", uint64(m.ID))
			b = juint(b, "seq", uint64(m.Seq))
		case layers.ICMPv6PacketTooBig:
			b = juint(b, "mtu", uint64(m.MTU))
		}
		if m.Target.IsValid() {
			b = jaddr(b, "target", m.Target)
		}
		if m.IsError() {
			b = appendQuoteJSON(b, &m.Quote)
		}
	case layers.LayerTCP:
		b = appendTCPJSON(b, f)
	case layers.LayerUDP:
		u := &p.UDP
		b = juint(b, "src_port", uint64(u.SrcPort))
		b = juint(b, "dst_port", uint64(u.DstPort))
		b = juint(b, "udp_length", uint64(u.Length))
		b = checksumJSON(b, u.Checksum, p.Checksum(layers.LayerUDP))
		b = jint(b, "payload_length", int64(len(u.Payload)))
	}
	return append(b, '}')
}

func appendIPv4JSON(b []byte, ip *layers.IPv4) []byte {
	b = jaddr(b, "src", ip.Src)
	b = jaddr(b, "dst", ip.Dst)
	b = juint(b, "ttl", uint64(ip.TTL))
	b = juint(b, "protocol", uint64(ip.Protocol))
	b = juint(b, "id", uint64(ip.ID))
	b = append(key(b, "flags"), '"')
	if ip.Flags&layers.IPv4DontFragment != 0 {
		b = append(b, "DF"...)
	}
	if ip.Flags&layers.IPv4MoreFragments != 0 {
		if ip.Flags&layers.IPv4DontFragment != 0 {
			b = append(b, ',')
		}
		b = append(b, "MF"...)
	}
	b = append(b, '"')
	b = juint(b, "fragment_offset", uint64(ip.FragOffset)*8)
	b = juint(b, "dscp", uint64(ip.DSCP()))
	b = juint(b, "ecn", uint64(ip.ECN()))
	b = juint(b, "total_length", uint64(ip.TotalLength))
	if len(ip.Options) > 0 {
		b = append(key(b, "options"), '[')
		for i, o := range ip.Options {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONText(b, o.Type.String())
		}
		b = append(b, ']')
	}
	return b
}

func appendIPv6JSON(b []byte, ip *layers.IPv6) []byte {
	b = jaddr(b, "src", ip.Src)
	b = jaddr(b, "dst", ip.Dst)
	b = juint(b, "hop_limit", uint64(ip.HopLimit))
	b = juint(b, "protocol", uint64(ip.Protocol))
	b = juint(b, "next_header", uint64(ip.NextHeader))
	b = juint(b, "traffic_class", uint64(ip.TrafficClass))
	b = juint(b, "flow_label", uint64(ip.FlowLabel))
	b = juint(b, "payload_length", uint64(ip.PayloadLength))
	if len(ip.Extensions) > 0 {
		b = append(key(b, "extensions"), '[')
		for i, e := range ip.Extensions {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, uint64(e.Type), 10)
		}
		b = append(b, ']')
	}
	if ip.HasFragment {
		b = juint(b, "fragment_offset", uint64(ip.FragOffset)*8)
		b = jbool(b, "more_fragments", ip.MoreFragments)
		b = juint(b, "fragment_id", uint64(ip.FragID))
	}
	return b
}

// appendQuoteJSON writes the datagram an ICMP error quotes as "quoted".
func appendQuoteJSON(b []byte, q *layers.Quote) []byte {
	if q.Version == 0 {
		return b
	}
	b = append(key(b, "quoted"), `{"version":`...)
	b = strconv.AppendUint(b, uint64(q.Version), 10)
	b = jaddr(b, "src", q.Src)
	b = jaddr(b, "dst", q.Dst)
	b = juint(b, "protocol", uint64(q.Protocol))
	switch q.Version {
	case 4:
		b = juint(b, "ttl", uint64(q.IPv4.TTL))
	case 6:
		b = juint(b, "hop_limit", uint64(q.IPv6.HopLimit))
	}
	if q.HasPorts {
		b = juint(b, "src_port", uint64(q.SrcPort))
		b = juint(b, "dst_port", uint64(q.DstPort))
	}
	if q.HasSeq {
		b = juint(b, "seq", uint64(q.Seq))
	}
	if q.HasAck {
		b = juint(b, "ack", uint64(q.Ack))
		b = append(key(b, "flags"), '"')
		b = append(q.Flags.AppendText(b), '"')
	}
	if q.HasICMP {
		b = juint(b, "icmp_type", uint64(q.ICMPType))
		b = juint(b, "icmp_code", uint64(q.ICMPCode))
		if q.IsEcho() {
			b = juint(b, "icmp_id", uint64(q.ID))
			b = juint(b, "icmp_seq", uint64(q.EchoSeq))
		}
	}
	return append(b, '}')
}

func appendTCPJSON(b []byte, f *decode.Frame) []byte {
	p := &f.Packet
	t := &p.TCP
	b = juint(b, "src_port", uint64(t.SrcPort))
	b = juint(b, "dst_port", uint64(t.DstPort))
	b = juint(b, "seq", uint64(t.Seq))
	b = juint(b, "ack", uint64(t.Ack))
	b = append(key(b, "flags"), '"')
	b = append(t.Flags.AppendText(b), '"')
	b = juint(b, "window", uint64(t.Window))
	b = juint(b, "urgent", uint64(t.Urgent))
	b = checksumJSON(b, t.Checksum, p.Checksum(layers.LayerTCP))
	b = append(key(b, "options"), '[')
	for i, o := range t.Options {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTCPOptionJSON(b, o)
	}
	b = append(b, ']')
	b = jint(b, "payload_length", int64(len(t.Payload)))
	if f.Retransmission {
		b = jbool(b, "retransmission", true)
	}
	return b
}

// appendTCPOptionJSON writes {"kind":2,"name":"mss","value":1460}; the
// timestamps option has "val" and "ecr", SACK "blocks" ([[left,right]]),
// and options without a known layout their "data" in hex.
func appendTCPOptionJSON(b []byte, o layers.TCPOption) []byte {
	b = append(b, `{"kind":`...)
	b = strconv.AppendUint(b, uint64(o.Kind), 10)
	b = jstr(b, "name", o.Kind.String())
	d := o.Data
	switch {
	case o.Kind == layers.TCPOptionMSS && len(d) == 2:
		b = juint(b, "value", uint64(binary.BigEndian.Uint16(d)))
	case o.Kind == layers.TCPOptionWindowScale && len(d) == 1:
		b = juint(b, "value", uint64(d[0]))
	case o.Kind == layers.TCPOptionTimestamps && len(d) == 8:
		b = juint(b, "val", uint64(binary.BigEndian.Uint32(d)))
		b = juint(b, "ecr", uint64(binary.BigEndian.Uint32(d[4:])))
	case o.Kind == layers.TCPOptionSACK && len(d)%8 == 0:
		b = append(key(b, "blocks"), '[')
		for i := 0; i+8 <= len(d); i += 8 {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint32(d[i:])), 10)
			b = append(b, ',')
			b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint32(d[i+4:])), 10)
			b = append(b, ']')
		}
		b = append(b, ']')
	case len(d) > 0:
		b = append(key(b, "data"), '"')
		for _, x := range d {
			b = appendHex(b, uint64(x), 2)
		}
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendAppJSON writes the application layer: dns, tls or data.
func appendAppJSON(b []byte, f *decode.Frame) []byte {
	p := &f.Packet
	start, end := p.PayloadOffset, p.PayloadOffset+len(p.Payload)
	switch {
	case f.DNS != nil:
		b = appendLayerHead(b, "dns", "application", string(layers.PDUData), start, end, end)
		b = appendDNSJSON(b, f.DNS)
	case f.TLS != nil:
		b = appendLayerHead(b, "tls", "tls", string(layers.PDUData), start, end, end)
		b = appendTLSJSON(b, f.TLS)
	default:
		b = appendLayerHead(b, "data", "application", string(layers.PDUData), start, start, end)
	}
	return append(b, '}')
}

func appendDNSJSON(b []byte, m *decode.DNSMessage) []byte {
	b = juint(b, "id", uint64(m.ID))
	b = jbool(b, "response", m.Response)
	b = juint(b, "opcode", uint64(m.Opcode))
	b = juint(b, "rcode", uint64(m.Rcode))
	b = jstr(b, "rcode_name", decode.RcodeName(m.Rcode))
	b = append(key(b, "flags"), '"')
	if f := dnsFlags(m); f != "none" {
		b = append(b, f...)
	}
	b = append(b, '"')
	b = append(key(b, "questions"), '[')
	for i, q := range m.Questions {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendJSONText(b, q.Name)
		b = juint(b, "type", uint64(q.Type))
		b = jstr(b, "type_name", decode.TypeName(q.Type))
		b = juint(b, "class", uint64(q.Class))
		b = append(b, '}')
	}
	b = append(b, ']')
	b = append(key(b, "answers"), '[')
	for i := range m.Answers {
		a := &m.Answers[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendJSONText(b, a.Name)
		b = juint(b, "type", uint64(a.Type))
		b = jstr(b, "type_name", decode.TypeName(a.Type))
		b = juint(b, "class", uint64(a.Class))
		b = juint(b, "ttl", uint64(a.TTL))
		b = appendJSONText(key(b, "data"), a.AppendData(nil))
		b = append(b, '}')
	}
	b = append(b, ']')
	b = jint(b, "answer_count", int64(m.AnswerCount))
	b = jint(b, "authorities", int64(m.Authorities))
	b = jint(b, "additionals", int64(m.Additionals))
	if m.Err != nil {
		b = jstr(b, "error", m.Err.Error())
	}
	return b
}

func appendTLSJSON(b []byte, t *decode.TLSData) []byte {
	b = append(key(b, "records"), '[')
	for i := range t.Records {
		r := &t.Records[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"content_type":`...)
		b = strconv.AppendUint(b, uint64(r.Type), 10)
		b = jstr(b, "content_type_name", r.Type.String())
		b = jstr(b, "version", r.Version.String())
		b = jint(b, "length", int64(r.Length))
		if r.Encrypted {
			b = jbool(b, "encrypted", true)
		}
		if r.Alert != nil {
			a, _ := json.Marshal(r.Alert)
			b = append(key(b, "alert"), a...)
		}
		if i < len(t.Origins) && t.Origins[i].Segments > 1 {
			b = jint(b, "first_packet", int64(t.Origins[i].Packet))
			b = jint(b, "segments", int64(t.Origins[i].Segments))
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	b = append(key(b, "messages"), '[')
	for i := range t.Messages {
		if i > 0 {
			b = append(b, ',')
		}
		mv, err := json.Marshal(t.Messages[i].View())
		if err != nil {
			mv = []byte(`{}`)
		}
		b = append(b, mv...)
	}
	b = append(b, ']')
	if t.Partial > 0 {
		b = jint(b, "partial_length", int64(t.Partial))
	}
	if t.Err != nil {
		b = jstr(b, "error", t.Err.Error())
	}
	return b
}
