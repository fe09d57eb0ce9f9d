package ping

import (
	"net/netip"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/layers"
)

// appendEcho appends an echo request to b. ICMPv6 requests leave the
// checksum to the kernel, which fills it for every ICMPv6 socket; a
// datagram socket also overwrites the identifier with its own.
func appendEcho(b []byte, fam int, id, seq uint16, payload []byte) []byte {
	if fam == 4 {
		m := layers.ICMPv4{Type: layers.ICMPv4EchoRequest, ID: id, Seq: seq, Data: payload}
		return m.AppendTo(b)
	}
	m := layers.ICMPv6{Type: layers.ICMPv6EchoRequest, ID: id, Seq: seq, Data: payload}
	return m.AppendTo(b, netip.Addr{}, netip.Addr{})
}

// decodeIPv4Packet decodes a read from a raw IPv4 ICMP socket: the IPv4
// header, then the ICMP message. The kernel does not check ICMP checksums
// for raw sockets, so this does.
func decodeIPv4Packet(p *inbound, b []byte) bool {
	var ip layers.IPv4
	var m layers.ICMPv4
	if layers.DecodeICMPv4Read(b, true, &ip, &m) != nil {
		return false
	}
	p.from, p.ttl = ip.Src, int(ip.TTL)
	return fillICMPv4(p, &m, true)
}

// decodeMessage decodes a read that holds the ICMP message alone: from a
// datagram socket of either family, or a raw ICMPv6 socket. The kernel has
// verified the checksum of these (and drops a message whose checksum is
// wrong, so corruption is only seen on raw IPv4 sockets).
func decodeMessage(p *inbound, fam int, b []byte) bool {
	if fam == 4 {
		var m layers.ICMPv4
		if m.DecodeFromBytes(b) != nil {
			return false
		}
		return fillICMPv4(p, &m, false)
	}
	var m layers.ICMPv6
	if m.DecodeFromBytes(b) != nil {
		return false
	}
	p.bytes = len(m.Contents)
	switch {
	case m.Type == layers.ICMPv6EchoReply:
		p.kind, p.id, p.seq = inReply, m.ID, m.Seq
		p.payload = append([]byte(nil), m.Data...)
		return true
	case m.IsError() && m.Quote.IsEcho():
		p.kind, p.id, p.seq, p.dst = inError, m.Quote.ID, m.Quote.EchoSeq, m.Quote.Dst
		p.icmpType, p.icmpCode, p.mtu = uint8(m.Type), m.Code, int(m.MTU)
		return true
	}
	return false
}

func fillICMPv4(p *inbound, m *layers.ICMPv4, verify bool) bool {
	p.bytes = len(m.Contents)
	switch {
	case m.Type == layers.ICMPv4EchoReply:
		p.kind, p.id, p.seq = inReply, m.ID, m.Seq
		p.payload = append([]byte(nil), m.Data...)
		p.badSum = verify && !m.VerifyChecksum()
		return true
	case m.IsError() && m.Quote.IsEcho():
		p.kind, p.id, p.seq, p.dst = inError, m.Quote.ID, m.Quote.EchoSeq, m.Quote.Dst
		p.icmpType, p.icmpCode, p.mtu = uint8(m.Type), m.Code, int(m.MTU)
		return true
	}
	return false
}

// decodeQueuedError decodes an ICMP error from a datagram socket's error
// queue. The kernel has parsed the error already: quoted holds the echo
// request as the router quoted it, dst the request's destination, offender
// the router, and typ, code and info the error's type, code and (for
// "fragmentation needed" and "packet too big") the next-hop MTU.
func decodeQueuedError(p *inbound, fam int, quoted []byte, dst, offender netip.Addr, typ, code uint8, info uint32) bool {
	if fam == 4 {
		var m layers.ICMPv4
		if m.DecodeFromBytes(quoted) != nil || m.Type != layers.ICMPv4EchoRequest {
			return false
		}
		p.id, p.seq = m.ID, m.Seq
	} else {
		var m layers.ICMPv6
		if m.DecodeFromBytes(quoted) != nil || m.Type != layers.ICMPv6EchoRequest {
			return false
		}
		p.id, p.seq = m.ID, m.Seq
	}
	p.kind, p.from, p.dst = inError, offender, dst
	p.icmpType, p.icmpCode = typ, code
	if reason, ok := icmpReason(fam, typ, code); ok && reason == failure.FragNeeded {
		p.mtu = int(info)
	}
	return true
}

// icmpReason maps an ICMP error to the failure vocabulary; ok is false for
// messages that are not errors about a probe (redirects, source quench).
func icmpReason(fam int, typ, code uint8) (failure.Reason, bool) {
	if fam == 4 {
		return failure.FromICMPv4(typ, code)
	}
	return failure.FromICMPv6(typ, code)
}

// icmpText names an ICMP error the way the RFCs do: "destination
// unreachable (communication administratively prohibited)".
func icmpText(fam int, typ, code uint8) string {
	var name, codeName string
	if fam == 4 {
		name, codeName = layers.ICMPv4Type(typ).String(), layers.ICMPv4CodeName(layers.ICMPv4Type(typ), code)
	} else {
		name, codeName = layers.ICMPv6Type(typ).String(), layers.ICMPv6CodeName(layers.ICMPv6Type(typ), code)
	}
	if codeName != "" {
		name += " (" + codeName + ")"
	}
	return name
}
