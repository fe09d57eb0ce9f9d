package decode

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/netdiag/netdiag/pkg/layers"
	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// decodeRecords decodes recs in order and calls fn for each frame.
func decodeRecords(recs []Record, opts Options, fn func(*Frame)) *Decoder {
	d := NewDecoder(opts)
	for i := range recs {
		f := d.Decode(&recs[i])
		if fn != nil {
			fn(f)
		}
	}
	return d
}

func captureStats(t *testing.T, name string) *Stats {
	t.Helper()
	recs, err := readAll(t, readCapture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return decodeRecords(recs, Options{Stats: true}, nil).Stats()
}

func TestTCPHandshakesAndCloses(t *testing.T) {
	s := captureStats(t, "tcp.pcap")
	type want struct {
		port      uint16
		handshake Handshake
		teardown  Teardown
		syns      int
		retrans   int
	}
	wants := []want{
		{7000, HandshakeComplete, TeardownClientFirst, 1, 0},
		{7001, HandshakeComplete, TeardownServerFirst, 1, 0},
		{7002, HandshakeRefused, TeardownNotConnected, 1, 0},
		{7003, HandshakeUnanswered, TeardownNotConnected, 2, 1},
	}
	var tcp []*Conversation
	for _, c := range s.Conversations {
		if c.Proto == "tcp" {
			tcp = append(tcp, c)
		}
	}
	if len(tcp) != len(wants) {
		t.Fatalf("%d TCP conversations, want %d", len(tcp), len(wants))
	}
	for i, w := range wants {
		c := tcp[i]
		sum := c.TCP
		if c.Server.Port() != w.port || c.Client.Addr() != netip.MustParseAddr("198.18.0.2") {
			t.Errorf("conversation %d: %v → %v, want the client 198.18.0.2 to port %d", c.N, c.Client, c.Server, w.port)
		}
		if sum.Handshake != w.handshake || sum.Teardown != w.teardown || sum.SYNs != w.syns || sum.Retransmissions[0] != w.retrans {
			t.Errorf("port %d: handshake %s teardown %s SYNs %d retransmissions %d, want %s %s %d %d",
				w.port, sum.Handshake, sum.Teardown, sum.SYNs, sum.Retransmissions[0], w.handshake, w.teardown, w.syns, w.retrans)
		}
		if sum.Handshake == HandshakeComplete {
			if !sum.SYNACKAckOK || !sum.ACKOK || sum.SYNACKAck != sum.ClientISN+1 || sum.ACKAck != sum.ServerISN+1 {
				t.Errorf("port %d: handshake numbers %+v", w.port, sum)
			}
			for dir, fin := range sum.FIN {
				if !fin.Sent || !fin.Acked || !fin.AckOK || fin.Ack != fin.Seq+1 {
					t.Errorf("port %d: FIN %d %+v, want sent and acknowledged with seq+1", w.port, dir, fin)
				}
			}
			if sum.CloseFrame == 0 {
				t.Errorf("port %d: no close packet", w.port)
			}
		}
	}
}

func TestICMPRejectedHandshake(t *testing.T) {
	s := captureStats(t, "icmp.pcap")
	var tcp, udp *Conversation
	for _, c := range s.Conversations {
		switch c.Proto {
		case "tcp":
			tcp = c
		case "udp":
			udp = c
		}
	}
	if tcp == nil || udp == nil {
		t.Fatal("want one TCP and one UDP conversation")
	}
	sum := tcp.TCP
	if sum.Handshake != HandshakeRejected || sum.ICMPType != 3 || sum.ICMPCode != 13 || sum.ICMPFrom != netip.MustParseAddr("198.18.0.1") {
		t.Errorf("TCP: %s ICMP %d/%d from %v, want rejected by 3/13 from 198.18.0.1", sum.Handshake, sum.ICMPType, sum.ICMPCode, sum.ICMPFrom)
	}
	if tcp.ICMPErrors != 1 || udp.ICMPErrors != 1 {
		t.Errorf("ICMP errors TCP %d UDP %d, want 1 each", tcp.ICMPErrors, udp.ICMPErrors)
	}
	var paths []string
	for _, p := range s.Protocols {
		paths = append(paths, strings.Join(p.Path, "/"))
	}
	for _, want := range []string{"eth", "eth/arp", "eth/ipv4/icmp", "eth/ipv4/udp/data", "eth/ipv6/icmpv6"} {
		if !strings.Contains(" "+strings.Join(paths, " ")+" ", " "+want+" ") {
			t.Errorf("protocol path %s missing from %v", want, paths)
		}
	}
}

// bulkSize is what the bulk capture transfers: about 120 segments of 536
// bytes.
const bulkSize = 64 << 10

func TestBulkRetransmission(t *testing.T) {
	recs, err := readAll(t, readCapture(t, "bulk-mss.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	var marked []int
	d := decodeRecords(recs, Options{Stats: true}, func(f *Frame) {
		if f.Retransmission {
			marked = append(marked, f.N)
		}
	})
	// The router dropped one segment, which the server sent again once.
	if len(marked) != 1 {
		t.Fatalf("retransmissions in packets %v, want exactly one", marked)
	}
	c := d.Stats().Conversations[0]
	// The capture is on the client, after the router's drop: the lost
	// segment shows only once, resent.
	if c.TCP.Retransmissions != [2]int{0, 1} || c.Payload[1] != bulkSize {
		t.Errorf("retransmissions %v, server payload %d; want [0 1] and %d bytes",
			c.TCP.Retransmissions, c.Payload[1], bulkSize)
	}
}

// tlsEvents lists what TLS decoding produced, packet by packet, as
// "packet: record types / message types".
func tlsEvents(recs []Record) []string {
	var out []string
	decodeRecords(recs, Options{}, func(f *Frame) {
		if f.TLS == nil {
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%d:", f.N)
		for _, r := range f.TLS.Records {
			fmt.Fprintf(&b, " r%d/%d", r.Type, r.Length)
		}
		for _, m := range f.TLS.Messages {
			fmt.Fprintf(&b, " m%d", m.Type)
		}
		if f.TLS.Err != nil {
			fmt.Fprintf(&b, " err %v", f.TLS.Err)
		}
		out = append(out, b.String())
	})
	return out
}

func TestTLSSummaries(t *testing.T) {
	s := captureStats(t, "tls-openssl.pcap")
	want := []struct {
		suite   tlswire.CipherSuite
		resumed bool
	}{{0xc02f, false}, {0xc02f, true}, {0x003d, false}}
	if len(s.Conversations) != len(want) {
		t.Fatalf("%d conversations, want %d", len(s.Conversations), len(want))
	}
	for i, w := range want {
		tl := s.Conversations[i].TLS
		if tl == nil || tl.ServerName != "www.lab.test" || tl.CipherSuite != w.suite || tl.Resumed != w.resumed || tl.Version != tlswire.VersionTLS12 {
			t.Errorf("conversation %d: TLS %+v, want www.lab.test, %v, resumed %v", i+1, tl, w.suite, w.resumed)
		}
	}
	s = captureStats(t, "tls-gnutls.pcap")
	last := s.Conversations[len(s.Conversations)-1].TLS
	if last == nil || len(last.Alerts) != 1 || last.Alerts[0].Description != tlswire.AlertHandshakeFailure {
		t.Errorf("the refused cipher: TLS %+v, want one handshake_failure alert", last)
	}
}

// TestTLSReassemblyOutOfOrder reorders and duplicates the segments that
// carry the server's Certificate: the records and messages must be the
// same, reported with the packet that completes them.
func TestTLSReassemblyOutOfOrder(t *testing.T) {
	recs, err := readAll(t, readCapture(t, "tls-gnutls.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	// Find the server's first two data segments: ServerHello and the
	// start of the Certificate, then the rest of the flight.
	var p layers.Packet
	var data []int
	for i := range recs {
		p.Decode(recs[i].LinkType, recs[i].Data)
		if p.Has(layers.LayerTCP) && p.TCP.SrcPort == 4433 && len(p.TCP.Payload) > 0 {
			data = append(data, i)
			if len(data) == 2 {
				break
			}
		}
	}
	if len(data) < 2 {
		t.Fatal("no server flight found")
	}
	a, b := data[0], data[1]
	orig := tlsEvents(recs)

	// Swap the two segments and send the first once more after both.
	swapped := append([]Record(nil), recs[:a]...)
	swapped = append(swapped, recs[b], recs[a])
	swapped = append(swapped, recs[a+1:b]...)
	swapped = append(swapped, recs[a])
	swapped = append(swapped, recs[b+1:]...)
	for i := range swapped {
		swapped[i].N = i + 1
	}
	got := tlsEvents(swapped)
	// The same records and messages in the same order, whichever packets
	// complete them.
	flatten := func(ev []string) (recs, msgs []string) {
		for _, e := range ev {
			for _, w := range strings.Fields(e[strings.IndexByte(e, ':')+1:]) {
				if w[0] == 'r' {
					recs = append(recs, w)
				} else {
					msgs = append(msgs, w)
				}
			}
		}
		return recs, msgs
	}
	gr, gm := flatten(got)
	or, om := flatten(orig)
	if fmt.Sprint(gr) != fmt.Sprint(or) || fmt.Sprint(gm) != fmt.Sprint(om) {
		t.Errorf("records and messages differ after reordering:\n got %v\nwant %v", got, orig)
	}
	// In the original, the ServerHello's segment completes the
	// ServerHello record; reordered, nothing completes until the late
	// segment arrives, which then completes both records.
	if !strings.HasPrefix(got[1], fmt.Sprintf("%d:", a+2)) {
		t.Errorf("after reordering the server's first records complete in %q, want packet %d", got[1], a+2)
	}
}

func TestTLSGapIsBounded(t *testing.T) {
	var s tlsStream
	var out TLSData
	s.dirs[0].started, s.dirs[0].next = true, 100
	hello := []byte{22, 3, 1, 0, 4, 1, 0, 0, 0}
	s.segment(0, 1, 100, hello, len(hello), &out)
	if len(out.Records) != 1 || len(out.Messages) != 1 || out.Err != nil {
		t.Fatalf("first record: %+v", out)
	}
	chunk := bytes.Repeat([]byte{23}, 1000)
	seq := uint32(100 + len(hello) + 1) // one byte never arrives
	for i := 0; s.dirs[0].held+len(chunk) <= MaxOutOfOrder; i++ {
		s.segment(0, 2, seq, chunk, len(chunk), &out)
		seq += uint32(len(chunk))
	}
	if out.Err != nil {
		t.Fatalf("failed before the bound: %v", out.Err)
	}
	s.segment(0, 2, seq, chunk, len(chunk), &out)
	if !errors.Is(out.Err, ErrTLSGap) || s.dirs[0].held != 0 || !s.dirs[0].broken {
		t.Fatalf("after %d bytes held: err %v held %d broken %v", MaxOutOfOrder, out.Err, s.dirs[0].held, s.dirs[0].broken)
	}
}

func TestConversationTableBounded(t *testing.T) {
	d := NewDecoder(Options{Stats: true, MaxConversations: 100})
	rec := &Record{LinkType: layers.LinkTypeRaw}
	for i := range 1000 {
		// A UDP datagram from a new port each time.
		pkt := []byte{0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 2, 198, 18, 1, 10,
			byte(i >> 8), byte(i), 0, 53, 0, 8, 0, 0}
		rec.N, rec.Data, rec.Length = i+1, pkt, len(pkt)
		f := d.Decode(rec)
		if f.Conversation != i+1 {
			t.Fatalf("packet %d in conversation %d, want a new one", i+1, f.Conversation)
		}
	}
	if n := len(d.convs.byKey); n > 100 {
		t.Errorf("%d conversations followed, the bound is 100", n)
	}
	if n := len(d.Stats().Conversations); n != 1000 {
		t.Errorf("stats list %d conversations, want all 1000", n)
	}
}

func TestFilter(t *testing.T) {
	recs, err := readAll(t, readCapture(t, "icmp.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	count := func(ft Filter) int {
		n := 0
		decodeRecords(recs, Options{}, func(f *Frame) {
			if ft.Match(f) {
				n++
			}
		})
		return n
	}
	host, _ := ParseHost("198.18.1.11")
	lab, _ := ParseHost("198.18.0.0/15")
	cases := []struct {
		name string
		ft   Filter
		want int
	}{
		{"all", Filter{}, len(recs)},
		{"arp", Filter{Protos: []string{"arp"}}, 2},
		{"tcp or udp", Filter{Protos: []string{"tcp", "udp"}}, 2},
		{"icmp", Filter{Protos: []string{"icmp"}}, 12},
		// The echo request and the SYN; the errors about them come from the
		// router and only quote the address.
		{"host", Filter{Hosts: []netip.Prefix{host}}, 2},
		{"prefix includes ARP", Filter{Hosts: []netip.Prefix{lab}}, 16},
		{"port", Filter{Ports: []uint16{80}}, 1},
		{"conversation with its ICMP error", Filter{Conversation: 1}, 2},
		{"host and proto", Filter{Hosts: []netip.Prefix{host}, Protos: []string{"tcp"}}, 1},
	}
	for _, c := range cases {
		if got := count(c.ft); got != c.want {
			t.Errorf("%s: %d packets, want %d", c.name, got, c.want)
		}
	}
	// -4 and -6 keep packets by their outer IP version and combine with
	// the other conditions (this capture has IPv4, MLD over IPv6 and ARP).
	v4, v6 := count(Filter{IPVersion: 4}), count(Filter{IPVersion: 6})
	if v4 != count(Filter{Protos: []string{"ipv4"}}) || v6 != count(Filter{Protos: []string{"ipv6"}}) ||
		v4 == 0 || v6 == 0 || v4+v6 != count(Filter{Protos: []string{"ip"}}) {
		t.Errorf("IPv4 only %d, IPv6 only %d packets: not the capture's split by IP version", v4, v6)
	}
	if n := count(Filter{IPVersion: 4, Protos: []string{"arp"}}); n != 0 {
		t.Errorf("IPv4 and ARP: %d packets", n)
	}
	if _, err := ParseProtos("tcp,bogus"); err == nil {
		t.Error("ParseProtos accepted an unknown name")
	}
	if _, err := ParsePort("65536"); err == nil {
		t.Error("ParsePort accepted 65536")
	}
	if _, err := ParseHost("web.lab.test"); err == nil {
		t.Error("ParseHost accepted a name")
	}
}

// tcpSegment writes a raw IPv4 TCP segment (PSH,ACK) from 198.18.0.2:sport
// to 198.18.1.10:443 into b.
func tcpSegment(b []byte, sport uint16, seq uint32, payload []byte) []byte {
	n := 40 + len(payload)
	b = append(b[:0], 0x45, 0, byte(n>>8), byte(n), 0, 0, 0x40, 0, 64, 6, 0, 0, 198, 18, 0, 2, 198, 18, 1, 10,
		byte(sport>>8), byte(sport), 1, 187, byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq), 0, 0, 0, 1,
		0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0)
	return append(b, payload...)
}

// TestTLSHeldAcrossConversations opens hundreds of TLS conversations that
// each start a large handshake message and then send segments after a gap
// that never fills: together they would hold about 100 MiB; the decoder
// holds at most MaxTLSHeld and says which conversations it gave up.
func TestTLSHeldAcrossConversations(t *testing.T) {
	d := NewDecoder(Options{})
	rec := &Record{LinkType: layers.LinkTypeRaw}
	var pkt []byte
	start := append([]byte{22, 3, 3, 0x40, 0}, byte(tlswire.TypeCertificate), 0, 0xea, 0x60)
	start = append(start, make([]byte, 1000)...)
	chunk := make([]byte, 60000)
	n, dropped := 0, 0
	decode := func(sport uint16, seq uint32, payload []byte) *Frame {
		n++
		pkt = tcpSegment(pkt, sport, seq, payload)
		rec.N, rec.Data, rec.Length = n, pkt, len(pkt)
		return d.Decode(rec)
	}
	for i := range 400 {
		sport := uint16(10000 + i)
		decode(sport, 1000, start)
		for k := range 4 {
			f := decode(sport, uint32(3000+k*len(chunk)), chunk)
			if f.TLS != nil && errors.Is(f.TLS.Err, ErrTLSMemory) {
				dropped++
			}
		}
		live := 0
		d.convs.all(func(c *conversation) {
			if c.tls != nil {
				live += c.tls.dirs[0].held + c.tls.dirs[1].held + c.tls.conv.Buffered()
			}
		})
		if live != d.tlsHeld || d.tlsHeld > MaxTLSHeld {
			t.Fatalf("conversation %d: the streams hold %d bytes, the decoder counts %d (bound %d)", i+1, live, d.tlsHeld, MaxTLSHeld)
		}
	}
	if dropped == 0 {
		t.Errorf("no conversation was given up, yet together they exceed %d MiB", MaxTLSHeld>>20)
	}
}

// TestDNSFirstFragment: a DNS response too large for one IP packet comes
// in fragments, which decode does not reassemble; the first shows the
// answers it holds, says how many the header announces, and why the rest
// is missing.
func TestDNSFirstFragment(t *testing.T) {
	dns := []byte{0x12, 0x34, 0x81, 0x80, 0, 1, 0, 100, 0, 0, 0, 0, 3, 'w', 'w', 'w', 3, 'l', 'a', 'b', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1}
	for i := range 100 {
		dns = append(dns, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 1, byte(i))
	}
	udp := append([]byte{0, 53, 0x9c, 0x40, byte((8 + len(dns)) >> 8), byte(8 + len(dns)), 0, 0}, dns...)
	first := udp[:1480]
	ip := []byte{0x45, 0, byte((20 + len(first)) >> 8), byte(20 + len(first)), 0, 7, 0x20, 0, 64, 17, 0, 0, 198, 18, 1, 53, 198, 18, 0, 2}
	pkt := append(ip, first...)
	f := NewDecoder(Options{}).Decode(&Record{N: 1, LinkType: layers.LinkTypeRaw, Data: pkt, Length: len(pkt)})
	m := f.DNS
	if m == nil {
		t.Fatal("no DNS decoded in the first fragment")
	}
	if !errors.Is(m.Err, ErrDNSFragmented) || m.AnswerCount != 100 || len(m.Answers) == 0 || len(m.Answers) >= 100 {
		t.Errorf("err %v, %d answers of %d; want ErrDNSFragmented and some of the 100", m.Err, len(m.Answers), m.AnswerCount)
	}
}

// TestTLSRecordOrigins checks what a packet says of records spread over
// segments, against tshark's "[2 Reassembled TCP Segments (1678 bytes):
// #8(1378), #10(300)]" for the OpenSSL capture: packet 8 holds 1378 bytes
// of the Certificate record, which packet 10 completes; the first
// application data answer comes in six segments, packets 15 to 21.
func TestTLSRecordOrigins(t *testing.T) {
	recs, err := readAll(t, readCapture(t, "tls-openssl.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]string{}
	decodeRecords(recs, Options{}, func(f *Frame) {
		if f.TLS == nil || f.N > 21 {
			return
		}
		s := fmt.Sprintf("partial %d", f.TLS.Partial)
		for i, o := range f.TLS.Origins {
			s += fmt.Sprintf(" %d:%d/%d", f.TLS.Records[i].Length, o.Packet, o.Segments)
		}
		got[f.N] = s
	})
	want := map[int]string{
		6:  "partial 0 152:6/1",
		8:  "partial 1378 65:8/1",
		10: "partial 0 1673:8/2 300:10/1 4:10/1",
		15: "partial 1448",
		21: "partial 0 7597:15/6",
	}
	for _, n := range []int{16, 18, 19, 20} {
		if got[n] != "" {
			t.Errorf("packet %d, in the middle of a record, has TLS %q", n, got[n])
		}
	}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("packet %d: %q, want %q", n, got[n], w)
		}
	}
}
