package layers

import (
	"encoding/binary"
	"net/netip"
)

// UDPHeaderLen is the length of the UDP header.
const UDPHeaderLen = 8

// UDP is a UDP header (RFC 768).
type UDP struct {
	SrcPort, DstPort uint16
	Length           uint16 // header and payload, as carried
	Checksum         uint16
	// Contents aliases the header; Payload the data after it, cut at Length
	// (fewer bytes when the capture was cut: see Truncated).
	Contents  []byte
	Payload   []byte
	Truncated bool
}

var (
	errUDPShort  = truncated(LayerUDP, "fewer than 8 bytes")
	errUDPLength = malformed(LayerUDP, "length below 8 bytes")
)

// DecodeFromBytes decodes a UDP header from data, the IP payload.
func (u *UDP) DecodeFromBytes(data []byte) error {
	if len(data) < UDPHeaderLen {
		return errUDPShort
	}
	u.SrcPort = binary.BigEndian.Uint16(data)
	u.DstPort = binary.BigEndian.Uint16(data[2:])
	u.Length = binary.BigEndian.Uint16(data[4:])
	u.Checksum = binary.BigEndian.Uint16(data[6:])
	u.Contents = data[:UDPHeaderLen]
	n := int(u.Length)
	if n < UDPHeaderLen {
		u.Payload, u.Truncated = data[UDPHeaderLen:], false
		return errUDPLength
	}
	u.Truncated = n > len(data)
	u.Payload = data[UDPHeaderLen:min(n, len(data))]
	return nil
}

// VerifyChecksum checks the checksum of the decoded datagram sent from src
// to dst. A zero checksum over IPv4 means none was computed (ChecksumZero);
// over IPv6 it is not allowed (ChecksumBad).
func (u *UDP) VerifyChecksum(src, dst netip.Addr) ChecksumStatus {
	if u.Truncated {
		return ChecksumUnverified
	}
	if u.Checksum == 0 {
		if src.Is4() {
			return ChecksumZero
		}
		return ChecksumBad
	}
	return verifyUpper(src, dst, IPProtocolUDP, segmentOf(u.Contents, u.Payload), u.Checksum)
}

// Len is the header length, 8: what AppendTo writes before the payload.
func (u *UDP) Len() int { return UDPHeaderLen }

// AppendTo appends the header and payload, computing Length and the
// checksum over the pseudo-header of src and dst (a computed zero is sent
// as 0xffff, RFC 768), and writes both back into u.
func (u *UDP) AppendTo(b []byte, src, dst netip.Addr, payload []byte) ([]byte, error) {
	n := UDPHeaderLen + len(payload)
	if n > 0xffff {
		return b, invalid(LayerUDP, "length above 65535")
	}
	acc, ok := pseudoHeaderSum(src, dst, IPProtocolUDP, n)
	if !ok {
		return b, invalid(LayerUDP, "source and destination are not addresses of one family")
	}
	u.Length = uint16(n)
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, u.SrcPort)
	b = binary.BigEndian.AppendUint16(b, u.DstPort)
	b = binary.BigEndian.AppendUint16(b, u.Length)
	b = append(b, 0, 0)
	b = append(b, payload...)
	u.Checksum = ^fold(sum(b[start:], acc))
	if u.Checksum == 0 {
		u.Checksum = 0xffff
	}
	binary.BigEndian.PutUint16(b[start+6:], u.Checksum)
	u.Contents, u.Payload, u.Truncated = b[start:start+UDPHeaderLen], b[start+UDPHeaderLen:], false
	return b, nil
}
