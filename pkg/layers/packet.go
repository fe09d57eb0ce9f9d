package layers

import (
	"net/netip"
	"strconv"
)

// MaxVLANTags is how many stacked 802.1Q/802.1ad tags Packet decodes.
const MaxVLANTags = 4

// maxSpans bounds Packet.Layers: a link header, VLAN tags, IP, transport,
// and a quoted IP and transport header inside an ICMP error.
const maxSpans = 2 + MaxVLANTags + 4

// Span is one decoded header in a packet: its type and where it lies. The
// header occupies Data[Start:HeaderEnd]; the PDU it starts, header and
// payload, Data[Start:End]. So an IPv4 span covers the IPv4 packet, and
// the bytes between its End and its link layer's End are Ethernet padding
// or an FCS. The innermost span's payload, Data[HeaderEnd:End], is the
// application data.
type Span struct {
	Type                  LayerType
	Start, HeaderEnd, End int
	// Quoted marks the headers of the datagram quoted inside an ICMP error.
	Quoted bool
}

// Packet is one decoded packet, meant to be reused: Decode overwrites every
// field it sets and allocates nothing once the option lists have grown to
// their working size. All byte slices alias the data given to Decode, so
// they are valid only as long as that buffer is.
//
// Only the headers listed in Layers (and Present) hold meaningful values;
// the others keep whatever an earlier packet left in them.
type Packet struct {
	// EthernetFCS, set by the caller, says Ethernet frames end with a
	// 4-byte frame check sequence (pcapng's if_fcslen tells). It is kept
	// across decodes.
	EthernetFCS bool

	// LinkType and Data are what Decode was given.
	LinkType LinkType
	Data     []byte
	// Layers lists the decoded headers, outermost first.
	Layers []Span
	// Present is the set of layer types in Layers (quoted ones excluded).
	Present LayerSet

	Ethernet  Ethernet
	VLANs     [MaxVLANTags]VLAN // the first NumVLANs are valid, outermost first
	NumVLANs  int
	ARP       ARP
	SLL       SLL
	SLL2      SLL2
	Null      Null
	PPP       PPP
	CiscoHDLC CiscoHDLC
	IPv4      IPv4
	IPv6      IPv6
	ICMPv4    ICMPv4
	ICMPv6    ICMPv6
	TCP       TCP
	UDP       UDP

	// Payload is the application data (a TCP or UDP payload) or, when
	// decoding stopped at a protocol this package does not decode, the
	// bytes left undecoded. PayloadOffset is where it starts in Data.
	Payload       []byte
	PayloadOffset int
	// Truncated: some length field promised more bytes than were captured.
	Truncated bool
	// Fragment: the IP packet is a fragment after the first, so its
	// transport header is elsewhere and was not decoded.
	Fragment bool
	// Err says why decoding stopped before the end (a *Error); nil when
	// every header was decoded or decoding stopped at an unknown but valid
	// protocol. ErrOffset is the offset in Data of the header that failed.
	Err       error
	ErrOffset int

	spans [maxSpans]Span
}

var (
	errLinkType  = &Error{Layer: LayerNone, Err: ErrUnsupported, Detail: "link type not supported"}
	errVLANDepth = &Error{Layer: LayerVLAN, Err: ErrUnsupported, Detail: "more than 4 stacked VLAN tags"}
)

// Decode decodes data, one captured packet of link type lt, into p. It
// decodes outward-in as far as it can and stops at the first header it
// cannot decode, recording why in p.Err (also returned). Truncated
// captures decode as far as the bytes go.
func (p *Packet) Decode(lt LinkType, data []byte) error {
	p.LinkType, p.Data = lt, data
	p.Layers, p.Present = p.spans[:0], 0
	p.NumVLANs = 0
	p.Payload, p.PayloadOffset = nil, 0
	p.Truncated, p.Fragment = false, false
	p.Err, p.ErrOffset = nil, 0

	switch lt {
	case LinkTypeEthernet:
		p.decodeEthernet(data)
	case LinkTypeLinuxSLL:
		if err := p.SLL.DecodeFromBytes(data); err != nil {
			return p.fail(err, 0)
		}
		p.push(LayerSLL, 0, SLLHeaderLen, len(data))
		p.decodeEtherType(p.SLL.Protocol, SLLHeaderLen)
	case LinkTypeLinuxSLL2:
		if err := p.SLL2.DecodeFromBytes(data); err != nil {
			return p.fail(err, 0)
		}
		p.push(LayerSLL2, 0, SLL2HeaderLen, len(data))
		p.decodeEtherType(p.SLL2.Protocol, SLL2HeaderLen)
	case LinkTypeNull, LinkTypeLoop:
		if err := p.Null.DecodeFromBytes(data); err != nil {
			return p.fail(err, 0)
		}
		p.push(LayerNull, 0, NullHeaderLen, len(data))
		p.decodeEtherType(p.Null.EtherType(), NullHeaderLen)
	case LinkTypeRaw, LinkTypeIPv4, LinkTypeIPv6:
		p.decodeRawIP(0)
	case LinkTypePPP:
		p.decodePPP()
	case LinkTypePPPHDLC:
		if len(data) > 0 && (data[0] == CHDLCUnicast || data[0] == CHDLCBroadcast) {
			p.decodeCHDLC()
		} else {
			p.decodePPP()
		}
	case LinkTypeCHDLC:
		p.decodeCHDLC()
	default:
		return p.fail(errLinkType, 0)
	}
	return p.Err
}

