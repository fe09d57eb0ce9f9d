package cli

import (
	"bufio"
	"errors"
	"strconv"
	"time"

	"github.com/netdiag/netdiag/pkg/decode"
	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/layers"
	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// treeView prints each packet as a tree: a title line, then one block per
// layer, outermost first, headed by the layer's name, its TCP/IP layer,
// its PDU and its bytes, with its fields below.
type treeView struct {
	out  *bufio.Writer
	p    *Printer
	dump bool
	b    []byte
	n    int
}

// layerTitles are the names the tree gives the layers.
var layerTitles = map[layers.LayerType]string{
	layers.LayerEthernet: "Ethernet II",
	layers.LayerVLAN:     "802.1Q VLAN tag",
	layers.LayerARP:      "ARP",
	layers.LayerSLL:      "Linux cooked capture (SLL)",
	layers.LayerSLL2:     "Linux cooked capture v2 (SLL2)",
	layers.LayerNull:     "BSD loopback",
	layers.LayerPPP:      "PPP",
	layers.LayerCHDLC:    "Cisco HDLC",
	layers.LayerIPv4:     "IPv4",
	layers.LayerIPv6:     "IPv6",
	layers.LayerICMPv4:   "ICMP",
	layers.LayerICMPv6:   "ICMPv6",
	layers.LayerTCP:      "TCP",
	layers.LayerUDP:      "UDP",
}

func (v *treeView) frame(f *decode.Frame) {
	if v.n > 0 {
		v.b = append(v.b[:0], '\n')
	} else {
		v.b = v.b[:0]
	}
	v.n++
	b := v.b
	b = append(b, v.p.Bold("Packet "+strconv.Itoa(f.N))...)
	if !f.Time.IsZero() {
		b = append(b, "  "...)
		b = appendTimeUTC(b, f.Time)
	}
	b = append(b, "  "...)
	b = append(b, count(f.Length, "byte")...)
	if f.Cut() {
		b = append(b, ", "...)
		b = strconv.AppendInt(b, int64(f.Captured()), 10)
		b = append(b, " captured"...)
	}
	if f.Conversation > 0 {
		b = append(b, "  conversation "...)
		b = strconv.AppendInt(b, int64(f.Conversation), 10)
	}
	b = append(b, '\n')

	p := &f.Packet
	for i := 0; i < len(p.Layers); i++ {
		sp := p.Layers[i]
		if sp.Quoted {
			continue
		}
		title := layerTitles[sp.Type]
		if sp.Type == layers.LayerVLAN && vlanAt(p, sp).TPID != layers.EtherTypeVLAN {
			title = "802.1ad service tag"
		}
		b = v.layerHead(b, title, sp.Type.TCPIPLayer(), string(sp.Type.PDU()), sp.Start, sp.HeaderEnd)
		b = v.layerBody(b, f, sp)
	}
	b = v.application(b, f)
	if p.Err != nil {
		b = append(b, "  "...)
		b = append(b, v.p.Bad("decoding stopped")...)
		b = append(b, " at byte "...)
		b = strconv.AppendInt(b, int64(p.ErrOffset), 10)
		b = append(b, ": "...)
		b = append(b, decodeErrText(p)...)
		b = append(b, '\n')
	}
	if f.Cut() {
		b = append(b, "  "...)
		b = append(b, v.p.Warn("cut by the snap length")...)
		b = append(b, ": "...)
		b = append(b, count(f.Length-f.Captured(), "byte")...)
		b = append(b, " not captured\n"...)
	}
	if v.dump {
		b = appendDump(b, f, "  ")
	}
	v.b = b
	v.out.Write(b)
}

func (v *treeView) finish(*decodeSummary) {}

func (v *treeView) layerHead(b []byte, title string, tcpip failure.Layer, pdu string, start, end int) []byte {
	b = append(b, "  "...)
	b = append(b, v.p.Bold(title)...)
	b = append(b, "  "...)
	b = append(b, v.p.Dim(layerLabel(tcpip, pdu, start, end))...)
	return append(b, '\n')
}

// layerLabel is "[link layer · frame · bytes 0-13]".
func layerLabel(tcpip failure.Layer, pdu string, start, end int) string {
	b := make([]byte, 0, 48)
	b = append(b, '[')
	b = append(b, tcpip...)
	b = append(b, " layer · "...)
	b = append(b, pdu...)
	if end > start {
		b = append(b, " · bytes "...)
		b = strconv.AppendInt(b, int64(start), 10)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(end-1), 10)
	}
	return string(append(b, ']'))
}

