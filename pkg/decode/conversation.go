package decode

import (
	"net/netip"
	"slices"

	"github.com/netdiag/netdiag/pkg/layers"
)

// convKey identifies a conversation whichever way a packet goes: the two
// endpoints in a fixed order, and the protocol.
type convKey struct {
	a, b  netip.AddrPort
	proto layers.IPProtocol
}

func keyOf(proto layers.IPProtocol, src, dst netip.AddrPort) convKey {
	if src.Compare(dst) <= 0 {
		return convKey{src, dst, proto}
	}
	return convKey{dst, src, proto}
}

// conversation is a TCP connection or a UDP flow being followed. Direction
// 0 goes from the client (the endpoint that sent the SYN, or the first
// packet) to the server, direction 1 back.
type conversation struct {
	n              int
	proto          layers.IPProtocol
	client, server netip.AddrPort
	last           int // number of the last packet, for eviction
	tcp            tcpTrack
	// tlsDone: whether the conversation carries TLS is decided (tls is
	// nil when it does not, or no longer followed); tlsTries counts the
	// payloads looked at.
	tlsDone  bool
	tlsTries uint8
	tls      *tlsStream
	// stats is the conversation's entry in Stats, when collected.
	stats *Conversation
}

// conversations is the table of live conversations, bounded in size.
type conversations struct {
	max   int
	byKey map[convKey]*conversation
	count int   // conversations numbered so far
	lasts []int // scratch for eviction
	// evict, when set, is told about each conversation forgotten.
	evict func(*conversation)
}

func (t *conversations) init(max int) {
	t.max = max
	t.byKey = make(map[convKey]*conversation)
}

// find returns the conversation of a packet from src to dst, and the
// packet's direction in it, or nil.
func (t *conversations) find(proto layers.IPProtocol, src, dst netip.AddrPort) (*conversation, int) {
	c := t.byKey[keyOf(proto, src, dst)]
	if c == nil {
		return nil, 0
	}
	return c, c.dirOf(src)
}

func (c *conversation) dirOf(src netip.AddrPort) int {
	if src == c.client {
		return 0
	}
	return 1
}

// lookupTCP returns the conversation of a TCP segment, starting a new one
// for the first segment of a connection, or for a new SYN on the ports of
// a connection that has ended (the ports are being reused).
func (t *conversations) lookupTCP(src, dst netip.AddrPort, flags layers.TCPFlags, n int) (*conversation, int) {
	k := keyOf(layers.IPProtocolTCP, src, dst)
	c := t.byKey[k]
	syn := flags&(layers.TCPFlagSYN|layers.TCPFlagACK) == layers.TCPFlagSYN
	if c != nil && !(syn && c.tcp.ended()) {
		c.last = n
		return c, c.dirOf(src)
	}
	client, server := src, dst
	if flags.Has(layers.TCPFlagSYN | layers.TCPFlagACK) {
		// The capture starts with the server's answer.
		client, server = dst, src
	}
	c = t.add(k, layers.IPProtocolTCP, client, server, n)
	return c, c.dirOf(src)
}

// lookupUDP returns the conversation of a UDP datagram; the first
// datagram's sender is the client.
func (t *conversations) lookupUDP(src, dst netip.AddrPort, n int) (*conversation, int) {
	k := keyOf(layers.IPProtocolUDP, src, dst)
	if c := t.byKey[k]; c != nil {
		c.last = n
		return c, c.dirOf(src)
	}
	c := t.add(k, layers.IPProtocolUDP, src, dst, n)
	return c, 0
}

func (t *conversations) add(k convKey, proto layers.IPProtocol, client, server netip.AddrPort, n int) *conversation {
	if len(t.byKey) >= t.max {
		t.shrink()
	}
	t.count++
	c := &conversation{n: t.count, proto: proto, client: client, server: server, last: n}
	c.tcp.init()
	if old := t.byKey[k]; old != nil && t.evict != nil {
		t.evict(old)
	}
	t.byKey[k] = c
	return c
}

// shrink forgets the least recently active quarter of the conversations,
// so that a capture with endless short connections keeps a bounded table.
func (t *conversations) shrink() {
	t.lasts = t.lasts[:0]
	for _, c := range t.byKey {
		t.lasts = append(t.lasts, c.last)
	}
	slices.Sort(t.lasts)
	cut := t.lasts[len(t.lasts)/4]
	for k, c := range t.byKey {
		if c.last <= cut {
			if t.evict != nil {
				t.evict(c)
			}
			delete(t.byKey, k)
		}
	}
}

// all calls fn for every live conversation.
func (t *conversations) all(fn func(*conversation)) {
	for _, c := range t.byKey {
		fn(c)
	}
}

// tcpTrack follows a TCP connection's handshake, close and sequence space.
type tcpTrack struct {
	dirs [2]tcpDir
	// syns counts the client's SYNs (retransmissions after the first).
	syns, synAcks int
	// synAckOK: the SYN-ACK acknowledged the SYN's sequence number + 1.
	// ackOK: the client's first ACK acknowledged the SYN-ACK's + 1.
	synAckOK, synAckChecked bool
	ackOK, established      bool
	synAckAck, ackAck       uint32
	// refused: the server answered the SYN with a reset.
	refused bool
	// rejected: an ICMP error came back for the SYN.
	rejected                 bool
	icmpType, icmpCode       uint8
	icmpV6                   bool
	icmpFrom                 netip.Addr
	firstFIN                 int // direction of the first FIN, -1 before
	resetBy                  int // direction of the first RST, -1 when none
	handshakeEnd, closeFrame int
}