// Has reports whether a header of type t was decoded (quoted ones aside).
func (p *Packet) Has(t LayerType) bool { return p.Present.Has(t) }

// NetworkLayer returns the type of the (outer) IP header, or LayerNone.
func (p *Packet) NetworkLayer() LayerType {
	switch {
	case p.Present.Has(LayerIPv4):
		return LayerIPv4
	case p.Present.Has(LayerIPv6):
		return LayerIPv6
	}
	return LayerNone
}

// Src and Dst return the IP addresses of the packet, or zero Addrs when it
// has no IP header.
func (p *Packet) Src() netip.Addr {
	switch p.NetworkLayer() {
	case LayerIPv4:
		return p.IPv4.Src
	case LayerIPv6:
		return p.IPv6.Src
	}
	return netip.Addr{}
}

// Dst: see Src.
func (p *Packet) Dst() netip.Addr {
	switch p.NetworkLayer() {
	case LayerIPv4:
		return p.IPv4.Dst
	case LayerIPv6:
		return p.IPv6.Dst
	}
	return netip.Addr{}
}

// Checksum verifies the checksum of the decoded header of type t: the
// IPv4 header checksum, or the ICMP, ICMPv6, TCP or UDP checksum over the
// whole message or segment. It is ChecksumUnverified when the layer is
// absent, the packet was cut short or is a fragment, or t has no checksum.
func (p *Packet) Checksum(t LayerType) ChecksumStatus {
	if !p.Present.Has(t) {
		return ChecksumUnverified
	}
	switch t {
	case LayerIPv4:
		return good(p.IPv4.VerifyChecksum())
	}
	if p.Truncated || p.Fragment || p.ipIsFragment() {
		return ChecksumUnverified
	}
	switch t {
	case LayerICMPv4:
		return good(p.ICMPv4.VerifyChecksum())
	case LayerICMPv6:
		return verifyUpper(p.IPv6.Src, p.IPv6.Dst, IPProtocolICMPv6, p.ICMPv6.Contents, p.ICMPv6.Checksum)
	case LayerTCP:
		return p.TCP.VerifyChecksum(p.Src(), p.Dst())
	case LayerUDP:
		return p.UDP.VerifyChecksum(p.Src(), p.Dst())
	}
	return ChecksumUnverified
}

func good(ok bool) ChecksumStatus {
	if ok {
		return ChecksumGood
	}
	return ChecksumBad
}

func (p *Packet) ipIsFragment() bool {
	switch p.NetworkLayer() {
	case LayerIPv4:
		return p.IPv4.IsFragment()
	case LayerIPv6:
		return p.IPv6.IsFragment()
	}
	return false
}

func (p *Packet) push(t LayerType, start, hdrEnd, end int) {
	if len(p.Layers) < len(p.spans) {
		p.Layers = append(p.Layers, Span{Type: t, Start: start, HeaderEnd: hdrEnd, End: end})
	}
	p.Present.add(t)
}

func (p *Packet) pushQuoted(t LayerType, start, hdrEnd, end int) {
	if len(p.Layers) < len(p.spans) {
		p.Layers = append(p.Layers, Span{Type: t, Start: start, HeaderEnd: hdrEnd, End: end, Quoted: true})
	}
}

func (p *Packet) fail(err error, off int) error {
	p.Err, p.ErrOffset = err, off
	if e, ok := err.(*Error); ok && e.Err == ErrTruncated {
		p.Truncated = true
	}
	return err
}