// field lines are indented four spaces.
func line(b []byte, parts ...string) []byte {
	b = append(b, "    "...)
	for _, s := range parts {
		b = append(b, s...)
	}
	return append(b, '\n')
}

func itoa(n int) string { return strconv.Itoa(n) }

// count writes "1 byte", "2 bytes".
func count(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

func utoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

func hex16(n uint16) string { return "0x" + string(appendHex(nil, uint64(n), 4)) }

func appendHex(b []byte, v uint64, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		b = append(b, "0123456789abcdef"[(v>>(4*uint(i)))&15])
	}
	return b
}

// checksumText says what a checksum check found, in words.
func checksumText(p *Printer, st layers.ChecksumStatus, f *decode.Frame) string {
	switch st {
	case layers.ChecksumGood:
		return p.OK("good")
	case layers.ChecksumBad:
		return p.Bad("bad")
	case layers.ChecksumOffloaded:
		return "unverified (checksum offload: left for the sending network card to fill in)"
	case layers.ChecksumZero:
		return "none (zero: the sender did not compute one)"
	}
	if f.Cut() {
		return "unverified (packet cut by the snap length)"
	}
	if f.Packet.Fragment {
		return "unverified (IP fragment)"
	}
	return "unverified"
}

func (v *treeView) layerBody(b []byte, f *decode.Frame, sp layers.Span) []byte {
	p := &f.Packet
	switch sp.Type {
	case layers.LayerEthernet:
		e := &p.Ethernet
		b = line(b, "source ", e.Src.String(), "  destination ", e.Dst.String())
		b = line(b, "type ", etherTypeText(e.EtherType))
		if n := len(e.Payload) - payloadEnd(p, sp); n > 0 {
			b = line(b, "padding ", count(n, "byte"))
		}
		if e.HasFCS {
			b = line(b, "frame check sequence ", hexBytes(p.Data[sp.End-4:sp.End]), " ", checksumText(v.p, fcsStatus(p, sp), f))
		}
	case layers.LayerVLAN:
		vl := vlanAt(p, sp)
		b = line(b, "VLAN ", itoa(int(vl.ID)), "  priority ", itoa(int(vl.Priority)), "  drop eligible ", strconv.FormatBool(vl.DropEligible))
		b = line(b, "type ", etherTypeText(vl.EtherType))
	case layers.LayerARP:
		a := &p.ARP
		op := "operation " + itoa(int(a.Operation))
		switch a.Operation {
		case 1:
			op = "request: who has " + a.TargetIP().String() + "? tell " + a.SenderIP().String()
		case 2:
			m, _ := a.SenderMAC()
			op = "reply: " + a.SenderIP().String() + " is at " + m.String()
		}
		b = line(b, op)
		sm, _ := a.SenderMAC()
		tm, _ := a.TargetMAC()
		b = line(b, "sender ", sm.String(), " ", a.SenderIP().String(), "  target ", tm.String(), " ", a.TargetIP().String())
	case layers.LayerSLL:
		s := &p.SLL
		b = line(b, "direction ", sllDirection(s.PacketType), "  link address ", hexBytes(s.LinkAddr()), "  type ", etherTypeText(s.Protocol))
	case layers.LayerSLL2:
		s := &p.SLL2
		b = line(b, "direction ", sllDirection(s.PacketType), "  interface index ", utoa(s.IfIndex), "  link address ", hexBytes(s.LinkAddr()))
		b = line(b, "type ", etherTypeText(s.Protocol))
	case layers.LayerNull:
		fam := utoa(p.Null.Family)
		if et := p.Null.EtherType(); et != 0 {
			fam += " (" + et.String() + ")"
		}
		b = line(b, "address family ", fam)
	case layers.LayerPPP:
		b = line(b, "protocol ", p.PPP.Protocol.String(), " (", hex16(uint16(p.PPP.Protocol)), ")")
	case layers.LayerCHDLC:
		b = line(b, "address ", "0x"+string(appendHex(nil, uint64(p.CiscoHDLC.Address), 2)), "  type ", etherTypeText(p.CiscoHDLC.Protocol))
	case layers.LayerIPv4:
		b = v.ipv4(b, f, &p.IPv4)
	case layers.LayerIPv6:
		b = v.ipv6(b, &p.IPv6)
	case layers.LayerICMPv4:
		b = v.icmpv4(b, f)
	case layers.LayerICMPv6:
		b = v.icmpv6(b, f)
	case layers.LayerTCP:
		b = v.tcp(b, f)
	case layers.LayerUDP:
		u := &p.UDP
		b = line(b, "port ", itoa(int(u.SrcPort)), " → ", itoa(int(u.DstPort)), "  length ", itoa(int(u.Length)))
		b = line(b, "checksum ", hex16(u.Checksum), " ", checksumText(v.p, p.Checksum(layers.LayerUDP), f))
	}
	return b
}