// tcpDir is one direction's sequence space and close.
type tcpDir struct {
	seen     bool   // a segment was seen
	next     uint32 // the sequence number after the highest seen
	isnSeen  bool
	isn      uint32
	fin      bool   // a FIN was sent
	finSeq   uint32 // the FIN's sequence number
	finAcked bool   // the peer acknowledged it
	finAckOK bool   // with exactly finSeq + 1
	finAck   uint32 // the acknowledgement number that acknowledged it
	retrans  int
	packets  int
	bytes    int64 // TCP payload bytes, retransmissions included
}

func (t *tcpTrack) init() { t.firstFIN, t.resetBy = -1, -1 }

// ended reports whether the connection is over: reset, refused, or closed
// from both sides.
func (t *tcpTrack) ended() bool {
	return t.resetBy >= 0 || t.refused || t.dirs[0].fin && t.dirs[1].fin
}

// seqLess compares sequence numbers modulo 2^32 (RFC 9293 section 3.4).
func seqLess(a, b uint32) bool { return int32(a-b) < 0 }

// tcpPayloadLen is the segment's payload length as its headers declare
// it, so that a capture cut by the snap length still counts every byte.
func tcpPayloadLen(p *layers.Packet) int {
	var n int
	switch p.NetworkLayer() {
	case layers.LayerIPv4:
		n = int(p.IPv4.TotalLength) - p.IPv4.HeaderLen()
	case layers.LayerIPv6:
		n = int(p.IPv6.PayloadLength) - (p.IPv6.HeaderLen() - layers.IPv6HeaderLen)
	}
	n -= int(p.TCP.DataOffset) * 4
	if n < len(p.TCP.Payload) || p.IPv6.PayloadLength == 0 && p.NetworkLayer() == layers.LayerIPv6 {
		// Jumbograms and broken length fields: trust what was captured.
		n = len(p.TCP.Payload)
	}
	return n
}

// tcpSegment updates the connection with one segment from direction dir
// and reports whether the segment is a retransmission.
func (c *conversation) tcpSegment(f *Frame, dir int) bool {
	c.last = f.N
	t := &f.Packet.TCP
	tr := &c.tcp
	d, peer := &tr.dirs[dir], &tr.dirs[1-dir]
	payload := tcpPayloadLen(&f.Packet)
	d.packets++
	d.bytes += int64(payload)

	syn, fin := t.Flags.Has(layers.TCPFlagSYN), t.Flags.Has(layers.TCPFlagFIN)
	span := uint32(payload)
	if syn {
		span++
	}
	if fin {
		span++
	}
	end := t.Seq + span
	retrans := false
	if span > 0 && d.seen && !seqLess(d.next, end) {
		// Nothing new. A keep-alive (one old byte, or none, at next-1) is
		// not a retransmission.
		keepalive := !syn && !fin && payload <= 1 && t.Seq == d.next-1
		retrans = !keepalive
	}
	if !d.seen || seqLess(d.next, end) {
		d.next = end
	}
	d.seen = true
	if retrans {
		d.retrans++
	}

	switch {
	case syn && !t.Flags.Has(layers.TCPFlagACK):
		if dir == 0 {
			tr.syns++
			d.isnSeen, d.isn = true, t.Seq
		}
	case syn:
		tr.synAcks++
		d.isnSeen, d.isn = true, t.Seq
		if peer.isnSeen && !tr.synAckChecked {
			tr.synAckChecked = true
			tr.synAckOK = t.Ack == peer.isn+1
			tr.synAckAck = t.Ack
		}
	case t.Flags.Has(layers.TCPFlagRST):
		if !tr.established && tr.synAcks == 0 && dir == 1 {
			tr.refused = true
			tr.handshakeEnd = f.N
		} else if tr.resetBy < 0 {
			tr.resetBy = dir
			tr.closeFrame = f.N
		}
	}
	if t.Flags.Has(layers.TCPFlagACK) && !syn {
		if dir == 0 && !tr.established && tr.synAcks > 0 {
			tr.established = true
			tr.ackOK = t.Ack == peer.isn+1
			tr.ackAck = t.Ack
			tr.handshakeEnd = f.N
		}
		if peer.fin && !peer.finAcked && !seqLess(t.Ack, peer.finSeq+1) {
			peer.finAcked = true
			peer.finAckOK = t.Ack == peer.finSeq+1
			peer.finAck = t.Ack
			if d.fin && d.finAcked {
				tr.closeFrame = f.N
			}
		}
	}
	if fin && !d.fin {
		d.fin = true
		d.finSeq = t.Seq + uint32(payload)
		if syn {
			d.finSeq++
		}
		if tr.firstFIN < 0 {
			tr.firstFIN = dir
		}
	}
	return retrans
}

// icmpError notes an ICMP error quoting a packet of direction dir: an
// error for the client's SYN means the connection was rejected on its way.
func (c *conversation) icmpError(f *Frame, dir int) {
	c.last = f.N
	if c.proto != layers.IPProtocolTCP || dir != 0 || c.tcp.established {
		return
	}
	p := &f.Packet
	tr := &c.tcp
	tr.rejected = true
	tr.handshakeEnd = f.N
	tr.icmpFrom = p.Src()
	if p.Has(layers.LayerICMPv6) {
		tr.icmpV6, tr.icmpType, tr.icmpCode = true, uint8(p.ICMPv6.Type), p.ICMPv6.Code
	} else {
		tr.icmpType, tr.icmpCode = uint8(p.ICMPv4.Type), p.ICMPv4.Code
	}
}
