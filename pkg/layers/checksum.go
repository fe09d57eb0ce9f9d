package layers

import (
	"encoding/binary"
	"net/netip"
)

// Checksum returns the Internet checksum (RFC 1071) of b: the one's
// complement of the one's complement sum of its 16-bit words, an odd last
// byte padded with zero. Computed over a header whose checksum field is
// correct, it returns 0.
func Checksum(b []byte) uint16 {
	return ^fold(sum(b, 0))
}

// sum adds b to the running one's complement sum acc. It adds 32-bit words
// into a 64-bit accumulator, which is the same sum once folded (RFC 1071
// section 2 (B)) and twice as fast as adding 16-bit words.
func sum(b []byte, acc uint64) uint64 {
	for len(b) >= 32 {
		acc += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:])) +
			uint64(binary.BigEndian.Uint32(b[8:])) + uint64(binary.BigEndian.Uint32(b[12:])) +
			uint64(binary.BigEndian.Uint32(b[16:])) + uint64(binary.BigEndian.Uint32(b[20:])) +
			uint64(binary.BigEndian.Uint32(b[24:])) + uint64(binary.BigEndian.Uint32(b[28:]))
		b = b[32:]
	}
	for len(b) >= 4 {
		acc += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		acc += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0]) << 8
	}
	return acc
}

// fold reduces a wide one's complement sum to 16 bits.
func fold(acc uint64) uint16 {
	for acc>>16 != 0 {
		acc = acc&0xffff + acc>>16
	}
	return uint16(acc)
}

// pseudoHeaderSum is the sum of the IPv4 (RFC 793) or IPv6 (RFC 8200
// section 8.1) pseudo-header that TCP, UDP and ICMPv6 checksums cover.
// ok is false when src and dst are not both IPv4 or both IPv6.
func pseudoHeaderSum(src, dst netip.Addr, proto IPProtocol, length int) (acc uint64, ok bool) {
	switch {
	case src.Is4() && dst.Is4():
		s, d := src.As4(), dst.As4()
		acc = sum(s[:], 0)
		acc = sum(d[:], acc)
	case src.Is6() && !src.Is4In6() && dst.Is6() && !dst.Is4In6():
		s, d := src.As16(), dst.As16()
		acc = sum(s[:], 0)
		acc = sum(d[:], acc)
	default:
		return 0, false
	}
	return acc + uint64(proto) + uint64(length), true
}

// PseudoHeaderChecksum returns the upper-layer checksum of segment (a TCP,
// UDP or ICMPv6 header with its payload, its checksum field as it is)
// under the pseudo-header of src, dst and proto. A segment whose checksum
// field is right gives 0. ok is false when the addresses are not of one
// family.
func PseudoHeaderChecksum(src, dst netip.Addr, proto IPProtocol, segment []byte) (c uint16, ok bool) {
	acc, ok := pseudoHeaderSum(src, dst, proto, len(segment))
	if !ok {
		return 0, false
	}
	return ^fold(sum(segment, acc)), true
}

// ChecksumStatus is the result of verifying a checksum in a decoded packet.
type ChecksumStatus uint8

// The checksum verdicts.
const (
	// ChecksumUnverified: the bytes needed are not all there (snaplen cut,
	// IP fragment) or the layer is absent, so nothing can be said.
	ChecksumUnverified ChecksumStatus = iota
	// ChecksumGood: the checksum matches.
	ChecksumGood
	// ChecksumBad: the checksum does not match.
	ChecksumBad
	// ChecksumOffloaded: the field holds only the pseudo-header sum, as a
	// sender that leaves the checksum to its network card writes it: a
	// locally sent packet captured before the card; not an error on the wire.
	ChecksumOffloaded
	// ChecksumZero: a UDP checksum of zero over IPv4, meaning "not computed",
	// which RFC 768 allows.
	ChecksumZero
)

// String returns "unverified", "good", "bad", "offloaded" or "zero".
func (s ChecksumStatus) String() string {
	switch s {
	case ChecksumGood:
		return "good"
	case ChecksumBad:
		return "bad"
	case ChecksumOffloaded:
		return "offloaded"
	case ChecksumZero:
		return "zero"
	}
	return "unverified"
}

// verifyUpper checks a TCP, UDP or ICMPv6 checksum; field is the checksum
// as carried in segment.
func verifyUpper(src, dst netip.Addr, proto IPProtocol, segment []byte, field uint16) ChecksumStatus {
	acc, ok := pseudoHeaderSum(src, dst, proto, len(segment))
	if !ok {
		return ChecksumUnverified
	}
	if ^fold(sum(segment, acc)) == 0 {
		return ChecksumGood
	}
	if field == fold(acc) {
		return ChecksumOffloaded
	}
	return ChecksumBad
}
