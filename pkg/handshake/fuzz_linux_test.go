package handshake

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/netdiag/netdiag/pkg/layers"
	"golang.org/x/sys/unix"
)

// splitPackets reads fuzz input as packets: a byte of packet type, two
// bytes of length, then the packet, repeated.
func splitPackets(b []byte) []rawPacket {
	var out []rawPacket
	t := time.Unix(1000, 0)
	for len(b) >= 3 && len(out) < 64 {
		typ, n := b[0], int(binary.BigEndian.Uint16(b[1:]))
		b = b[3:]
		n = min(n, len(b))
		out = append(out, rawPacket{data: b[:n], t: t, pkttype: typ % 5})
		b = b[n:]
		t = t.Add(time.Millisecond)
	}
	return out
}

func joinPackets(pkts ...rawPacket) []byte {
	var b []byte
	for _, p := range pkts {
		b = append(b, p.pkttype)
		b = binary.BigEndian.AppendUint16(b, uint16(len(p.data)))
		b = append(b, p.data...)
	}
	return b
}

// FuzzBuildTrace feeds arbitrary packets to the trace decoder and its
// analysis: no panic, at most one timeline entry per packet. Seeds are
// the lab captures of bpf_linux_test.go.
func FuzzBuildTrace(f *testing.F) {
	out, in := uint8(unix.PACKET_OUTGOING), uint8(unix.PACKET_HOST)
	f.Add(joinPackets(rawPacket{data: syn4, pkttype: out}, rawPacket{data: synAck4, pkttype: in}))
	f.Add(joinPackets(rawPacket{data: syn4, pkttype: out}, rawPacket{data: adminProhibited4, pkttype: in}))
	f.Add(joinPackets(rawPacket{data: syn6, pkttype: out}, rawPacket{data: synAck6, pkttype: in}))
	f.Fuzz(func(t *testing.T, data []byte) {
		raw := splitPackets(data)
		for _, tuple := range [][2]netip.AddrPort{
			{netip.MustParseAddrPort("198.18.0.2:49472"), netip.MustParseAddrPort("198.18.1.10:80")},
			{netip.MustParseAddrPort("[2001:db8::2]:57052"), netip.MustParseAddrPort("[2001:db8:1::10]:80")},
		} {
			tr := buildTrace(raw, tuple[0], tuple[1])
			if len(tr.Packets) > len(raw) {
				t.Fatalf("%d packets from %d", len(tr.Packets), len(raw))
			}
			tr.analyze()
			closeSeen(tr.Packets)
			tr.answer()
		}
	})
}

// FuzzSYNHandle feeds arbitrary packets to the SYN prober's receiver with
// probes outstanding: no panic, and an answer only ever reaches the
// probe whose ISN it acknowledges or quotes.
func FuzzSYNHandle(f *testing.F) {
	in := uint8(unix.PACKET_HOST)
	f.Add(joinPackets(rawPacket{data: synAck4, pkttype: in}))
	f.Add(joinPackets(rawPacket{data: adminProhibited4, pkttype: in}))
	f.Add(joinPackets(rawPacket{data: synAck6, pkttype: in}))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Probes matching the seeds: the SYN-ACKs acknowledge 563120476
		// and 598157706, the ICMP error quotes port 40168's SYN.
		p := &synProber{waiters: map[synKey]chan synAnswer{}}
		keys := []synKey{
			{netip.MustParseAddr("198.18.1.10"), 80, 563120475},
			{netip.MustParseAddr("2001:db8:1::10"), 80, 598157705},
			{netip.MustParseAddr("198.18.1.10"), 82, 63682993},
		}
		for _, k := range keys {
			p.waiters[k] = make(chan synAnswer, 1)
		}
		var pkt layers.Packet
		for _, port := range []uint16{49472, 57052, 40168} {
			p.port = port
			for _, rp := range splitPackets(data) {
				p.handle(rp, &pkt)
			}
		}
		for k, ch := range p.waiters {
			select {
			case a := <-ch:
				if a.icmp == nil && !a.flags.Has(tcpACK) {
					t.Errorf("probe %v got an answer without ACK: %+v", k, a)
				}
			default:
			}
		}
	})
}

