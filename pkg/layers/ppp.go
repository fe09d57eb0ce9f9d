package layers

import (
	"encoding/binary"
	"strconv"
)

// PPPProtocol is the protocol field of a PPP frame (RFC 1661).
type PPPProtocol uint16

// Common PPP protocol numbers.
const (
	PPPProtocolIPv4   PPPProtocol = 0x0021
	PPPProtocolIPv6   PPPProtocol = 0x0057
	PPPProtocolIPCP   PPPProtocol = 0x8021
	PPPProtocolIPv6CP PPPProtocol = 0x8057
	PPPProtocolLCP    PPPProtocol = 0xC021
	PPPProtocolPAP    PPPProtocol = 0xC023
	PPPProtocolCHAP   PPPProtocol = 0xC223
)

// String names the protocol, or gives it in hex.
func (p PPPProtocol) String() string {
	switch p {
	case PPPProtocolIPv4:
		return "IPv4"
	case PPPProtocolIPv6:
		return "IPv6"
	case PPPProtocolIPCP:
		return "IPCP"
	case PPPProtocolIPv6CP:
		return "IPv6CP"
	case PPPProtocolLCP:
		return "LCP"
	case PPPProtocolPAP:
		return "PAP"
	case PPPProtocolCHAP:
		return "CHAP"
	}
	return "0x" + hex4(uint16(p))
}

// EtherType maps IPv4 and IPv6 to their EtherTypes; others give 0.
func (p PPPProtocol) EtherType() EtherType {
	switch p {
	case PPPProtocolIPv4:
		return EtherTypeIPv4
	case PPPProtocolIPv6:
		return EtherTypeIPv6
	}
	return 0
}

// PPP is a PPP header as LINKTYPE_PPP and LINKTYPE_PPP_HDLC captures carry
// it: optionally the HDLC-like address and control bytes (0xFF 0x03, RFC
// 1662), then the protocol field, one byte when compressed (RFC 1661
// section 6.5: an odd first byte). Captured frames are neither byte- nor
// bit-stuffed and carry no FCS.
type PPP struct {
	HDLCFraming bool // the frame starts with address 0xFF and control 0x03
	Compressed  bool // the protocol field is one byte
	Protocol    PPPProtocol
	Payload     []byte
}

var (
	errPPPShort    = truncated(LayerPPP, "no protocol field")
	errPPPProtocol = malformed(LayerPPP, "protocol field must end in an odd byte")
)

// DecodeFromBytes decodes the header.
func (p *PPP) DecodeFromBytes(data []byte) error {
	p.HDLCFraming = len(data) >= 2 && data[0] == 0xff && data[1] == 0x03
	if p.HDLCFraming {
		data = data[2:]
	}
	if len(data) < 1 {
		return errPPPShort
	}
	if data[0]&1 == 1 {
		p.Compressed = true
		p.Protocol = PPPProtocol(data[0])
		p.Payload = data[1:]
		return nil
	}
	if len(data) < 2 {
		return errPPPShort
	}
	if data[1]&1 == 0 {
		return errPPPProtocol
	}
	p.Compressed = false
	p.Protocol = PPPProtocol(binary.BigEndian.Uint16(data))
	p.Payload = data[2:]
	return nil
}

// Len is the encoded header length.
func (p *PPP) Len() int {
	n := 2
	if p.Compressed {
		n = 1
	}
	if p.HDLCFraming {
		n += 2
	}
	return n
}

// AppendTo appends the header. A compressed protocol field must fit one
// odd byte.
func (p *PPP) AppendTo(b []byte) ([]byte, error) {
	if p.HDLCFraming {
		b = append(b, 0xff, 0x03)
	}
	if p.Compressed {
		if p.Protocol > 0xff || p.Protocol&1 == 0 {
			return b, invalid(LayerPPP, "protocol "+strconv.Itoa(int(p.Protocol))+" cannot be compressed")
		}
		return append(b, byte(p.Protocol)), nil
	}
	return binary.BigEndian.AppendUint16(b, uint16(p.Protocol)), nil
}

// CHDLCHeaderLen is the length of a Cisco HDLC header.
const CHDLCHeaderLen = 4

// Cisco HDLC addresses.
const (
	CHDLCUnicast   = 0x0F
	CHDLCBroadcast = 0x8F
)

// CiscoHDLC is the Cisco HDLC header (LINKTYPE_C_HDLC, and LINKTYPE_PPP_HDLC
// frames that start with 0x0F or 0x8F): address, control and an EtherType.
type CiscoHDLC struct {
	Address  uint8 // 0x0F unicast, 0x8F broadcast
	Control  uint8
	Protocol EtherType // 0x8035 is SLARP keepalives
	Payload  []byte
}

var errCHDLCShort = truncated(LayerCHDLC, "fewer than 4 bytes")

// DecodeFromBytes decodes the 4-byte header.
func (c *CiscoHDLC) DecodeFromBytes(data []byte) error {
	if len(data) < CHDLCHeaderLen {
		return errCHDLCShort
	}
	c.Address, c.Control = data[0], data[1]
	c.Protocol = EtherType(binary.BigEndian.Uint16(data[2:]))
	c.Payload = data[CHDLCHeaderLen:]
	return nil
}

// AppendTo appends the 4-byte header.
func (c *CiscoHDLC) AppendTo(b []byte) []byte {
	b = append(b, c.Address, c.Control)
	return binary.BigEndian.AppendUint16(b, uint16(c.Protocol))
}
