package layers

import (
	"encoding/binary"
	"net/netip"
)

// IPv6HeaderLen is the length of the fixed IPv6 header.
const IPv6HeaderLen = 40

// maxIPv6Extensions bounds the extension-header walk; real packets carry a
// handful, and the bound keeps hostile input from growing the list.
const maxIPv6Extensions = 16

// IPv6Extension is one extension header met on the way to the upper layer.
type IPv6Extension struct {
	// Type is the header's own protocol number (hop-by-hop 0, routing 43,
	// fragment 44, destination options 60, AH 51, ...).
	Type IPProtocol
	// NextHeader is the protocol number of what follows it.
	NextHeader IPProtocol
	// Start and End are the header's byte range counted from the start of
	// the IPv6 header.
	Start, End int
	// Data aliases the whole extension header, including its next-header
	// and length bytes.
	Data []byte
}

// IPv6 is an IPv6 header (RFC 8200) with its chain of extension headers.
type IPv6 struct {
	Version       uint8 // 6 when decoded; always written as 6
	TrafficClass  uint8
	FlowLabel     uint32
	PayloadLength uint16
	NextHeader    IPProtocol // the fixed header's next-header field
	HopLimit      uint8
	Src, Dst      netip.Addr
	// Extensions lists the extension headers in order; reused by the next
	// decode. To build, give each its Type and full Data: AppendTo chains
	// the next-header bytes.
	Extensions []IPv6Extension
	// Protocol is the upper-layer protocol reached after the extension
	// headers: the protocol Payload holds. When building, the protocol of
	// the payload that follows.
	Protocol IPProtocol
	// Fragment header fields, when HasFragment.
	HasFragment   bool
	FragOffset    uint16 // in units of 8 bytes
	MoreFragments bool
	FragID        uint32
	// Contents aliases the fixed header; Payload the upper-layer bytes
	// after the extension headers, up to the payload length (fewer when the
	// capture was cut: see Truncated).
	Contents  []byte
	Payload   []byte
	Truncated bool
}

var (
	errIPv6Short    = truncated(LayerIPv6, "fewer than 40 bytes")
	errIPv6Version  = malformed(LayerIPv6, "version is not 6")
	errIPv6ExtShort = truncated(LayerIPv6, "extension header cut short")
	errIPv6ExtMany  = malformed(LayerIPv6, "more than 16 extension headers")
	errIPv6ExtLen   = malformed(LayerIPv6, "extension headers longer than the payload length")
)

// DecodeFromBytes decodes the fixed header and walks the extension headers
// up to the upper-layer protocol (or to ESP or "no next header", which end
// the walk). A payload length of zero (a jumbogram) takes the rest of data.
func (ip *IPv6) DecodeFromBytes(data []byte) error {
	if len(data) < IPv6HeaderLen {
		return errIPv6Short
	}
	ip.Version = data[0] >> 4
	if ip.Version != 6 {
		return errIPv6Version
	}
	ip.TrafficClass = data[0]<<4 | data[1]>>4
	ip.FlowLabel = binary.BigEndian.Uint32(data) & 0x000fffff
	ip.PayloadLength = binary.BigEndian.Uint16(data[4:])
	ip.NextHeader = IPProtocol(data[6])
	ip.HopLimit = data[7]
	ip.Src = netip.AddrFrom16([16]byte(data[8:24]))
	ip.Dst = netip.AddrFrom16([16]byte(data[24:40]))
	ip.Contents = data[:IPv6HeaderLen]
	end := IPv6HeaderLen + int(ip.PayloadLength)
	if ip.PayloadLength == 0 {
		end = len(data)
	}
	ip.Truncated = end > len(data)
	body := data[:min(end, len(data))]
	off, err := ip.walkExtensions(body, end)
	ip.Payload = body[min(off, len(body)):]
	return err
}

// walkExtensions follows the extension headers in data (the whole packet,
// cut at the payload length) and returns the offset of the upper layer.
func (ip *IPv6) walkExtensions(data []byte, end int) (int, error) {
	ip.Extensions = ip.Extensions[:0]
	ip.HasFragment, ip.FragOffset, ip.MoreFragments, ip.FragID = false, 0, false, 0
	next, off := ip.NextHeader, IPv6HeaderLen
	for isIPv6Extension(next) {
		if len(ip.Extensions) == maxIPv6Extensions {
			ip.Protocol = next
			return off, errIPv6ExtMany
		}
		if len(data) < off+2 {
			ip.Protocol = next
			return off, errIPv6ExtShort
		}
		var n int
		switch next {
		case IPProtocolFragment:
			n = 8
		case IPProtocolAH:
			n = (int(data[off+1]) + 2) * 4
		default:
			n = (int(data[off+1]) + 1) * 8
		}
		if off+n > end {
			ip.Protocol = next
			return off, errIPv6ExtLen
		}
		if off+n > len(data) {
			ip.Protocol = next
			return off, errIPv6ExtShort
		}
		h := data[off : off+n]
		ext := IPv6Extension{Type: next, NextHeader: IPProtocol(h[0]), Start: off, End: off + n, Data: h}
		if next == IPProtocolFragment && !ip.HasFragment {
			fo := binary.BigEndian.Uint16(h[2:])
			ip.HasFragment = true
			ip.FragOffset = fo >> 3
			ip.MoreFragments = fo&1 != 0
			ip.FragID = binary.BigEndian.Uint32(h[4:])
		}
		ip.Extensions = append(ip.Extensions, ext)
		next, off = ext.NextHeader, off+n
		if ip.HasFragment && ip.FragOffset != 0 {
			// A later fragment: what follows is the middle of a datagram.
			break
		}
	}
	ip.Protocol = next
	return off, nil
}