// fcsStatus checks the frame check sequence that ends the Ethernet frame
// of span sp.
func fcsStatus(p *layers.Packet, sp layers.Span) layers.ChecksumStatus {
	if layers.CheckFCS(p.Data[sp.Start:sp.End]) {
		return layers.ChecksumGood
	}
	return layers.ChecksumBad
}

// payloadEnd is how many bytes of an Ethernet payload the layers inside
// account for, so that the rest is padding.
func payloadEnd(p *layers.Packet, eth layers.Span) int {
	last := eth.HeaderEnd
	for _, sp := range p.Layers {
		if !sp.Quoted && sp.Start >= eth.HeaderEnd && sp.End > last {
			last = sp.End
		}
	}
	return last - eth.HeaderEnd
}

func vlanAt(p *layers.Packet, sp layers.Span) *layers.VLAN {
	i := 0
	for _, s := range p.Layers {
		if s.Type == layers.LayerVLAN {
			if s.Start == sp.Start {
				break
			}
			i++
		}
	}
	return &p.VLANs[min(i, layers.MaxVLANTags-1)]
}

func etherTypeText(t layers.EtherType) string {
	return t.String() + " (" + hex16(uint16(t)) + ")"
}

func sllDirection(t layers.SLLPacketType) string {
	switch t {
	case layers.SLLHost:
		return "in (to us)"
	case layers.SLLBroadcast:
		return "in (broadcast)"
	case layers.SLLMulticast:
		return "in (multicast)"
	case layers.SLLOtherHost:
		return "in (to another host)"
	case layers.SLLOutgoing:
		return "out (sent by us)"
	}
	return "unknown (" + itoa(int(t)) + ")"
}

func hexBytes(b []byte) string {
	out := make([]byte, 0, 3*len(b))
	for i, x := range b {
		if i > 0 {
			out = append(out, ':')
		}
		out = appendHex(out, uint64(x), 2)
	}
	if len(out) == 0 {
		return "none"
	}
	return string(out)
}

func (v *treeView) ipv4(b []byte, f *decode.Frame, ip *layers.IPv4) []byte {
	b = line(b, ip.Src.String(), " → ", ip.Dst.String(), "  TTL ", itoa(int(ip.TTL)), "  protocol ", protoText(ip.Protocol))
	flags := ip.Flags.String()
	if flags == "" {
		flags = "none"
	}
	b = line(b, "header ", itoa(ip.HeaderLen()), " bytes  total length ", itoa(int(ip.TotalLength)),
		"  DSCP ", itoa(int(ip.DSCP())), "  ECN ", itoa(int(ip.ECN())))
	b = line(b, "id ", hex16(ip.ID), "  flags ", flags, "  fragment offset ", itoa(int(ip.FragOffset)*8))
	if len(ip.Options) > 0 {
		var opts []byte
		for i, o := range ip.Options {
			if i > 0 {
				opts = append(opts, ", "...)
			}
			opts = append(opts, o.Type.String()...)
		}
		b = line(b, "options ", string(opts))
	}
	return line(b, "header checksum ", hex16(ip.Checksum), " ", checksumText(v.p, f.Packet.Checksum(layers.LayerIPv4), f))
}

func protoText(p layers.IPProtocol) string {
	return p.String() + " (" + itoa(int(p)) + ")"
}

func (v *treeView) ipv6(b []byte, ip *layers.IPv6) []byte {
	b = line(b, ip.Src.String(), " → ", ip.Dst.String(), "  hop limit ", itoa(int(ip.HopLimit)), "  next header ", protoText(ip.Protocol))
	b = line(b, "payload length ", itoa(int(ip.PayloadLength)), "  traffic class ", "0x"+string(appendHex(nil, uint64(ip.TrafficClass), 2)),
		"  flow label ", "0x"+string(appendHex(nil, uint64(ip.FlowLabel), 5)))
	for _, e := range ip.Extensions {
		b = line(b, "extension header ", protoText(e.Type), ", ", itoa(e.End-e.Start), " bytes")
	}
	if ip.HasFragment {
		more := ""
		if ip.MoreFragments {
			more = ", more fragments"
		}
		b = line(b, "fragment id ", "0x"+string(appendHex(nil, uint64(ip.FragID), 8)), "  offset ", itoa(int(ip.FragOffset)*8), more)
	}
	return b
}

