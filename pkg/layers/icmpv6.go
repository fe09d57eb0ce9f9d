package layers

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// ICMPv6Type is the type of an ICMPv6 message.
type ICMPv6Type uint8

// ICMPv6 message types (RFC 4443, RFC 4861, RFC 2710, RFC 3810, RFC 8335).
const (
	ICMPv6DestUnreachable   ICMPv6Type = 1
	ICMPv6PacketTooBig      ICMPv6Type = 2
	ICMPv6TimeExceeded      ICMPv6Type = 3
	ICMPv6ParamProblem      ICMPv6Type = 4
	ICMPv6EchoRequest       ICMPv6Type = 128
	ICMPv6EchoReply         ICMPv6Type = 129
	ICMPv6MLDQuery          ICMPv6Type = 130
	ICMPv6MLDReport         ICMPv6Type = 131
	ICMPv6MLDDone           ICMPv6Type = 132
	ICMPv6RouterSolicit     ICMPv6Type = 133
	ICMPv6RouterAdvert      ICMPv6Type = 134
	ICMPv6NeighborSolicit   ICMPv6Type = 135
	ICMPv6NeighborAdvert    ICMPv6Type = 136
	ICMPv6Redirect          ICMPv6Type = 137
	ICMPv6RouterRenumbering ICMPv6Type = 138
	ICMPv6NodeInfoQuery     ICMPv6Type = 139
	ICMPv6NodeInfoResponse  ICMPv6Type = 140
	ICMPv6MLDv2Report       ICMPv6Type = 143
	ICMPv6ExtendedEchoReq   ICMPv6Type = 160
	ICMPv6ExtendedEchoReply ICMPv6Type = 161
)

var icmpv6TypeNames = [256]string{
	ICMPv6DestUnreachable:   "destination unreachable",
	ICMPv6PacketTooBig:      "packet too big",
	ICMPv6TimeExceeded:      "time exceeded",
	ICMPv6ParamProblem:      "parameter problem",
	ICMPv6EchoRequest:       "echo request",
	ICMPv6EchoReply:         "echo reply",
	ICMPv6MLDQuery:          "multicast listener query",
	ICMPv6MLDReport:         "multicast listener report",
	ICMPv6MLDDone:           "multicast listener done",
	ICMPv6RouterSolicit:     "router solicitation",
	ICMPv6RouterAdvert:      "router advertisement",
	ICMPv6NeighborSolicit:   "neighbor solicitation",
	ICMPv6NeighborAdvert:    "neighbor advertisement",
	ICMPv6Redirect:          "redirect",
	ICMPv6RouterRenumbering: "router renumbering",
	ICMPv6NodeInfoQuery:     "node information query",
	ICMPv6NodeInfoResponse:  "node information response",
	141:                     "inverse neighbor discovery solicitation",
	142:                     "inverse neighbor discovery advertisement",
	ICMPv6MLDv2Report:       "multicast listener report v2",
	144:                     "home agent address discovery request",
	145:                     "home agent address discovery reply",
	146:                     "mobile prefix solicitation",
	147:                     "mobile prefix advertisement",
	151:                     "multicast router advertisement",
	152:                     "multicast router solicitation",
	153:                     "multicast router termination",
	ICMPv6ExtendedEchoReq:   "extended echo request",
	ICMPv6ExtendedEchoReply: "extended echo reply",
}

// String names the type ("echo request", "neighbor solicitation"), or
// "type N".
func (t ICMPv6Type) String() string {
	if s := icmpv6TypeNames[t]; s != "" {
		return s
	}
	return "type " + strconv.Itoa(int(t))
}

// IsError reports whether the type is an error message (types below 128),
// which quotes the packet that caused it.
func (t ICMPv6Type) IsError() bool { return t < 128 }

var icmpv6CodeNames = map[ICMPv6Type][]string{
	ICMPv6DestUnreachable: {
		0: "no route to destination",
		1: "communication with destination administratively prohibited",
		2: "beyond scope of source address",
		3: "address unreachable",
		4: "port unreachable",
		5: "source address failed ingress/egress policy",
		6: "reject route to destination",
		7: "error in source routing header",
		8: "headers too long",
	},
	ICMPv6TimeExceeded: {"hop limit exceeded in transit", "fragment reassembly time exceeded"},
	ICMPv6ParamProblem: {
		0: "erroneous header field encountered",
		1: "unrecognized next header type encountered",
		2: "unrecognized IPv6 option encountered",
		3: "first fragment has incomplete header chain",
	},
}

// ICMPv6CodeName names code for messages of type t ("port unreachable",
// "hop limit exceeded in transit"); "" when the type has no named codes and
// the code is 0; "code N" otherwise.
func ICMPv6CodeName(t ICMPv6Type, code uint8) string {
	if names, ok := icmpv6CodeNames[t]; ok && int(code) < len(names) {
		return names[code]
	}
	if code == 0 {
		return ""
	}
	return "code " + strconv.Itoa(int(code))
}

