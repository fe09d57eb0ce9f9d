package layers

import (
	"encoding/binary"
	"net/netip"
)

// Quote is the datagram an ICMP error quotes: the IP header of the packet
// that caused the error and the start of its transport header (RFC 792
// promises 8 bytes, RFC 1812 routers and ICMPv6 quote more). It is what
// matches an error to the probe that caused it. Quotes are often cut
// short; Quote keeps whatever is there and says what it found in the Has
// flags, so no quote is an error.
type Quote struct {
	// Version is 4 or 6, or 0 when not even an IP header was quoted.
	Version uint8
	// IPv4 or IPv6 (by Version) holds the quoted header. Its Payload is
	// the quoted transport bytes and its Truncated is nearly always set.
	IPv4 IPv4
	IPv6 IPv6
	// Src, Dst and Protocol repeat the quoted header's addresses and
	// upper-layer protocol (after IPv6 extension headers).
	Src, Dst netip.Addr
	Protocol IPProtocol
	// HeaderLen is the length of the quoted IP header (with IPv6
	// extension headers); Transport aliases the quoted bytes after it.
	HeaderLen int
	Transport []byte
	// HasPorts: a TCP or UDP header with at least its ports was quoted.
	HasPorts         bool
	SrcPort, DstPort uint16
	// HasSeq: at least 8 bytes of a TCP header, so its sequence number.
	HasSeq bool
	Seq    uint32
	// HasAck: at least 14 bytes of a TCP header, so its acknowledgement
	// number and flags too (routers that quote more than 8 bytes, and
	// ICMPv6, show them; they tell a SYN from a data segment).
	HasAck bool
	Ack    uint32
	Flags  TCPFlags
	// HasICMP: at least 8 bytes of an ICMP or ICMPv6 message: its type
	// and code, and ID and EchoSeq for echo requests and replies.
	HasICMP  bool
	ICMPType uint8
	ICMPCode uint8
	ID       uint16
	EchoSeq  uint16
	// Truncated is set when fewer than the IP header and 8 bytes of the
	// transport header were quoted.
	Truncated bool
}

// IsEcho reports whether the quote holds an ICMP or ICMPv6 echo request,
// whose ID and EchoSeq are then valid.
func (q *Quote) IsEcho() bool {
	if !q.HasICMP {
		return false
	}
	if q.Protocol == IPProtocolICMPv4 {
		return ICMPv4Type(q.ICMPType) == ICMPv4EchoRequest
	}
	return ICMPv6Type(q.ICMPType) == ICMPv6EchoRequest
}

// AddrPorts returns the quoted TCP or UDP 4-tuple.
func (q *Quote) AddrPorts() (src, dst netip.AddrPort, ok bool) {
	if !q.HasPorts {
		return src, dst, false
	}
	return netip.AddrPortFrom(q.Src, q.SrcPort), netip.AddrPortFrom(q.Dst, q.DstPort), true
}

func (q *Quote) reset() {
	q.Version, q.Src, q.Dst, q.Protocol, q.HeaderLen, q.Transport = 0, netip.Addr{}, netip.Addr{}, 0, 0, nil
	q.HasPorts, q.SrcPort, q.DstPort, q.HasSeq, q.Seq = false, 0, 0, false, 0
	q.HasAck, q.Ack, q.Flags = false, 0, 0
	q.HasICMP, q.ICMPType, q.ICMPCode, q.ID, q.EchoSeq = false, 0, 0, 0, 0
	q.Truncated = true
}

// decode parses the quoted bytes b. It never fails: whatever cannot be
// read is left out and the Has flags say what was found.
func (q *Quote) decode(b []byte) {
	q.reset()
	if len(b) == 0 {
		return
	}
	switch b[0] >> 4 {
	case 4:
		if len(b) < IPv4MinHeaderLen || q.IPv4.DecodeFromBytes(b) != nil {
			return
		}
		q.Version, q.Src, q.Dst, q.Protocol = 4, q.IPv4.Src, q.IPv4.Dst, q.IPv4.Protocol
		q.HeaderLen = q.IPv4.HeaderLen()
		if q.IPv4.FragOffset != 0 {
			// Not the first fragment: no transport header was in it.
			q.Truncated = false
			return
		}
		q.Transport = q.IPv4.Payload
	case 6:
		if len(b) < IPv6HeaderLen {
			return
		}
		// A cut extension chain is normal in a quote: keep what was read.
		_ = q.IPv6.DecodeFromBytes(b)
		q.Version, q.Src, q.Dst, q.Protocol = 6, q.IPv6.Src, q.IPv6.Dst, q.IPv6.Protocol
		q.HeaderLen = q.IPv6.HeaderLen()
		if q.IPv6.HasFragment && q.IPv6.FragOffset != 0 || q.HeaderLen > len(b) {
			return
		}
		q.Transport = b[q.HeaderLen:]
	default:
		return
	}
	t := q.Transport
	q.Truncated = len(t) < 8
	switch q.Protocol {
	case IPProtocolTCP, IPProtocolUDP:
		if len(t) >= 4 {
			q.HasPorts = true
			q.SrcPort = binary.BigEndian.Uint16(t)
			q.DstPort = binary.BigEndian.Uint16(t[2:])
		}
		if q.Protocol == IPProtocolTCP && len(t) >= 8 {
			q.HasSeq = true
			q.Seq = binary.BigEndian.Uint32(t[4:])
		}
		if q.Protocol == IPProtocolTCP && len(t) >= 14 {
			q.HasAck = true
			q.Ack = binary.BigEndian.Uint32(t[8:])
			q.Flags = TCPFlags(binary.BigEndian.Uint16(t[12:]) & 0x1ff)
		}
	case IPProtocolICMPv4, IPProtocolICMPv6:
		if len(t) >= 8 {
			q.HasICMP = true
			q.ICMPType, q.ICMPCode = t[0], t[1]
			q.ID = binary.BigEndian.Uint16(t[4:])
			q.EchoSeq = binary.BigEndian.Uint16(t[6:])
		}
	}
}
