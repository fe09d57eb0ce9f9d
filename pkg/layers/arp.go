package layers

import (
	"encoding/binary"
	"net/netip"
)

// ARP operations.
const (
	ARPRequest uint16 = 1
	ARPReply   uint16 = 2
)

// ARPHardwareEthernet is the ARP hardware type of Ethernet.
const ARPHardwareEthernet uint16 = 1

// ARP is an Address Resolution Protocol packet (RFC 826). The address
// fields alias the decoded bytes; their lengths are the packet's hardware
// and protocol address lengths.
type ARP struct {
	HardwareType   uint16
	ProtocolType   EtherType
	Operation      uint16
	SenderHardware []byte
	SenderProtocol []byte
	TargetHardware []byte
	TargetProtocol []byte
}

var (
	errARPShort = truncated(LayerARP, "fewer than 8 bytes of header")
	errARPAddrs = truncated(LayerARP, "addresses cut short")
)

// DecodeFromBytes decodes an ARP packet. Bytes after the addresses (the
// Ethernet padding of a short frame) are ignored.
func (a *ARP) DecodeFromBytes(data []byte) error {
	if len(data) < 8 {
		return errARPShort
	}
	a.HardwareType = binary.BigEndian.Uint16(data)
	a.ProtocolType = EtherType(binary.BigEndian.Uint16(data[2:]))
	hl, pl := int(data[4]), int(data[5])
	a.Operation = binary.BigEndian.Uint16(data[6:])
	if len(data) < 8+2*hl+2*pl {
		return errARPAddrs
	}
	p := data[8:]
	a.SenderHardware, p = p[:hl], p[hl:]
	a.SenderProtocol, p = p[:pl], p[pl:]
	a.TargetHardware, p = p[:hl], p[hl:]
	a.TargetProtocol = p[:pl]
	return nil
}

// Len is the encoded length: 8 plus twice each address length.
func (a *ARP) Len() int { return 8 + 2*len(a.SenderHardware) + 2*len(a.SenderProtocol) }

// AppendTo appends the packet. Sender and target addresses of one kind
// must have the same length, at most 255 bytes.
func (a *ARP) AppendTo(b []byte) ([]byte, error) {
	hl, pl := len(a.SenderHardware), len(a.SenderProtocol)
	if hl != len(a.TargetHardware) || pl != len(a.TargetProtocol) || hl > 255 || pl > 255 {
		return b, invalid(LayerARP, "sender and target addresses differ in length")
	}
	b = binary.BigEndian.AppendUint16(b, a.HardwareType)
	b = binary.BigEndian.AppendUint16(b, uint16(a.ProtocolType))
	b = append(b, byte(hl), byte(pl))
	b = binary.BigEndian.AppendUint16(b, a.Operation)
	b = append(b, a.SenderHardware...)
	b = append(b, a.SenderProtocol...)
	b = append(b, a.TargetHardware...)
	return append(b, a.TargetProtocol...), nil
}

// SenderIP returns the sender's IPv4 address, or the zero Addr when the
// protocol addresses are not 4 bytes long.
func (a *ARP) SenderIP() netip.Addr { return addr4(a.SenderProtocol) }

// TargetIP returns the target's IPv4 address, or the zero Addr.
func (a *ARP) TargetIP() netip.Addr { return addr4(a.TargetProtocol) }

// SenderMAC returns the sender's hardware address when it is 6 bytes long.
func (a *ARP) SenderMAC() (MAC, bool) { return mac6(a.SenderHardware) }

// TargetMAC returns the target's hardware address when it is 6 bytes long.
func (a *ARP) TargetMAC() (MAC, bool) { return mac6(a.TargetHardware) }

func addr4(b []byte) netip.Addr {
	if len(b) != 4 {
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte(b))
}

func mac6(b []byte) (m MAC, ok bool) {
	if len(b) != 6 {
		return m, false
	}
	return MAC(b), true
}
