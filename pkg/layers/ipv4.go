package layers

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// IPv4 header lengths.
const (
	IPv4MinHeaderLen = 20
	IPv4MaxHeaderLen = 60
)

// IPv4Flags are the three flag bits of the IPv4 header.
type IPv4Flags uint8

// The flags, as the top bits of the fragment field.
const (
	IPv4MoreFragments IPv4Flags = 1 << 0 // MF
	IPv4DontFragment  IPv4Flags = 1 << 1 // DF
	IPv4Reserved      IPv4Flags = 1 << 2 // must be zero (RFC 3514's "evil bit")
)

// String lists the set flags: "DF", "MF", "DF,MF", "RES,..."; "" for none.
func (f IPv4Flags) String() string {
	var b []byte
	for _, x := range [...]struct {
		f IPv4Flags
		s string
	}{{IPv4Reserved, "RES"}, {IPv4DontFragment, "DF"}, {IPv4MoreFragments, "MF"}} {
		if f&x.f != 0 {
			if len(b) > 0 {
				b = append(b, ',')
			}
			b = append(b, x.s...)
		}
	}
	return string(b)
}

// IPv4OptionType is the type octet of an IPv4 option (copy flag, class and
// number together).
type IPv4OptionType uint8

// Common IPv4 option types.
const (
	IPv4OptionEOL         IPv4OptionType = 0
	IPv4OptionNOP         IPv4OptionType = 1
	IPv4OptionRecordRoute IPv4OptionType = 7
	IPv4OptionTimestamp   IPv4OptionType = 68
	IPv4OptionSecurity    IPv4OptionType = 130
	IPv4OptionLSRR        IPv4OptionType = 131
	IPv4OptionSSRR        IPv4OptionType = 137
	IPv4OptionRouterAlert IPv4OptionType = 148
)

// String names the option ("RR", "RA"), or gives its number.
func (t IPv4OptionType) String() string {
	switch t {
	case IPv4OptionEOL:
		return "EOL"
	case IPv4OptionNOP:
		return "NOP"
	case IPv4OptionRecordRoute:
		return "RR"
	case IPv4OptionTimestamp:
		return "TS"
	case IPv4OptionSecurity:
		return "SEC"
	case IPv4OptionLSRR:
		return "LSRR"
	case IPv4OptionSSRR:
		return "SSRR"
	case IPv4OptionRouterAlert:
		return "RA"
	}
	return strconv.Itoa(int(t))
}

// IPv4Option is one option: EOL and NOP are a single byte (Length 1, no
// Data); the others carry a length octet that counts type and length too.
type IPv4Option struct {
	Type   IPv4OptionType
	Length uint8
	Data   []byte
}

// IPv4 is an IPv4 header (RFC 791).
type IPv4 struct {
	Version     uint8 // 4 when decoded; always written as 4
	IHL         uint8 // header length in 32-bit words
	TOS         uint8 // DSCP (top six bits) and ECN (low two)
	TotalLength uint16
	ID          uint16
	Flags       IPv4Flags
	FragOffset  uint16 // in units of 8 bytes
	TTL         uint8
	Protocol    IPProtocol
	Checksum    uint16
	Src, Dst    netip.Addr
	// Options are the decoded options, in order; padding after EOL is not
	// listed. The slice is reused by the next decode.
	Options []IPv4Option
	// BadOptions is set when an option's length ran past the header; the
	// rest of the option bytes are then the last option, kept raw.
	BadOptions bool
	// Contents aliases the header bytes, Payload the bytes after it up to
	// TotalLength (fewer when the capture was cut: see Truncated).
	Contents  []byte
	Payload   []byte
	Truncated bool
}

var (
	errIPv4Short   = truncated(LayerIPv4, "fewer than 20 bytes")
	errIPv4Version = malformed(LayerIPv4, "version is not 4")
	errIPv4IHL     = malformed(LayerIPv4, "header length below 20 bytes")
	errIPv4Options = truncated(LayerIPv4, "options cut short")
	errIPv4Length  = malformed(LayerIPv4, "total length smaller than the header")
)

// DecodeFromBytes decodes the header and options. Bytes past TotalLength
// (link-layer padding) are left out of Payload; if data ends before
// TotalLength, Payload is what there is and Truncated is set.
func (ip *IPv4) DecodeFromBytes(data []byte) error {
	if len(data) < IPv4MinHeaderLen {
		return errIPv4Short
	}
	ip.Version = data[0] >> 4
	if ip.Version != 4 {
		return errIPv4Version
	}
	ip.IHL = data[0] & 0x0f
	hl := int(ip.IHL) * 4
	if hl < IPv4MinHeaderLen {
		return errIPv4IHL
	}
	if len(data) < hl {
		return errIPv4Options
	}
	ip.TOS = data[1]
	ip.TotalLength = binary.BigEndian.Uint16(data[2:])
	ip.ID = binary.BigEndian.Uint16(data[4:])
	frag := binary.BigEndian.Uint16(data[6:])
	ip.Flags = IPv4Flags(frag >> 13)
	ip.FragOffset = frag & 0x1fff
	ip.TTL = data[8]
	ip.Protocol = IPProtocol(data[9])
	ip.Checksum = binary.BigEndian.Uint16(data[10:])
	ip.Src = netip.AddrFrom4([4]byte(data[12:16]))
	ip.Dst = netip.AddrFrom4([4]byte(data[16:20]))
	ip.Contents = data[:hl]
	ip.Options, ip.BadOptions = decodeIPv4Options(ip.Options[:0], data[IPv4MinHeaderLen:hl])
	tl := int(ip.TotalLength)
	if tl < hl {
		ip.Truncated, ip.Payload = false, data[hl:]
		return errIPv4Length
	}
	ip.Truncated = tl > len(data)
	ip.Payload = data[hl:min(tl, len(data))]
	return nil
}