func isIPv6Extension(p IPProtocol) bool {
	switch p {
	case IPProtocolHopByHop, IPProtocolRouting, IPProtocolFragment, IPProtocolDstOpts, IPProtocolAH,
		IPProtocolMobility, IPProtocolHIP, IPProtocolShim6:
		return true
	}
	return false
}

// HeaderLen is the length of the fixed header plus the extension headers.
func (ip *IPv6) HeaderLen() int {
	if n := len(ip.Extensions); n > 0 {
		return ip.Extensions[n-1].End
	}
	return IPv6HeaderLen
}

// IsFragment reports whether the packet carries a fragment header for a
// real fragment (an atomic fragment, offset 0 without M, is not one).
func (ip *IPv6) IsFragment() bool { return ip.HasFragment && (ip.FragOffset != 0 || ip.MoreFragments) }

// Len is the header length AppendTo writes: 40 plus the extension headers.
func (ip *IPv6) Len() int {
	n := IPv6HeaderLen
	for _, e := range ip.Extensions {
		n += len(e.Data)
	}
	return n
}

// FragmentExtension returns a fragment extension header for building:
// offset in units of 8 bytes, more for the M flag, id the identification.
func FragmentExtension(offset uint16, more bool, id uint32) IPv6Extension {
	h := make([]byte, 8)
	fo := offset << 3
	if more {
		fo |= 1
	}
	binary.BigEndian.PutUint16(h[2:], fo)
	binary.BigEndian.PutUint32(h[4:], id)
	return IPv6Extension{Type: IPProtocolFragment, Data: h}
}

// AppendTo appends the fixed header and the extension headers for an
// upper-layer payload of payloadLen bytes. It sets PayloadLength and
// NextHeader, chains each extension's next-header byte (the last one names
// Protocol) and writes them back into ip and into the extensions' Data.
// Extension lengths must be multiples of 8 (AH: of 4) and match their own
// length byte.
func (ip *IPv6) AppendTo(b []byte, payloadLen int) ([]byte, error) {
	if !ip.Src.Is6() || ip.Src.Is4In6() || !ip.Dst.Is6() || ip.Dst.Is4In6() {
		return b, invalid(LayerIPv6, "source or destination is not an IPv6 address")
	}
	if ip.FlowLabel > 0xfffff {
		return b, invalid(LayerIPv6, "flow label above 20 bits")
	}
	pl := ip.Len() - IPv6HeaderLen + payloadLen
	if payloadLen < 0 || pl > 0xffff {
		return b, invalid(LayerIPv6, "payload length above 65535")
	}
	ip.NextHeader = ip.Protocol
	off := IPv6HeaderLen
	for i := range ip.Extensions {
		e := &ip.Extensions[i]
		if i == 0 {
			ip.NextHeader = e.Type
		}
		e.NextHeader = ip.Protocol
		if i+1 < len(ip.Extensions) {
			e.NextHeader = ip.Extensions[i+1].Type
		}
		if len(e.Data) < 8 || !extLenMatches(e) {
			return b, invalid(LayerIPv6, "extension header length does not match its length byte")
		}
		e.Data[0] = byte(e.NextHeader)
		e.Start, e.End = off, off+len(e.Data)
		off = e.End
	}
	ip.Version, ip.PayloadLength = 6, uint16(pl)
	b = binary.BigEndian.AppendUint32(b, 6<<28|uint32(ip.TrafficClass)<<20|ip.FlowLabel)
	b = binary.BigEndian.AppendUint16(b, ip.PayloadLength)
	b = append(b, byte(ip.NextHeader), ip.HopLimit)
	s, d := ip.Src.As16(), ip.Dst.As16()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	for _, e := range ip.Extensions {
		b = append(b, e.Data...)
	}
	return b, nil
}

func extLenMatches(e *IPv6Extension) bool {
	switch e.Type {
	case IPProtocolFragment:
		return len(e.Data) == 8
	case IPProtocolAH:
		return len(e.Data) == (int(e.Data[1])+2)*4
	}
	return len(e.Data) == (int(e.Data[1])+1)*8
}