// rest records the bytes from off as undecoded payload.
func (p *Packet) rest(off, end int) {
	p.Payload, p.PayloadOffset = p.Data[off:end], off
}

func (p *Packet) decodeEthernet(data []byte) {
	var err error
	if p.EthernetFCS {
		err = p.Ethernet.DecodeWithFCS(data)
	} else {
		err = p.Ethernet.DecodeFromBytes(data)
	}
	if err != nil {
		p.fail(err, 0)
		return
	}
	p.push(LayerEthernet, 0, EthernetHeaderLen, len(data))
	if p.Ethernet.EtherType <= 1500 {
		p.rest(EthernetHeaderLen, EthernetHeaderLen+len(p.Ethernet.Payload))
		return
	}
	p.decodeEtherTypeUpTo(p.Ethernet.EtherType, EthernetHeaderLen, EthernetHeaderLen+len(p.Ethernet.Payload))
}

func (p *Packet) decodeEtherType(et EtherType, off int) {
	p.decodeEtherTypeUpTo(et, off, len(p.Data))
}

// decodeEtherTypeUpTo decodes what et names at Data[off:end]; end excludes
// an Ethernet FCS.
func (p *Packet) decodeEtherTypeUpTo(et EtherType, off, end int) {
	for et.IsVLANTag() {
		if p.NumVLANs == MaxVLANTags {
			p.fail(errVLANDepth, off)
			return
		}
		v := &p.VLANs[p.NumVLANs]
		if err := v.DecodeFromBytes(p.Data[off:end]); err != nil {
			p.fail(err, off)
			return
		}
		v.TPID = et
		p.NumVLANs++
		p.push(LayerVLAN, off, off+VLANTagLen, end)
		et, off = v.EtherType, off+VLANTagLen
	}
	switch et {
	case EtherTypeIPv4:
		p.decodeIPv4(off, end)
	case EtherTypeIPv6:
		p.decodeIPv6(off, end)
	case EtherTypeARP:
		if err := p.ARP.DecodeFromBytes(p.Data[off:end]); err != nil {
			p.fail(err, off)
			return
		}
		n := 8 + 2*len(p.ARP.SenderHardware) + 2*len(p.ARP.SenderProtocol)
		p.push(LayerARP, off, off+n, off+n)
	default:
		p.rest(off, end)
	}
}

func (p *Packet) decodeRawIP(off int) {
	if len(p.Data) <= off {
		p.fail(errRawEmpty, off)
		return
	}
	switch p.Data[off] >> 4 {
	case 4:
		p.decodeIPv4(off, len(p.Data))
	case 6:
		p.decodeIPv6(off, len(p.Data))
	default:
		p.fail(errRawVersion, off)
	}
}

var (
	errRawEmpty   = truncated(LayerNone, "no IP header")
	errRawVersion = malformed(LayerNone, "raw packet is neither IPv4 nor IPv6")
)

func (p *Packet) decodePPP() {
	if err := p.PPP.DecodeFromBytes(p.Data); err != nil {
		p.fail(err, 0)
		return
	}
	hl := len(p.Data) - len(p.PPP.Payload)
	p.push(LayerPPP, 0, hl, len(p.Data))
	if et := p.PPP.Protocol.EtherType(); et != 0 {
		p.decodeEtherType(et, hl)
		return
	}
	p.rest(hl, len(p.Data))
}

func (p *Packet) decodeCHDLC() {
	if err := p.CiscoHDLC.DecodeFromBytes(p.Data); err != nil {
		p.fail(err, 0)
		return
	}
	p.push(LayerCHDLC, 0, CHDLCHeaderLen, len(p.Data))
	p.decodeEtherType(p.CiscoHDLC.Protocol, CHDLCHeaderLen)
}

func (p *Packet) decodeIPv4(off, end int) {
	ip := &p.IPv4
	if err := ip.DecodeFromBytes(p.Data[off:end]); err != nil {
		p.fail(err, off)
		return
	}
	hl := ip.HeaderLen()
	p.push(LayerIPv4, off, off+hl, off+hl+len(ip.Payload))
	p.Truncated = p.Truncated || ip.Truncated
	if ip.FragOffset != 0 {
		p.Fragment = true
		p.rest(off+hl, off+hl+len(ip.Payload))
		return
	}
	p.decodeTransport(ip.Protocol, off+hl, off+hl+len(ip.Payload), false)
}