func icmpTitle(typeName, codeName string, t, code uint8) string {
	s := typeName
	if codeName != "" {
		s += ": " + codeName
	}
	return s + " (type " + itoa(int(t)) + ", code " + itoa(int(code)) + ")"
}

func (v *treeView) icmpv4(b []byte, f *decode.Frame) []byte {
	p := &f.Packet
	m := &p.ICMPv4
	b = line(b, icmpTitle(m.Type.String(), m.CodeName(), uint8(m.Type), m.Code))
	switch m.Type {
	case layers.ICMPv4EchoRequest, layers.ICMPv4EchoReply:
		b = line(b, "id ", itoa(int(m.ID)), "  seq ", itoa(int(m.Seq)), "  data ", itoa(len(m.Data)), " bytes")
	case layers.ICMPv4DestUnreachable:
		if m.Code == 4 {
			b = line(b, "next-hop MTU ", itoa(int(m.MTU)))
		}
	case layers.ICMPv4Redirect:
		b = line(b, "gateway ", m.Gateway.String())
	case layers.ICMPv4ParamProblem:
		b = line(b, "pointer ", itoa(int(m.Pointer)))
	}
	b = line(b, "checksum ", hex16(m.Checksum), " ", checksumText(v.p, p.Checksum(layers.LayerICMPv4), f))
	if m.IsError() {
		b = v.quote(b, f, &m.Quote)
	}
	return b
}

func (v *treeView) icmpv6(b []byte, f *decode.Frame) []byte {
	p := &f.Packet
	m := &p.ICMPv6
	b = line(b, icmpTitle(m.Type.String(), m.CodeName(), uint8(m.Type), m.Code))
	switch m.Type {
	case layers.ICMPv6EchoRequest, layers.ICMPv6EchoReply:
		b = line(b, "id ", itoa(int(m.ID)), "  seq ", itoa(int(m.Seq)), "  data ", itoa(len(m.Data)), " bytes")
	case layers.ICMPv6PacketTooBig:
		b = line(b, "MTU ", utoa(m.MTU))
	case layers.ICMPv6ParamProblem:
		b = line(b, "pointer ", utoa(m.Pointer))
	case layers.ICMPv6NeighborSolicit, layers.ICMPv6NeighborAdvert, layers.ICMPv6Redirect:
		if m.Target.IsValid() {
			b = line(b, "target ", m.Target.String())
		}
	}
	b = line(b, "checksum ", hex16(m.Checksum), " ", checksumText(v.p, p.Checksum(layers.LayerICMPv6), f))
	if m.IsError() {
		b = v.quote(b, f, &m.Quote)
	}
	return b
}

// quote shows the datagram an ICMP error quotes, which is what ties the
// error to the packet that caused it.
func (v *treeView) quote(b []byte, f *decode.Frame, q *layers.Quote) []byte {
	switch q.Version {
	case 4:
		ip := &q.IPv4
		b = line(b, "quoted IPv4: ", ip.Src.String(), " → ", ip.Dst.String(), "  TTL ", itoa(int(ip.TTL)),
			"  protocol ", protoText(ip.Protocol), "  id ", hex16(ip.ID))
	case 6:
		ip := &q.IPv6
		b = line(b, "quoted IPv6: ", ip.Src.String(), " → ", ip.Dst.String(), "  hop limit ", itoa(int(ip.HopLimit)),
			"  next header ", protoText(q.Protocol))
	default:
		return line(b, "quoted datagram: too short to read")
	}
	switch {
	case q.Protocol == layers.IPProtocolTCP && q.HasPorts:
		s := "quoted TCP: port " + itoa(int(q.SrcPort)) + " → " + itoa(int(q.DstPort))
		if q.HasSeq {
			s += "  seq " + utoa(q.Seq)
		}
		if q.HasAck {
			s += "  ack " + utoa(q.Ack) + "  flags " + q.Flags.String()
		}
		b = line(b, s)
	case q.Protocol == layers.IPProtocolUDP && q.HasPorts:
		b = line(b, "quoted UDP: port ", itoa(int(q.SrcPort)), " → ", itoa(int(q.DstPort)))
	case q.HasICMP && q.IsEcho():
		b = line(b, "quoted ICMP: echo request  id ", itoa(int(q.ID)), "  seq ", itoa(int(q.EchoSeq)))
	case q.HasICMP:
		b = line(b, "quoted ICMP: type ", itoa(int(q.ICMPType)), " code ", itoa(int(q.ICMPCode)))
	}
	return b
}

