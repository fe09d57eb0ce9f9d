package layers

import "encoding/binary"

// Header lengths of the Linux cooked captures.
const (
	SLLHeaderLen  = 16
	SLL2HeaderLen = 20
)

// SLLPacketType says where a packet in a Linux cooked capture went.
type SLLPacketType uint16

// The packet types (PACKET_HOST and friends in linux/if_packet.h).
const (
	SLLHost      SLLPacketType = 0 // addressed to this host
	SLLBroadcast SLLPacketType = 1
	SLLMulticast SLLPacketType = 2
	SLLOtherHost SLLPacketType = 3 // to another host, seen in promiscuous mode
	SLLOutgoing  SLLPacketType = 4 // sent by this host
)

// String names the packet type as tcpdump does ("In", "Out", "B", "M", "P").
func (t SLLPacketType) String() string {
	switch t {
	case SLLHost:
		return "In"
	case SLLBroadcast:
		return "B"
	case SLLMulticast:
		return "M"
	case SLLOtherHost:
		return "P"
	case SLLOutgoing:
		return "Out"
	}
	return "unknown"
}

// SLL is the Linux cooked capture header, version 1 (LINKTYPE_LINUX_SLL),
// written by captures on the "any" device.
type SLL struct {
	PacketType SLLPacketType
	ARPHRDType uint16 // the device's ARPHRD_ type (1 for Ethernet)
	AddrLen    uint16 // valid bytes of Addr (up to 8)
	Addr       [8]byte
	// Protocol is an EtherType for most devices; 0x0001 and 0x0004 mean
	// Novell 802.3 and 802.2 LLC frames follow.
	Protocol EtherType
	Payload  []byte
}

var errSLLShort = truncated(LayerSLL, "fewer than 16 bytes")

// DecodeFromBytes decodes the 16-byte header.
func (s *SLL) DecodeFromBytes(data []byte) error {
	if len(data) < SLLHeaderLen {
		return errSLLShort
	}
	s.PacketType = SLLPacketType(binary.BigEndian.Uint16(data))
	s.ARPHRDType = binary.BigEndian.Uint16(data[2:])
	s.AddrLen = binary.BigEndian.Uint16(data[4:])
	copy(s.Addr[:], data[6:14])
	s.Protocol = EtherType(binary.BigEndian.Uint16(data[14:]))
	s.Payload = data[SLLHeaderLen:]
	return nil
}

// LinkAddr returns the valid part of the link-layer address.
func (s *SLL) LinkAddr() []byte { return s.Addr[:min(int(s.AddrLen), len(s.Addr))] }

// AppendTo appends the 16-byte header.
func (s *SLL) AppendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(s.PacketType))
	b = binary.BigEndian.AppendUint16(b, s.ARPHRDType)
	b = binary.BigEndian.AppendUint16(b, s.AddrLen)
	b = append(b, s.Addr[:]...)
	return binary.BigEndian.AppendUint16(b, uint16(s.Protocol))
}

// SLL2 is the Linux cooked capture header, version 2 (LINKTYPE_LINUX_SLL2),
// which adds the interface index.
type SLL2 struct {
	Protocol   EtherType
	Reserved   uint16
	IfIndex    uint32
	ARPHRDType uint16
	PacketType SLLPacketType
	AddrLen    uint8
	Addr       [8]byte
	Payload    []byte
}

var errSLL2Short = truncated(LayerSLL2, "fewer than 20 bytes")

// DecodeFromBytes decodes the 20-byte header.
func (s *SLL2) DecodeFromBytes(data []byte) error {
	if len(data) < SLL2HeaderLen {
		return errSLL2Short
	}
	s.Protocol = EtherType(binary.BigEndian.Uint16(data))
	s.Reserved = binary.BigEndian.Uint16(data[2:])
	s.IfIndex = binary.BigEndian.Uint32(data[4:])
	s.ARPHRDType = binary.BigEndian.Uint16(data[8:])
	s.PacketType = SLLPacketType(data[10])
	s.AddrLen = data[11]
	copy(s.Addr[:], data[12:20])
	s.Payload = data[SLL2HeaderLen:]
	return nil
}

// LinkAddr returns the valid part of the link-layer address.
func (s *SLL2) LinkAddr() []byte { return s.Addr[:min(int(s.AddrLen), len(s.Addr))] }

// AppendTo appends the 20-byte header.
func (s *SLL2) AppendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(s.Protocol))
	b = binary.BigEndian.AppendUint16(b, s.Reserved)
	b = binary.BigEndian.AppendUint32(b, s.IfIndex)
	b = binary.BigEndian.AppendUint16(b, s.ARPHRDType)
	b = append(b, byte(s.PacketType), s.AddrLen)
	return append(b, s.Addr[:]...)
}
