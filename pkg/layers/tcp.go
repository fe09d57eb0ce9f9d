package layers

import (
	"encoding/binary"
	"net/netip"
)

// TCP header lengths.
const (
	TCPMinHeaderLen = 20
	TCPMaxHeaderLen = 60
)

// TCPFlags are the nine TCP control bits.
type TCPFlags uint16

// The flags, by bit (NS is the low bit of the byte before the others).
const (
	TCPFlagFIN TCPFlags = 1 << iota
	TCPFlagSYN
	TCPFlagRST
	TCPFlagPSH
	TCPFlagACK
	TCPFlagURG
	TCPFlagECE
	TCPFlagCWR
	TCPFlagNS
)

var tcpFlagNames = [...]string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS"}

// String lists the set flags separated by commas, from the lowest bit up:
// "SYN", "SYN,ACK", "FIN,PSH,ACK", "RST,ACK". No flags give "".
// This exact form appears in tcpprobe's and decode's JSON.
func (f TCPFlags) String() string { return string(f.AppendText(nil)) }

// AppendText appends the String form of f to b.
func (f TCPFlags) AppendText(b []byte) []byte {
	first := true
	for i, n := range tcpFlagNames {
		if f&(1<<i) == 0 {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		b = append(b, n...)
		first = false
	}
	return b
}

// Has reports whether every flag in x is set in f.
func (f TCPFlags) Has(x TCPFlags) bool { return f&x == x }

// TCP is a TCP header (RFC 9293) with its options.
type TCP struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	DataOffset       uint8 // header length in 32-bit words
	Reserved         uint8 // the three reserved bits
	Flags            TCPFlags
	Window           uint16
	Checksum         uint16
	Urgent           uint16
	// Options in order, padding after EOL not listed; reused by the next
	// decode. See the TCPOption constructors for building.
	Options []TCPOption
	// BadOptions is set when an option's length ran past the header; the
	// rest of the option bytes are then the last option, kept raw.
	BadOptions bool
	// Contents aliases the header, Payload the data after it.
	Contents []byte
	Payload  []byte
}

var (
	errTCPShort   = truncated(LayerTCP, "fewer than 20 bytes")
	errTCPOffset  = malformed(LayerTCP, "data offset below 5 words")
	errTCPOptions = truncated(LayerTCP, "options cut short")
)

// DecodeFromBytes decodes a TCP header from data, the IP payload. Payload
// aliases the bytes after the header.
func (t *TCP) DecodeFromBytes(data []byte) error {
	if len(data) < TCPMinHeaderLen {
		return errTCPShort
	}
	t.SrcPort = binary.BigEndian.Uint16(data)
	t.DstPort = binary.BigEndian.Uint16(data[2:])
	t.Seq = binary.BigEndian.Uint32(data[4:])
	t.Ack = binary.BigEndian.Uint32(data[8:])
	t.DataOffset = data[12] >> 4
	t.Reserved = data[12] >> 1 & 7
	t.Flags = TCPFlags(data[13]) | TCPFlags(data[12]&1)<<8
	t.Window = binary.BigEndian.Uint16(data[14:])
	t.Checksum = binary.BigEndian.Uint16(data[16:])
	t.Urgent = binary.BigEndian.Uint16(data[18:])
	hl := int(t.DataOffset) * 4
	if hl < TCPMinHeaderLen {
		return errTCPOffset
	}
	if len(data) < hl {
		return errTCPOptions
	}
	t.Contents, t.Payload = data[:hl], data[hl:]
	t.Options, t.BadOptions = decodeTCPOptions(t.Options[:0], data[TCPMinHeaderLen:hl])
	return nil
}

// HeaderLen is the header length in bytes, from DataOffset.
func (t *TCP) HeaderLen() int { return int(t.DataOffset) * 4 }

// VerifyChecksum checks the checksum of the decoded segment (Contents and
// Payload, which must be the whole segment) sent from src to dst.
func (t *TCP) VerifyChecksum(src, dst netip.Addr) ChecksumStatus {
	return verifyUpper(src, dst, IPProtocolTCP, segmentOf(t.Contents, t.Payload), t.Checksum)
}

// segmentOf returns header and payload as one slice: they are adjacent in
// the decoded buffer.
func segmentOf(hdr, payload []byte) []byte {
	return hdr[: len(hdr)+len(payload) : len(hdr)+len(payload)]
}

// Len is the header length AppendTo writes: 20 plus the options padded
// to a multiple of four.
func (t *TCP) Len() int { return TCPMinHeaderLen + (tcpOptionsLen(t.Options)+3)&^3 }

// AppendTo appends the header and payload, computing DataOffset (options
// padded with EOL) and the checksum over the pseudo-header of src and dst
// (both IPv4 or both IPv6), and writes both back into t. Contents and
// Payload then alias the written bytes.
func (t *TCP) AppendTo(b []byte, src, dst netip.Addr, payload []byte) ([]byte, error) {
	hl := t.Len()
	if hl > TCPMaxHeaderLen {
		return b, invalid(LayerTCP, "options longer than 40 bytes")
	}
	if t.Flags > 0x1ff || t.Reserved > 7 {
		return b, invalid(LayerTCP, "flags or reserved bits out of range")
	}
	acc, ok := pseudoHeaderSum(src, dst, IPProtocolTCP, hl+len(payload))
	if !ok {
		return b, invalid(LayerTCP, "source and destination are not addresses of one family")
	}
	t.DataOffset = uint8(hl / 4)
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, t.SrcPort)
	b = binary.BigEndian.AppendUint16(b, t.DstPort)
	b = binary.BigEndian.AppendUint32(b, t.Seq)
	b = binary.BigEndian.AppendUint32(b, t.Ack)
	b = append(b, t.DataOffset<<4|t.Reserved<<1|byte(t.Flags>>8), byte(t.Flags))
	b = binary.BigEndian.AppendUint16(b, t.Window)
	b = append(b, 0, 0)
	b = binary.BigEndian.AppendUint16(b, t.Urgent)
	for _, o := range t.Options {
		b = o.appendTo(b)
	}
	for len(b)-start < hl {
		b = append(b, 0)
	}
	b = append(b, payload...)
	t.Checksum = ^fold(sum(b[start:], acc))
	binary.BigEndian.PutUint16(b[start+16:], t.Checksum)
	t.Contents, t.Payload = b[start:start+hl], b[start+hl:]
	return b, nil
}