func decodeIPv4Options(opts []IPv4Option, b []byte) ([]IPv4Option, bool) {
	return decodeOptions(opts, b, IPv4OptionEOL, IPv4OptionNOP, func(t IPv4OptionType, l uint8, d []byte) IPv4Option {
		return IPv4Option{Type: t, Length: l, Data: d}
	})
}

// HeaderLen is the header length in bytes, from IHL.
func (ip *IPv4) HeaderLen() int { return int(ip.IHL) * 4 }

// DSCP is the differentiated services code point.
func (ip *IPv4) DSCP() uint8 { return ip.TOS >> 2 }

// ECN is the explicit congestion notification field.
func (ip *IPv4) ECN() uint8 { return ip.TOS & 3 }

// DontFragment reports the DF flag.
func (ip *IPv4) DontFragment() bool { return ip.Flags&IPv4DontFragment != 0 }

// MoreFragments reports the MF flag.
func (ip *IPv4) MoreFragments() bool { return ip.Flags&IPv4MoreFragments != 0 }

// IsFragment reports whether the packet is one fragment of a larger
// datagram (MF set or a nonzero offset).
func (ip *IPv4) IsFragment() bool { return ip.MoreFragments() || ip.FragOffset != 0 }

// VerifyChecksum reports whether the header checksum is right.
func (ip *IPv4) VerifyChecksum() bool {
	return len(ip.Contents) >= IPv4MinHeaderLen && Checksum(ip.Contents) == 0
}

// Len is the header length AppendTo writes: 20 plus the options padded to a
// multiple of four.
func (ip *IPv4) Len() int { return IPv4MinHeaderLen + (ipv4OptionsLen(ip.Options)+3)&^3 }

func ipv4OptionsLen(opts []IPv4Option) int {
	n := 0
	for _, o := range opts {
		if o.Type == IPv4OptionEOL || o.Type == IPv4OptionNOP {
			n++
		} else {
			n += 2 + len(o.Data)
		}
	}
	return n
}

// AppendTo appends the header for a payload of payloadLen bytes. It
// computes IHL, TotalLength and the checksum from the fields and the
// options (padded with EOL), and writes them back into ip, so after the
// call ip describes the bytes written. Version is always 4.
func (ip *IPv4) AppendTo(b []byte, payloadLen int) ([]byte, error) {
	hl := ip.Len()
	if hl > IPv4MaxHeaderLen {
		return b, invalid(LayerIPv4, "options longer than 40 bytes")
	}
	if payloadLen < 0 || hl+payloadLen > 0xffff {
		return b, invalid(LayerIPv4, "total length above 65535")
	}
	if !ip.Src.Is4() || !ip.Dst.Is4() {
		return b, invalid(LayerIPv4, "source or destination is not an IPv4 address")
	}
	if ip.FragOffset > 0x1fff || ip.Flags > 7 {
		return b, invalid(LayerIPv4, "fragment offset or flags out of range")
	}
	ip.Version, ip.IHL, ip.TotalLength = 4, uint8(hl/4), uint16(hl+payloadLen)
	start := len(b)
	b = append(b, 0x40|ip.IHL, ip.TOS)
	b = binary.BigEndian.AppendUint16(b, ip.TotalLength)
	b = binary.BigEndian.AppendUint16(b, ip.ID)
	b = binary.BigEndian.AppendUint16(b, uint16(ip.Flags)<<13|ip.FragOffset)
	b = append(b, ip.TTL, byte(ip.Protocol), 0, 0)
	s, d := ip.Src.As4(), ip.Dst.As4()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	for _, o := range ip.Options {
		if o.Type == IPv4OptionEOL || o.Type == IPv4OptionNOP {
			b = append(b, byte(o.Type))
			continue
		}
		if len(o.Data) > 38 {
			return b[:start], invalid(LayerIPv4, "option data longer than 38 bytes")
		}
		b = append(b, byte(o.Type), byte(2+len(o.Data)))
		b = append(b, o.Data...)
	}
	for len(b)-start < hl {
		b = append(b, 0)
	}
	ip.Checksum = Checksum(b[start:])
	binary.BigEndian.PutUint16(b[start+10:], ip.Checksum)
	return b, nil
}
