package layers

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// ICMPHeaderLen is the length of the ICMP and ICMPv6 header: type, code,
// checksum and four type-specific bytes.
const ICMPHeaderLen = 8

// ICMPv4Type is the type of an ICMPv4 message.
type ICMPv4Type uint8

// ICMPv4 message types (RFC 792, RFC 950, RFC 1256, RFC 1393, RFC 8335).
const (
	ICMPv4EchoReply         ICMPv4Type = 0
	ICMPv4DestUnreachable   ICMPv4Type = 3
	ICMPv4SourceQuench      ICMPv4Type = 4
	ICMPv4Redirect          ICMPv4Type = 5
	ICMPv4EchoRequest       ICMPv4Type = 8
	ICMPv4RouterAdvert      ICMPv4Type = 9
	ICMPv4RouterSolicit     ICMPv4Type = 10
	ICMPv4TimeExceeded      ICMPv4Type = 11
	ICMPv4ParamProblem      ICMPv4Type = 12
	ICMPv4Timestamp         ICMPv4Type = 13
	ICMPv4TimestampReply    ICMPv4Type = 14
	ICMPv4InfoRequest       ICMPv4Type = 15
	ICMPv4InfoReply         ICMPv4Type = 16
	ICMPv4AddrMaskRequest   ICMPv4Type = 17
	ICMPv4AddrMaskReply     ICMPv4Type = 18
	ICMPv4Traceroute        ICMPv4Type = 30
	ICMPv4ExtendedEchoReq   ICMPv4Type = 42
	ICMPv4ExtendedEchoReply ICMPv4Type = 43
)

var icmpv4TypeNames = [256]string{
	ICMPv4EchoReply:         "echo reply",
	ICMPv4DestUnreachable:   "destination unreachable",
	ICMPv4SourceQuench:      "source quench",
	ICMPv4Redirect:          "redirect",
	ICMPv4EchoRequest:       "echo request",
	ICMPv4RouterAdvert:      "router advertisement",
	ICMPv4RouterSolicit:     "router solicitation",
	ICMPv4TimeExceeded:      "time exceeded",
	ICMPv4ParamProblem:      "parameter problem",
	ICMPv4Timestamp:         "timestamp request",
	ICMPv4TimestampReply:    "timestamp reply",
	ICMPv4InfoRequest:       "information request",
	ICMPv4InfoReply:         "information reply",
	ICMPv4AddrMaskRequest:   "address mask request",
	ICMPv4AddrMaskReply:     "address mask reply",
	ICMPv4Traceroute:        "traceroute",
	ICMPv4ExtendedEchoReq:   "extended echo request",
	ICMPv4ExtendedEchoReply: "extended echo reply",
}

// String names the type ("echo request", "destination unreachable"), or
// "type N".
func (t ICMPv4Type) String() string {
	if s := icmpv4TypeNames[t]; s != "" {
		return s
	}
	return "type " + strconv.Itoa(int(t))
}

// IsError reports whether messages of this type report an error and quote
// the datagram that caused it.
func (t ICMPv4Type) IsError() bool {
	switch t {
	case ICMPv4DestUnreachable, ICMPv4SourceQuench, ICMPv4Redirect, ICMPv4TimeExceeded, ICMPv4ParamProblem:
		return true
	}
	return false
}

// Destination unreachable codes (RFC 792, RFC 1122, RFC 1812).
var icmpv4UnreachNames = [...]string{
	0:  "net unreachable",
	1:  "host unreachable",
	2:  "protocol unreachable",
	3:  "port unreachable",
	4:  "fragmentation needed and DF set",
	5:  "source route failed",
	6:  "destination network unknown",
	7:  "destination host unknown",
	8:  "source host isolated",
	9:  "network administratively prohibited",
	10: "host administratively prohibited",
	11: "network unreachable for TOS",
	12: "host unreachable for TOS",
	13: "communication administratively prohibited",
	14: "host precedence violation",
	15: "precedence cutoff in effect",
}