func (p *Packet) decodeIPv6(off, end int) {
	ip := &p.IPv6
	err := ip.DecodeFromBytes(p.Data[off:end])
	if err == errIPv6Short || err == errIPv6Version {
		p.fail(err, off)
		return
	}
	hl := ip.HeaderLen()
	p.push(LayerIPv6, off, off+hl, off+hl+len(ip.Payload))
	p.Truncated = p.Truncated || ip.Truncated
	if err != nil {
		p.fail(err, off+hl)
		return
	}
	if ip.HasFragment && ip.FragOffset != 0 {
		p.Fragment = true
		p.rest(off+hl, off+hl+len(ip.Payload))
		return
	}
	p.decodeTransport(ip.Protocol, off+hl, off+hl+len(ip.Payload), true)
}

// decodeTransport decodes the upper layer at Data[off:end] of an IPv4
// (v6 false) or IPv6 packet.
func (p *Packet) decodeTransport(proto IPProtocol, off, end int, v6 bool) {
	b := p.Data[off:end]
	switch {
	case proto == IPProtocolTCP:
		if err := p.TCP.DecodeFromBytes(b); err != nil {
			p.fail(err, off)
			return
		}
		hl := p.TCP.HeaderLen()
		p.push(LayerTCP, off, off+hl, end)
		p.rest(off+hl, end)
	case proto == IPProtocolUDP:
		err := p.UDP.DecodeFromBytes(b)
		if err == errUDPShort {
			p.fail(err, off)
			return
		}
		n := UDPHeaderLen + len(p.UDP.Payload)
		p.push(LayerUDP, off, off+UDPHeaderLen, off+n)
		p.Truncated = p.Truncated || p.UDP.Truncated
		p.rest(off+UDPHeaderLen, off+n)
		if err != nil {
			p.fail(err, off)
		}
	case proto == IPProtocolICMPv4 && !v6:
		if err := p.ICMPv4.DecodeFromBytes(b); err != nil {
			p.fail(err, off)
			return
		}
		p.push(LayerICMPv4, off, off+ICMPHeaderLen, end)
		if p.ICMPv4.IsError() {
			p.pushQuote(&p.ICMPv4.Quote, off+ICMPHeaderLen, end)
		}
	case proto == IPProtocolICMPv6 && v6:
		if err := p.ICMPv6.DecodeFromBytes(b); err != nil {
			p.fail(err, off)
			return
		}
		p.push(LayerICMPv6, off, off+ICMPHeaderLen, end)
		if p.ICMPv6.IsError() {
			p.pushQuote(&p.ICMPv6.Quote, off+ICMPHeaderLen, end)
		}
	default:
		p.rest(off, end)
	}
}

// pushQuote adds spans for the quoted datagram that starts at off.
func (p *Packet) pushQuote(q *Quote, off, end int) {
	var ipType LayerType
	var qlen int
	switch q.Version {
	case 4:
		ipType, qlen = LayerIPv4, q.HeaderLen+len(q.IPv4.Payload)
	case 6:
		ipType, qlen = LayerIPv6, q.HeaderLen+len(q.Transport)
	default:
		return
	}
	qend := min(off+qlen, end)
	p.pushQuoted(ipType, off, min(off+q.HeaderLen, qend), qend)
	if len(q.Transport) == 0 {
		return
	}
	t := off + q.HeaderLen
	var tt LayerType
	hl := 8
	switch q.Protocol {
	case IPProtocolTCP:
		tt = LayerTCP
		if len(q.Transport) >= 13 {
			hl = int(q.Transport[12]>>4) * 4
		}
	case IPProtocolUDP:
		tt = LayerUDP
	case IPProtocolICMPv4:
		tt = LayerICMPv4
	case IPProtocolICMPv6:
		tt = LayerICMPv6
	default:
		return
	}
	p.pushQuoted(tt, t, min(t+hl, qend), qend)
}

// String is a short description for debugging: the layer names, e.g.
// "eth/ipv4/tcp (54 bytes)".
func (p *Packet) String() string {
	var b []byte
	for i, s := range p.Layers {
		if i > 0 {
			b = append(b, '/')
		}
		if s.Quoted {
			b = append(b, '[')
		}
		b = append(b, s.Type.String()...)
		if s.Quoted {
			b = append(b, ']')
		}
	}
	b = append(b, " ("...)
	b = strconv.AppendInt(b, int64(len(p.Data)), 10)
	return string(append(b, " bytes)"...))
}
