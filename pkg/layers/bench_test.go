package layers

import (
	"testing"

	"github.com/gopacket/gopacket"
	gl "github.com/gopacket/gopacket/layers"
)

// The benchmarks decode real frames from the lab captures. Run with
//
//	go test -run '^$' -bench . -benchmem ./pkg/layers
//
// Decoding is meant to allocate nothing per packet (0 allocs/op).

func benchFrame(b *testing.B, file string, n int) captured {
	b.Helper()
	return readCapture(b, file)[n-1]
}

func benchDecode(b *testing.B, c captured) {
	var p Packet
	if err := p.Decode(c.link, c.bytes); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(c.bytes)))
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Decode(c.link, c.bytes)
	}
}

// BenchmarkDecodeTCP: Ethernet, IPv4, TCP with timestamps, 6 bytes of data.
func BenchmarkDecodeTCP(b *testing.B) { benchDecode(b, benchFrame(b, "tcp.pcap", 4)) }

// BenchmarkDecodeTCPv6: the same over IPv6.
func BenchmarkDecodeTCPv6(b *testing.B) { benchDecode(b, benchFrame(b, "tcp.pcap", 12)) }

// BenchmarkDecodeICMPError: an ICMP admin-prohibited error quoting a TCP SYN.
func BenchmarkDecodeICMPError(b *testing.B) { benchDecode(b, benchFrame(b, "errors.pcap", 24)) }

// BenchmarkDecodeICMPv6Error: an ICMPv6 administratively-prohibited error
// quoting a TCP SYN.
func BenchmarkDecodeICMPv6Error(b *testing.B) { benchDecode(b, benchFrame(b, "errors.pcap", 26)) }

// BenchmarkDecodeQinQ: two VLAN tags, IPv4, ICMP echo.
func BenchmarkDecodeQinQ(b *testing.B) { benchDecode(b, benchFrame(b, "vlan.pcap", 4)) }

// BenchmarkDecodeAndVerifyTCP adds the checksum checks decode's tree view
// makes.
func BenchmarkDecodeAndVerifyTCP(b *testing.B) {
	c := benchFrame(b, "tcp.pcap", 4)
	var p Packet
	b.SetBytes(int64(len(c.bytes)))
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Decode(c.link, c.bytes)
		if p.Checksum(LayerIPv4) != ChecksumGood || p.Checksum(LayerTCP) != ChecksumGood {
			b.Fatal("bad checksum")
		}
	}
}

// BenchmarkGopacketDecodeTCP decodes the same frame with gopacket's
// DecodingLayerParser, for comparison.
func BenchmarkGopacketDecodeTCP(b *testing.B) {
	c := benchFrame(b, "tcp.pcap", 4)
	var (
		eth     gl.Ethernet
		ip4     gl.IPv4
		ip6     gl.IPv6
		tcp     gl.TCP
		udp     gl.UDP
		icmp    gl.ICMPv4
		payload gopacket.Payload
	)
	parser := gopacket.NewDecodingLayerParser(gl.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp, &udp, &icmp, &payload)
	decoded := make([]gopacket.LayerType, 0, 8)
	b.SetBytes(int64(len(c.bytes)))
	b.ReportAllocs()
	for b.Loop() {
		_ = parser.DecodeLayers(c.bytes, &decoded)
	}
}

// BenchmarkBuildTCPSYN builds an IPv4 TCP SYN with options, as tcpprobe's
// SYN mode does, into a reused buffer.
func BenchmarkBuildTCPSYN(b *testing.B) {
	ip := IPv4{TTL: 64, Protocol: IPProtocolTCP, Flags: IPv4DontFragment, Src: src4, Dst: dst4}
	tcp := TCP{SrcPort: 40000, DstPort: 443, Seq: 1, Flags: TCPFlagSYN, Window: 64240,
		Options: []TCPOption{TCPOptionMSSOf(1460), TCPOptionSACKPermittedOf(), TCPOptionTimestampsOf(1, 0),
			TCPOptionNOPOf(), TCPOptionWindowScaleOf(7)}}
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		tcp.Seq++
		out, err := ip.AppendTo(buf[:0], tcp.Len())
		if err != nil {
			b.Fatal(err)
		}
		if _, err = tcp.AppendTo(out, ip.Src, ip.Dst, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildICMPEcho builds an ICMP echo request with ping's default
// 56-byte payload.
func BenchmarkBuildICMPEcho(b *testing.B) {
	m := ICMPv4{Type: ICMPv4EchoRequest, ID: 1, Data: make([]byte, 56)}
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		m.Seq++
		_ = m.AppendTo(buf[:0])
	}
}

// BenchmarkChecksum1500 sums a full Ethernet-MTU packet.
func BenchmarkChecksum1500(b *testing.B) {
	data := make([]byte, 1500)
	b.SetBytes(1500)
	for b.Loop() {
		_ = Checksum(data)
	}
}