var icmpv4CodeNames = map[ICMPv4Type][]string{
	ICMPv4DestUnreachable: icmpv4UnreachNames[:],
	ICMPv4Redirect:        {"redirect for network", "redirect for host", "redirect for TOS and network", "redirect for TOS and host"},
	ICMPv4TimeExceeded:    {"TTL exceeded in transit", "fragment reassembly time exceeded"},
	ICMPv4ParamProblem:    {"pointer indicates the error", "missing a required option", "bad length"},
	ICMPv4RouterAdvert:    {"normal router advertisement"},
}

// ICMPv4CodeName names code for messages of type t ("port unreachable",
// "TTL exceeded in transit"); "" when the type has no named codes and the
// code is 0; "code N" otherwise.
func ICMPv4CodeName(t ICMPv4Type, code uint8) string {
	if names, ok := icmpv4CodeNames[t]; ok && int(code) < len(names) {
		return names[code]
	}
	if t == ICMPv4RouterAdvert && code == 16 {
		return "does not route common traffic"
	}
	if code == 0 {
		return ""
	}
	return "code " + strconv.Itoa(int(code))
}

// ICMPv4 is an ICMP message (RFC 792). The four bytes after the checksum
// mean different things per type; decoding fills the fields that apply
// and keeps the raw bytes in Rest.
type ICMPv4 struct {
	Type     ICMPv4Type
	Code     uint8
	Checksum uint16
	// Rest is the raw 4 bytes after the checksum.
	Rest [4]byte
	// ID and Seq: echo, timestamp, information and address-mask messages.
	ID, Seq uint16
	// MTU: the next-hop MTU of "fragmentation needed" (RFC 1191); 0 from
	// routers older than it.
	MTU uint16
	// Pointer: the offending byte of a parameter problem.
	Pointer uint8
	// Length: the RFC 4884 length of the quoted datagram in 32-bit words,
	// for errors that carry extensions; usually 0.
	Length uint8
	// Gateway: the router a redirect points to.
	Gateway netip.Addr
	// Data aliases the bytes after the 8-byte header: the echo payload or
	// the quoted datagram.
	Data []byte
	// Contents aliases the whole message, which the checksum covers.
	Contents []byte
	// Quote is the parsed quoted datagram; valid when Type.IsError().
	Quote Quote
}

var errICMPv4Short = truncated(LayerICMPv4, "fewer than 8 bytes")

// DecodeFromBytes decodes an ICMP message (without IP header). For error
// messages it parses the quoted datagram into Quote.
func (m *ICMPv4) DecodeFromBytes(data []byte) error {
	if len(data) < ICMPHeaderLen {
		return errICMPv4Short
	}
	m.Type, m.Code = ICMPv4Type(data[0]), data[1]
	m.Checksum = binary.BigEndian.Uint16(data[2:])
	m.Rest = [4]byte(data[4:8])
	m.Contents, m.Data = data, data[ICMPHeaderLen:]
	m.ID = binary.BigEndian.Uint16(data[4:])
	m.Seq = binary.BigEndian.Uint16(data[6:])
	m.MTU, m.Pointer, m.Length, m.Gateway = 0, 0, 0, netip.Addr{}
	switch m.Type {
	case ICMPv4DestUnreachable:
		m.Length = data[5]
		if m.Code == 4 {
			m.MTU = m.Seq
		}
	case ICMPv4TimeExceeded:
		m.Length = data[5]
	case ICMPv4ParamProblem:
		m.Pointer, m.Length = data[4], data[5]
	case ICMPv4Redirect:
		m.Gateway = netip.AddrFrom4(m.Rest)
	}
	if m.Type.IsError() {
		m.Quote.decode(quoted(m.Data, int(m.Length)*4))
	} else {
		m.Quote.reset()
	}
	return nil
}

// quoted limits an error's data to the RFC 4884 original-datagram length
// when the sender set one that fits.
func quoted(data []byte, n int) []byte {
	if n > 0 && n <= len(data) {
		return data[:n]
	}
	return data
}