func TestSYNHandleMatchesSeeds(t *testing.T) {
	p := &synProber{waiters: map[synKey]chan synAnswer{}}
	k := synKey{netip.MustParseAddr("198.18.1.10"), 80, 563120475}
	other := synKey{netip.MustParseAddr("198.18.1.10"), 80, 563120476}
	p.waiters[k] = make(chan synAnswer, 1)
	p.waiters[other] = make(chan synAnswer, 1)
	p.port = 49472
	var pkt layers.Packet
	p.handle(rawPacket{data: synAck4, pkttype: unix.PACKET_OUTGOING}, &pkt)
	if len(p.waiters[k]) != 0 {
		t.Fatal("a packet we sent ourselves was taken for an answer")
	}
	p.handle(rawPacket{data: synAck4, pkttype: unix.PACKET_HOST}, &pkt)
	select {
	case a := <-p.waiters[k]:
		if !a.flags.Has(tcpSYN|tcpACK) || a.theirSeq != 2895405602 || a.ttl != 63 {
			t.Errorf("answer %+v", a)
		}
	default:
		t.Fatal("the SYN-ACK did not reach its probe")
	}
	if len(p.waiters[other]) != 0 {
		t.Error("the SYN-ACK reached a probe with another ISN")
	}

	icmp := synKey{netip.MustParseAddr("198.18.1.10"), 82, 63682993}
	p.waiters[icmp] = make(chan synAnswer, 1)
	p.port = 40168
	p.handle(rawPacket{data: adminProhibited4, pkttype: unix.PACKET_HOST}, &pkt)
	select {
	case a := <-p.waiters[icmp]:
		if a.icmp == nil || a.icmp.Type != 3 || a.icmp.Code != 13 || a.icmp.From != netip.MustParseAddr("198.18.0.1") {
			t.Errorf("ICMP answer %+v", a.icmp)
		}
	default:
		t.Fatal("the ICMP error did not reach its probe")
	}
}

func TestBuildTraceFromCapture(t *testing.T) {
	local := netip.MustParseAddrPort("198.18.0.2:49472")
	remote := netip.MustParseAddrPort("198.18.1.10:80")
	t0 := time.Unix(1000, 0)
	raw := []rawPacket{
		{data: syn4, t: t0, pkttype: unix.PACKET_OUTGOING},
		{data: syn4, t: t0, pkttype: unix.PACKET_HOST}, // the loopback copy: not counted twice
		{data: synAck4, t: t0.Add(41 * time.Microsecond), pkttype: unix.PACKET_HOST},
		{data: syn6, t: t0, pkttype: unix.PACKET_OUTGOING}, // another connection
	}
	tr := buildTrace(raw, local, remote)
	if len(tr.Packets) != 2 {
		t.Fatalf("packets %+v", tr.Packets)
	}
	syn, synAck := tr.Packets[0], tr.Packets[1]
	if syn.Dir != Out || syn.Flags != tcpSYN || syn.Seq != 563120475 || syn.Window != 64240 || syn.Len != 0 {
		t.Errorf("SYN %+v", syn)
	}
	wantOpts := []string{"mss 1460", "sackOK", "TS val 395116544 ecr 0", "nop", "wscale 10"}
	if len(syn.Options) != len(wantOpts) {
		t.Fatalf("options %q", syn.Options)
	}
	for i := range wantOpts {
		if syn.Options[i] != wantOpts[i] {
			t.Errorf("option %d: %q, want %q", i, syn.Options[i], wantOpts[i])
		}
	}
	if synAck.Dir != In || synAck.Flags != tcpSYN|tcpACK || synAck.Ack != 563120476 || synAck.T != 41*time.Microsecond {
		t.Errorf("SYN-ACK %+v", synAck)
	}
	if a, rtt, ok := tr.answer(); !ok || rtt != 41*time.Microsecond || a.TTL != 63 {
		t.Errorf("answer %+v after %v %v; want the SYN-ACK after 41µs, TTL 63", a, rtt, ok)
	}
	if syn.TTL != 64 {
		t.Errorf("SYN TTL %d, want 64", syn.TTL)
	}

	icmpLocal := netip.MustParseAddrPort("198.18.0.2:40168")
	icmpRemote := netip.MustParseAddrPort("198.18.1.10:82")
	tr = buildTrace([]rawPacket{{data: adminProhibited4, t: t0, pkttype: unix.PACKET_HOST}}, icmpLocal, icmpRemote)
	if len(tr.Packets) != 1 || tr.Packets[0].ICMP == nil || tr.Packets[0].Seq != 63682993 || tr.Packets[0].Flags != tcpSYN {
		t.Errorf("ICMP entry %+v", tr.Packets)
	}
}

