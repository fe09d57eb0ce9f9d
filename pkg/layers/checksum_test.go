package layers

import (
	"net/netip"
	"testing"
)

func TestChecksumRFC1071(t *testing.T) {
	// The worked example of RFC 1071 section 3: the sum is 0xddf2.
	b := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if c := Checksum(b); c != ^uint16(0xddf2) {
		t.Fatalf("checksum %#04x", c)
	}
	// Odd length pads with a zero byte; every length exercises the 32-byte,
	// 4-byte and tail loops.
	long := make([]byte, 1500)
	for i := range long {
		long[i] = byte(i * 7)
	}
	for n := range len(long) {
		if got, want := Checksum(long[:n]), slowChecksum(long[:n]); got != want {
			t.Fatalf("length %d: %#04x, want %#04x", n, got, want)
		}
	}
}

// slowChecksum adds 16-bit words one at a time, as RFC 1071 describes.
func slowChecksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// TestChecksumKnownGood takes packets captured in the lab with checksum
// offload off, where the kernel computed every checksum, and requires each
// to verify; then damages one byte and requires each to fail.
func TestChecksumKnownGood(t *testing.T) {
	var p Packet
	seen := map[LayerType]int{}
	for _, c := range allCaptured(t) {
		if c.file == "offload.pcap" {
			continue
		}
		for _, l := range []LayerType{LayerIPv4, LayerICMPv4, LayerICMPv6, LayerTCP, LayerUDP} {
			if err := p.Decode(c.link, c.bytes); err != nil || !p.Has(l) || p.Fragment || p.ipIsFragment() {
				continue
			}
			if got := p.Checksum(l); got != ChecksumGood {
				t.Fatalf("%s #%d: %v checksum %v", c.file, c.n, l, got)
			}
			seen[l]++
			s := p.Layers[indexOf(&p, l)]
			damaged := append([]byte{}, c.bytes...)
			damaged[s.HeaderEnd-1] ^= 0x5a // last header byte
			if err := p.Decode(c.link, damaged); err != nil {
				continue // the damage made the header invalid: not a checksum case
			}
			if got := p.Checksum(l); got != ChecksumBad {
				t.Fatalf("%s #%d: damaged %v checksum %v", c.file, c.n, l, got)
			}
		}
	}
	for _, l := range []LayerType{LayerIPv4, LayerICMPv4, LayerICMPv6, LayerTCP, LayerUDP} {
		if seen[l] < 3 {
			t.Errorf("only %d captured %v checksums checked", seen[l], l)
		}
	}
}

func indexOf(p *Packet, l LayerType) int {
	for i, s := range p.Layers {
		if s.Type == l && !s.Quoted {
			return i
		}
	}
	return -1
}

// TestChecksumOffloaded: with tx checksum offload on, Linux leaves the
// pseudo-header sum in the TCP checksum field of the packets it sends; the
// capture shows them that way, and they must not be reported as bad.
func TestChecksumOffloaded(t *testing.T) {
	var p Packet
	var sent, received int
	for _, c := range readCapture(t, "offload.pcap") {
		if err := p.Decode(c.link, c.bytes); err != nil {
			t.Fatal(err)
		}
		got := p.Checksum(LayerTCP)
		switch p.Src() {
		case addrA:
			sent++
			if got != ChecksumOffloaded {
				t.Errorf("#%d sent: %v", c.n, got)
			}
		case addrB:
			received++
			if got != ChecksumGood {
				t.Errorf("#%d received: %v", c.n, got)
			}
		}
	}
	if sent == 0 || received == 0 {
		t.Fatalf("sent %d, received %d", sent, received)
	}
}

func TestPseudoHeaderChecksumFamilies(t *testing.T) {
	if _, ok := PseudoHeaderChecksum(src4, dst6, IPProtocolTCP, nil); ok {
		t.Error("mixed families accepted")
	}
	if _, ok := PseudoHeaderChecksum(netip.MustParseAddr("::ffff:198.18.0.1"), dst6, IPProtocolTCP, nil); ok {
		t.Error("IPv4-mapped address accepted as IPv6")
	}
}
