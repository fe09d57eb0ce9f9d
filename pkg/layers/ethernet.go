package layers

import (
	"encoding/binary"
	"hash/crc32"
)

// MAC is a 48-bit IEEE 802 hardware address.
type MAC [6]byte

// String formats the address as six colon-separated lowercase hex bytes.
func (m MAC) String() string { return string(m.AppendText(make([]byte, 0, 17))) }

// AppendText appends the String form of m to b.
func (m MAC) AppendText(b []byte) []byte {
	for i, x := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexDigits[x>>4], hexDigits[x&15])
	}
	return b
}

// Broadcast is ff:ff:ff:ff:ff:ff.
var Broadcast = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// EthernetHeaderLen is the length of an Ethernet II header.
const EthernetHeaderLen = 14

// Ethernet is an Ethernet II header. A frame check sequence is recognised
// only when the caller says the frame has one (DecodeWithFCS): captures on
// most systems strip it, and nothing in a frame tells whether it is there.
type Ethernet struct {
	Dst, Src MAC
	// EtherType names the payload's protocol; values up to 1500 are an IEEE
	// 802.3 length and the payload is LLC, which this package leaves raw.
	EtherType EtherType
	// HasFCS and FCS are the frame check sequence, as carried (the CRC-32
	// in the byte order of the wire), when DecodeWithFCS found one.
	HasFCS bool
	FCS    uint32
	// Payload aliases the decoded bytes after the header (and before an FCS).
	Payload []byte
}

var errEthernetShort = truncated(LayerEthernet, "fewer than 14 bytes")

// DecodeFromBytes decodes an Ethernet II header from data, a frame without
// FCS. The Payload aliases data.
func (e *Ethernet) DecodeFromBytes(data []byte) error {
	if len(data) < EthernetHeaderLen {
		return errEthernetShort
	}
	copy(e.Dst[:], data[0:6])
	copy(e.Src[:], data[6:12])
	e.EtherType = EtherType(binary.BigEndian.Uint16(data[12:14]))
	e.HasFCS, e.FCS = false, 0
	e.Payload = data[EthernetHeaderLen:]
	return nil
}

// DecodeWithFCS decodes a frame whose last four bytes are its frame check
// sequence. The FCS is recorded, not checked: use CheckFCS.
func (e *Ethernet) DecodeWithFCS(data []byte) error {
	if len(data) < EthernetHeaderLen+4 {
		return errEthernetShort
	}
	if err := e.DecodeFromBytes(data[:len(data)-4]); err != nil {
		return err
	}
	e.HasFCS = true
	e.FCS = binary.LittleEndian.Uint32(data[len(data)-4:])
	return nil
}

// Len is the header length, 14.
func (e *Ethernet) Len() int { return EthernetHeaderLen }

// AppendTo appends the 14-byte header to b. The payload follows from the
// caller; finish the frame with AppendFCS if it should carry one.
func (e *Ethernet) AppendTo(b []byte) []byte {
	b = append(b, e.Dst[:]...)
	b = append(b, e.Src[:]...)
	return binary.BigEndian.AppendUint16(b, uint16(e.EtherType))
}

// FCS computes the frame check sequence of frame (from the destination
// address to the end of the payload, without FCS): the IEEE CRC-32.
func FCS(frame []byte) uint32 { return crc32.ChecksumIEEE(frame) }

// AppendFCS appends the FCS of frame to it, in the byte order Ethernet
// sends it (least significant byte first).
func AppendFCS(frame []byte) []byte {
	return binary.LittleEndian.AppendUint32(frame, FCS(frame))
}

// CheckFCS reports whether the last four bytes of frame are the right
// frame check sequence for the bytes before them.
func CheckFCS(frame []byte) bool {
	if len(frame) < 4 {
		return false
	}
	n := len(frame) - 4
	return binary.LittleEndian.Uint32(frame[n:]) == FCS(frame[:n])
}