// TestBuildTraceLinkLocal: a link-local target carries its zone
// ("fe80::1%eth0"), the packets on the wire do not; the trace must still
// find them.
func TestBuildTraceLinkLocal(t *testing.T) {
	local := netip.MustParseAddrPort("[fe80::2%eth0]:40000")
	remote := netip.MustParseAddrPort("[fe80::1%eth0]:80")
	syn, err := buildSegment(local.Addr().WithZone(""), remote.Addr().WithZone(""), local.Port(), remote.Port(), 1000, 0, tcpSYN)
	if err != nil {
		t.Fatal(err)
	}
	rst, err := buildSegment(remote.Addr().WithZone(""), local.Addr().WithZone(""), remote.Port(), local.Port(), 0, 1001, tcpRST|tcpACK)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1000, 0)
	tr := buildTrace([]rawPacket{
		{data: syn, t: t0, pkttype: unix.PACKET_OUTGOING},
		{data: rst, t: t0.Add(time.Millisecond), pkttype: unix.PACKET_HOST},
	}, local, remote)
	if len(tr.Packets) != 2 || tr.Packets[0].Dir != Out || tr.Packets[1].Dir != In || tr.Packets[1].Ack != 1001 {
		t.Fatalf("packets %+v", tr.Packets)
	}
}

// TestBuildTracePayloadLength: the capture keeps only a packet's first
// snapLen bytes, and a short frame may come with the link's padding; the
// payload length is the IP header's either way.
func TestBuildTracePayloadLength(t *testing.T) {
	local := netip.MustParseAddrPort("198.18.0.2:40000")
	remote := netip.MustParseAddrPort("198.18.1.10:80")
	big := make([]byte, 60000)
	tcp := layers.TCP{SrcPort: 80, DstPort: 40000, Seq: 7, Ack: 9, Flags: tcpACK | tcpPSH, Window: 500}
	ip := layers.IPv4{TTL: 63, Protocol: layers.IPProtocolTCP, Src: remote.Addr(), Dst: local.Addr()}
	data, err := ip.AppendTo(nil, tcp.Len()+len(big))
	if err != nil {
		t.Fatal(err)
	}
	if data, err = tcp.AppendTo(data, remote.Addr(), local.Addr(), big); err != nil {
		t.Fatal(err)
	}
	rst := append(append([]byte(nil), synAck4...), make([]byte, 6)...) // padded to a 60-byte frame
	tr := buildTrace([]rawPacket{
		{data: data[:snapLen], pkttype: unix.PACKET_HOST},
		{data: rst, pkttype: unix.PACKET_HOST},
	}, local, remote)
	if len(tr.Packets) != 1 || tr.Packets[0].Len != len(big) || tr.Packets[0].TTL != 63 {
		t.Fatalf("cut packet: %+v", tr.Packets)
	}
	tr = buildTrace([]rawPacket{{data: rst, pkttype: unix.PACKET_HOST}},
		netip.MustParseAddrPort("198.18.0.2:49472"), netip.MustParseAddrPort("198.18.1.10:80"))
	if len(tr.Packets) != 1 || tr.Packets[0].Len != 0 {
		t.Fatalf("padded packet: %+v", tr.Packets)
	}
}