func (v *treeView) tcp(b []byte, f *decode.Frame) []byte {
	p := &f.Packet
	t := &p.TCP
	b = line(b, "port ", itoa(int(t.SrcPort)), " → ", itoa(int(t.DstPort)), "  flags ", t.Flags.String(),
		"  seq ", utoa(t.Seq), "  ack ", utoa(t.Ack))
	b = line(b, "header ", itoa(int(t.DataOffset)*4), " bytes  window ", itoa(int(t.Window)), "  urgent ", itoa(int(t.Urgent)),
		"  payload ", itoa(len(t.Payload)), " bytes")
	if len(t.Options) > 0 {
		var opts []byte
		for i, o := range t.Options {
			if i > 0 {
				opts = append(opts, ", "...)
			}
			opts = o.AppendText(opts)
		}
		b = line(b, "options ", string(opts))
	}
	b = line(b, "checksum ", hex16(t.Checksum), " ", checksumText(v.p, p.Checksum(layers.LayerTCP), f))
	if f.Retransmission {
		b = line(b, v.p.Warn("retransmission"), ": this sequence space was seen before")
	}
	return b
}

// application shows what the transport carries: DNS, TLS, or data.
func (v *treeView) application(b []byte, f *decode.Frame) []byte {
	p := &f.Packet
	switch {
	case f.DNS != nil:
		b = v.layerHead(b, "DNS", failure.LayerApplication, string(layers.PDUData), p.PayloadOffset, p.PayloadOffset+len(p.Payload))
		return v.dns(b, f.DNS)
	case f.TLS != nil:
		b = v.layerHead(b, "TLS", failure.LayerTLS, string(layers.PDUData), p.PayloadOffset, p.PayloadOffset+len(p.Payload))
		return v.tls(b, f.TLS, f.N)
	case len(p.Payload) > 0:
		b = v.layerHead(b, "Data", failure.LayerApplication, string(layers.PDUData), p.PayloadOffset, p.PayloadOffset+len(p.Payload))
		s := count(len(p.Payload), "byte")
		if f.Conversation > 0 && p.Has(layers.LayerTCP) {
			s += " of the TCP stream"
		}
		return line(b, s)
	}
	return b
}

func (v *treeView) dns(b []byte, m *decode.DNSMessage) []byte {
	kind := "query"
	if m.Response {
		kind = "response"
	}
	s := kind + "  id " + hex16(m.ID) + "  opcode " + itoa(int(m.Opcode))
	if m.Response {
		s += "  rcode " + decode.RcodeName(m.Rcode) + " (" + itoa(int(m.Rcode)) + ")"
	}
	b = line(b, s, "  flags ", dnsFlags(m))
	for _, q := range m.Questions {
		b = line(b, "question ", string(q.Name), " ", decode.TypeName(q.Type), " ", decode.ClassName(q.Class))
	}
	for i := range m.Answers {
		a := &m.Answers[i]
		b = line(b, "answer ", string(a.Name), " ", decode.TypeName(a.Type), " ", decode.ClassName(a.Class),
			"  TTL ", utoa(a.TTL), "  ", string(a.AppendData(nil)))
	}
	if len(m.Answers) < m.AnswerCount {
		b = line(b, "answers shown ", itoa(len(m.Answers)), " of ", itoa(m.AnswerCount))
	}
	if m.Authorities > 0 || m.Additionals > 0 {
		b = line(b, "authority records ", itoa(m.Authorities), "  additional records ", itoa(m.Additionals))
	}
	switch {
	case errors.Is(m.Err, decode.ErrDNSFragmented):
		b = line(b, v.p.Warn("incomplete"), ": ", m.Err.Error())
	case m.Err != nil:
		b = line(b, v.p.Bad("malformed"), ": ", m.Err.Error())
	}
	return b
}

func dnsFlags(m *decode.DNSMessage) string {
	var b []byte
	for _, f := range []struct {
		on   bool
		name string
	}{{m.AA, "AA"}, {m.TC, "TC"}, {m.RD, "RD"}, {m.RA, "RA"}} {
		if f.on {
			if len(b) > 0 {
				b = append(b, ',')
			}
			b = append(b, f.name...)
		}
	}
	if len(b) == 0 {
		return "none"
	}
	return string(b)
}

