package layers

import "encoding/binary"

// VLANTagLen is the length of the part of an 802.1Q tag after its TPID.
const VLANTagLen = 4

// VLAN is one IEEE 802.1Q (or 802.1ad) tag. The tag protocol identifier
// (0x8100, 0x88a8) is the EtherType of the header before it; VLAN holds the
// tag control information and the EtherType that follows, so stacked tags
// (QinQ) are a chain of VLAN values.
type VLAN struct {
	TPID         EtherType // the EtherType that introduced this tag, set by the decoder
	Priority     uint8     // PCP, 0-7
	DropEligible bool      // DEI
	ID           uint16    // VID, 0-4095
	EtherType    EtherType
	Payload      []byte
}

var errVLANShort = truncated(LayerVLAN, "fewer than 4 bytes of tag")

// DecodeFromBytes decodes the tag from data, which starts after the TPID.
// TPID is left as it was: the caller knows it.
func (v *VLAN) DecodeFromBytes(data []byte) error {
	if len(data) < VLANTagLen {
		return errVLANShort
	}
	tci := binary.BigEndian.Uint16(data)
	v.Priority = uint8(tci >> 13)
	v.DropEligible = tci&0x1000 != 0
	v.ID = tci & 0x0fff
	v.EtherType = EtherType(binary.BigEndian.Uint16(data[2:]))
	v.Payload = data[VLANTagLen:]
	return nil
}

// Len is the encoded length, 4.
func (v *VLAN) Len() int { return VLANTagLen }

// AppendTo appends the tag control information and EtherType.
func (v *VLAN) AppendTo(b []byte) ([]byte, error) {
	if v.Priority > 7 || v.ID > 0x0fff {
		return b, invalid(LayerVLAN, "priority above 7 or ID above 4095")
	}
	tci := uint16(v.Priority)<<13 | v.ID
	if v.DropEligible {
		tci |= 0x1000
	}
	b = binary.BigEndian.AppendUint16(b, tci)
	return binary.BigEndian.AppendUint16(b, uint16(v.EtherType)), nil
}
