package layers

import "encoding/binary"

// NullHeaderLen is the length of the BSD loopback header.
const NullHeaderLen = 4

// Null is the 4-byte header of BSD loopback captures: the address family
// of the packet. LINKTYPE_NULL stores it in the byte order of the machine
// that wrote the file, LINKTYPE_LOOP in network byte order; as families are
// small numbers, the order shows in which bytes are zero.
type Null struct {
	Family    uint32
	BigEndian bool // the family was stored most significant byte first
	Payload   []byte
}

// Address families seen in loopback captures. IPv4 is 2 everywhere; IPv6
// differs per system.
const (
	NullFamilyIPv4        = 2
	NullFamilyIPv6BSD     = 24 // NetBSD, OpenBSD, BSD/OS
	NullFamilyIPv6FreeBSD = 28
	NullFamilyIPv6Darwin  = 30
	NullFamilyIPv6Windows = 23
	NullFamilyIPv6Linux   = 10
)

var errNullShort = truncated(LayerNull, "fewer than 4 bytes")

// DecodeFromBytes decodes the header, guessing the byte order as libpcap
// does: a value whose low two bytes are zero when read little-endian was
// written big-endian.
func (n *Null) DecodeFromBytes(data []byte) error {
	if len(data) < NullHeaderLen {
		return errNullShort
	}
	le := binary.LittleEndian.Uint32(data)
	n.BigEndian = le&0xffff == 0 && le != 0
	if n.BigEndian {
		n.Family = binary.BigEndian.Uint32(data)
	} else {
		n.Family = le
	}
	n.Payload = data[NullHeaderLen:]
	return nil
}

// EtherType maps the family to the EtherType of the payload (IPv4 or
// IPv6), or 0 for any other family.
func (n *Null) EtherType() EtherType {
	switch n.Family {
	case NullFamilyIPv4:
		return EtherTypeIPv4
	case NullFamilyIPv6BSD, NullFamilyIPv6FreeBSD, NullFamilyIPv6Darwin, NullFamilyIPv6Windows, NullFamilyIPv6Linux:
		return EtherTypeIPv6
	}
	return 0
}

// AppendTo appends the header in the byte order BigEndian says.
func (n *Null) AppendTo(b []byte) []byte {
	if n.BigEndian {
		return binary.BigEndian.AppendUint32(b, n.Family)
	}
	return binary.LittleEndian.AppendUint32(b, n.Family)
}