func (v *treeView) tls(b []byte, t *decode.TLSData, n int) []byte {
	for i := range t.Records {
		r := &t.Records[i]
		s := "record " + r.Type.String() + " (" + itoa(int(r.Type)) + ")  " + r.Version.String() + "  " + count(r.Length, "byte")
		switch {
		case r.Alert != nil:
			s += "  alert " + r.Alert.String()
		case r.Encrypted && r.Type == tlswire.ContentHandshake:
			s += "  encrypted handshake message"
		case r.Encrypted && r.Type == tlswire.ContentAlert:
			s += "  encrypted alert"
		case r.Encrypted:
			s += "  encrypted"
		}
		if i < len(t.Origins) && t.Origins[i].Segments > 1 {
			o := t.Origins[i]
			s += "  reassembled from " + itoa(o.Segments) + " segments, packets " + itoa(o.Packet) + "-" + itoa(n)
		}
		b = line(b, s)
	}
	for i := range t.Messages {
		b = tlsMessage(b, &t.Messages[i])
	}
	if t.Partial > 0 {
		b = line(b, count(t.Partial, "byte"), " of a record that a later segment completes")
	}
	if t.Err != nil {
		b = line(b, v.p.Warn("stream not followed further"), ": ", t.Err.Error())
	}
	return b
}

func tlsMessage(b []byte, m *tlswire.HandshakeMessage) []byte {
	mv := m.View()
	b = line(b, "handshake ", mv.Name, " (type ", itoa(int(mv.Type)), ")  ", count(mv.Length, "byte"))
	sub := func(parts ...string) { b = line(append(b, "  "...), parts...) }
	switch x := m.Msg.(type) {
	case *tlswire.ClientHello:
		sub("version ", x.Version.String(), "  session id ", itoa(len(x.SessionID)), " bytes")
		if x.ServerName != "" {
			sub("server name ", x.ServerName)
		}
		sub("cipher suites (", itoa(len(x.CipherSuites)), "): ", suiteList(x.CipherSuites))
		if len(mv.Extensions) > 0 {
			sub("extensions: ", joinStrings(mv.Extensions))
		}
	case *tlswire.ServerHello:
		sub("version ", x.NegotiatedVersion().String(), "  session id ", itoa(len(x.SessionID)), " bytes")
		sub("cipher suite ", x.CipherSuite.String(), " (", hex16(uint16(x.CipherSuite)), ")")
		if len(mv.Extensions) > 0 {
			sub("extensions: ", joinStrings(mv.Extensions))
		}
	case *tlswire.Certificate:
		var lens []string
		for _, c := range x.Certificates {
			lens = append(lens, itoa(len(c)))
		}
		sub(count(len(x.Certificates), "certificate"), ", bytes ", joinStrings(lens))
	case *tlswire.ServerKeyExchange:
		s := "key exchange " + string(x.KX)
		if x.Group != 0 {
			s += "  group " + x.Group.String()
		}
		if mv.SignatureAlgorithm != 0 {
			s += "  signature " + mv.SignatureAlgorithm.String()
		}
		sub(s)
	case *tlswire.NewSessionTicket:
		sub("ticket ", itoa(len(x.Ticket)), " bytes  lifetime hint ", utoa(x.LifetimeHint), " s")
	}
	if m.Err != nil {
		sub("malformed: ", m.Err.Error())
	}
	return b
}

func suiteList(cs []tlswire.CipherSuite) string {
	var b []byte
	for i, c := range cs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, c.String()...)
	}
	return string(b)
}

func joinStrings(s []string) string {
	var b []byte
	for i, x := range s {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, x...)
	}
	return string(b)
}

// appendTimeUTC writes t as "2026-11-27 04:37:51.319946 UTC", with
// nanoseconds only when the capture has them.
func appendTimeUTC(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = t.AppendFormat(b, "2006-01-02 15:04:05")
	b = appendFraction(b, t)
	return append(b, " UTC"...)
}

// appendFraction writes ".319946" (microseconds) or nine digits when the
// time has nanoseconds.
func appendFraction(b []byte, t time.Time) []byte {
	ns := t.Nanosecond()
	b = append(b, '.')
	if ns%1000 == 0 {
		return appendDigits(b, ns/1000, 6)
	}
	return appendDigits(b, ns, 9)
}

func appendDigits(b []byte, v, n int) []byte {
	var buf [9]byte
	for i := n - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, buf[:n]...)
}