// ICMPv6 is an ICMPv6 message (RFC 4443). Its checksum covers the IPv6
// pseudo-header, so verifying and building need the addresses.
type ICMPv6 struct {
	Type     ICMPv6Type
	Code     uint8
	Checksum uint16
	// Rest is the raw 4 bytes after the checksum.
	Rest [4]byte
	// ID and Seq: echo request and reply.
	ID, Seq uint16
	// MTU: packet too big.
	MTU uint32
	// Pointer: the offending byte offset of a parameter problem.
	Pointer uint32
	// Length: the RFC 4884 length of the quoted packet in 64-bit words
	// (destination unreachable, time exceeded); usually 0.
	Length uint8
	// Target: the target address of neighbor solicitations and
	// advertisements and of redirects.
	Target netip.Addr
	// Data aliases the bytes after the 8-byte header.
	Data []byte
	// Contents aliases the whole message.
	Contents []byte
	// Quote is the parsed quoted packet; valid when Type.IsError().
	Quote Quote
}

var errICMPv6Short = truncated(LayerICMPv6, "fewer than 8 bytes")

// DecodeFromBytes decodes an ICMPv6 message. ICMPv6 sockets, raw and
// datagram alike, deliver the message without the IPv6 header, so this is
// what a read from one returns. For errors it parses the quoted packet.
func (m *ICMPv6) DecodeFromBytes(data []byte) error {
	if len(data) < ICMPHeaderLen {
		return errICMPv6Short
	}
	m.Type, m.Code = ICMPv6Type(data[0]), data[1]
	m.Checksum = binary.BigEndian.Uint16(data[2:])
	m.Rest = [4]byte(data[4:8])
	m.Contents, m.Data = data, data[ICMPHeaderLen:]
	m.ID = binary.BigEndian.Uint16(data[4:])
	m.Seq = binary.BigEndian.Uint16(data[6:])
	rest := binary.BigEndian.Uint32(data[4:])
	m.MTU, m.Pointer, m.Length, m.Target = 0, 0, 0, netip.Addr{}
	switch m.Type {
	case ICMPv6PacketTooBig:
		m.MTU = rest
	case ICMPv6ParamProblem:
		m.Pointer = rest
	case ICMPv6DestUnreachable, ICMPv6TimeExceeded:
		m.Length = data[4]
	case ICMPv6NeighborSolicit, ICMPv6NeighborAdvert, ICMPv6Redirect:
		if len(m.Data) >= 16 {
			m.Target = netip.AddrFrom16([16]byte(m.Data[:16]))
		}
	}
	if m.Type.IsError() {
		m.Quote.decode(quoted(m.Data, int(m.Length)*8))
	} else {
		m.Quote.reset()
	}
	return nil
}

// IsError reports whether the message is an error (and Quote is valid).
func (m *ICMPv6) IsError() bool { return m.Type.IsError() }

// CodeName names the message's code (see ICMPv6CodeName).
func (m *ICMPv6) CodeName() string { return ICMPv6CodeName(m.Type, m.Code) }

// VerifyChecksum reports whether the checksum is right for a message sent
// from src to dst.
func (m *ICMPv6) VerifyChecksum(src, dst netip.Addr) bool {
	c, ok := PseudoHeaderChecksum(src, dst, IPProtocolICMPv6, m.Contents)
	return ok && len(m.Contents) >= ICMPHeaderLen && c == 0
}

// Len is the length AppendTo writes: 8 plus Data.
func (m *ICMPv6) Len() int { return ICMPHeaderLen + len(m.Data) }

// AppendTo appends the message: the header with the type-specific bytes
// from the fields that apply to Type (ID and Seq for echo, MTU for packet
// too big, Pointer for parameter problem, Length for destination
// unreachable and time exceeded, Rest otherwise), then Data. With valid
// IPv6 src and dst it computes the checksum over the pseudo-header; with
// zero addresses it leaves the checksum 0, which is right for ICMPv6
// sockets: the kernel fills it in. Rest and Checksum are written back.
func (m *ICMPv6) AppendTo(b []byte, src, dst netip.Addr) []byte {
	switch m.Type {
	case ICMPv6EchoRequest, ICMPv6EchoReply:
		binary.BigEndian.PutUint16(m.Rest[0:], m.ID)
		binary.BigEndian.PutUint16(m.Rest[2:], m.Seq)
	case ICMPv6PacketTooBig:
		binary.BigEndian.PutUint32(m.Rest[:], m.MTU)
	case ICMPv6ParamProblem:
		binary.BigEndian.PutUint32(m.Rest[:], m.Pointer)
	case ICMPv6DestUnreachable, ICMPv6TimeExceeded:
		m.Rest = [4]byte{m.Length}
	}
	start := len(b)
	b = append(b, byte(m.Type), m.Code, 0, 0)
	b = append(b, m.Rest[:]...)
	b = append(b, m.Data...)
	m.Checksum = 0
	if c, ok := PseudoHeaderChecksum(src, dst, IPProtocolICMPv6, b[start:]); ok {
		m.Checksum = c
	}
	binary.BigEndian.PutUint16(b[start+2:], m.Checksum)
	return b
}

// String summarises the message: "echo request id 7 seq 1",
// "destination unreachable (port unreachable)", "packet too big mtu 1280".
func (m *ICMPv6) String() string {
	s := m.Type.String()
	switch m.Type {
	case ICMPv6EchoRequest, ICMPv6EchoReply:
		return s + " id " + strconv.Itoa(int(m.ID)) + " seq " + strconv.Itoa(int(m.Seq))
	case ICMPv6PacketTooBig:
		return s + " mtu " + strconv.FormatUint(uint64(m.MTU), 10)
	case ICMPv6NeighborSolicit, ICMPv6NeighborAdvert:
		if m.Target.IsValid() {
			return s + " " + m.Target.String()
		}
	}
	if c := m.CodeName(); c != "" {
		s += " (" + c + ")"
	}
	return s
}