// IsError reports whether the message is an error (and Quote is valid).
func (m *ICMPv4) IsError() bool { return m.Type.IsError() }

// CodeName names the message's code (see ICMPv4CodeName).
func (m *ICMPv4) CodeName() string { return ICMPv4CodeName(m.Type, m.Code) }

// VerifyChecksum reports whether the checksum over the message is right.
func (m *ICMPv4) VerifyChecksum() bool {
	return len(m.Contents) >= ICMPHeaderLen && Checksum(m.Contents) == 0
}

// Len is the length AppendTo writes: 8 plus Data.
func (m *ICMPv4) Len() int { return ICMPHeaderLen + len(m.Data) }

// AppendTo appends the message: the header with the type-specific bytes
// taken from the fields that apply to Type (ID and Seq for echo and the
// other queries, MTU and Length for destination unreachable, Pointer and
// Length for parameter problem, Gateway for redirect, Rest otherwise), then
// Data, with the checksum computed. Rest and Checksum are written back.
func (m *ICMPv4) AppendTo(b []byte) []byte {
	switch m.Type {
	case ICMPv4EchoRequest, ICMPv4EchoReply, ICMPv4Timestamp, ICMPv4TimestampReply, ICMPv4InfoRequest,
		ICMPv4InfoReply, ICMPv4AddrMaskRequest, ICMPv4AddrMaskReply:
		binary.BigEndian.PutUint16(m.Rest[0:], m.ID)
		binary.BigEndian.PutUint16(m.Rest[2:], m.Seq)
	case ICMPv4DestUnreachable:
		m.Rest = [4]byte{0, m.Length}
		binary.BigEndian.PutUint16(m.Rest[2:], m.MTU)
	case ICMPv4TimeExceeded:
		m.Rest = [4]byte{0, m.Length}
	case ICMPv4ParamProblem:
		m.Rest = [4]byte{m.Pointer, m.Length}
	case ICMPv4Redirect:
		if m.Gateway.Is4() {
			m.Rest = m.Gateway.As4()
		}
	}
	start := len(b)
	b = append(b, byte(m.Type), m.Code, 0, 0)
	b = append(b, m.Rest[:]...)
	b = append(b, m.Data...)
	m.Checksum = Checksum(b[start:])
	binary.BigEndian.PutUint16(b[start+2:], m.Checksum)
	return b
}

// String summarises the message: "echo request id 7 seq 1",
// "destination unreachable (port unreachable)".
func (m *ICMPv4) String() string {
	s := m.Type.String()
	switch m.Type {
	case ICMPv4EchoRequest, ICMPv4EchoReply:
		return s + " id " + strconv.Itoa(int(m.ID)) + " seq " + strconv.Itoa(int(m.Seq))
	}
	if c := m.CodeName(); c != "" {
		s += " (" + c + ")"
	}
	if m.Type == ICMPv4DestUnreachable && m.Code == 4 {
		s += " mtu " + strconv.Itoa(int(m.MTU))
	}
	return s
}

// DecodeICMPv4Read decodes what one read from an IPv4 ICMP socket
// returned. Raw sockets (SOCK_RAW, IPPROTO_ICMP) deliver the IPv4 header
// before the message: pass withIPHeader and ip receives it. Datagram
// ("ping") sockets deliver the message alone; ip is then left untouched and
// may be nil. The message is taken to be everything after the header, not
// TotalLength bytes: Darwin and the BSDs hand raw sockets a TotalLength in
// host byte order without the header, which is not the wire format. Note
// also that Linux datagram sockets rewrite the echo ID to the socket's
// local port.
func DecodeICMPv4Read(b []byte, withIPHeader bool, ip *IPv4, m *ICMPv4) error {
	if withIPHeader {
		if err := ip.DecodeFromBytes(b); err != nil && err != errIPv4Length {
			return err
		}
		b = b[ip.HeaderLen():]
	}
	return m.DecodeFromBytes(b)
}
