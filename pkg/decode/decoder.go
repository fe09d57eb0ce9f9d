package decode

import (
	"net/netip"
	"time"

	"github.com/netdiag/netdiag/pkg/layers"
	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// Frame is one decoded packet: the headers pkg/layers decoded, and what
// Decoder added by following the packet's conversation (its number, TCP
// retransmissions, DNS, and the TLS records and handshake messages the
// packet completes). A Decoder reuses its Frame: it is valid until the
// next call to Decode, and its byte slices alias the Record's data.
type Frame struct {
	// N, Time, Length and Offset repeat the Record's.
	N      int
	Time   time.Time
	Length int
	Offset int64
	// Packet holds the decoded headers; Packet.Data is the captured bytes.
	Packet layers.Packet
	// Conversation numbers the TCP or UDP conversation the packet belongs
	// to, from 1 in order of first appearance; 0 when it belongs to none.
	// An ICMP error counts in the conversation of the datagram it quotes.
	Conversation int
	// Retransmission marks a TCP segment that carries sequence space
	// (data, SYN or FIN) already seen in its direction.
	Retransmission bool
	// DNS is the DNS message carried by the packet, or nil.
	DNS *DNSMessage
	// TLS lists the TLS records and handshake messages this packet
	// completes, or is nil. A record spread over several segments is
	// listed with the segment that brings its last byte, as tshark does.
	TLS *TLSData

	dns DNSMessage
	tls TLSData
}

// Captured is the number of bytes captured.
func (f *Frame) Captured() int { return len(f.Packet.Data) }

// Cut reports whether the snap length kept only part of the packet.
func (f *Frame) Cut() bool { return len(f.Packet.Data) < f.Length }

// TLSData is what one packet contributes to a TLS conversation.
type TLSData struct {
	// Records completed by this packet, in stream order.
	Records []tlswire.Record
	// Origins says where each of Records came from: a record spread over
	// several segments was reassembled from them.
	Origins []RecordOrigin
	// Messages are the handshake messages completed by this packet (in
	// plaintext records; encrypted ones are only Records).
	Messages []tlswire.HandshakeMessage
	// Partial counts the bytes of this packet's payload that begin a
	// record a later segment completes.
	Partial int
	// Err is set when the stream stopped being TLS (a record header that
	// makes no sense) or could not be followed (too much data missing);
	// the conversation's later bytes are not interpreted.
	Err error
}

// RecordOrigin is where a TLS record's bytes were captured: in Segments
// TCP segments, the first in packet Packet (the last is the packet that
// completes the record).
type RecordOrigin struct {
	Packet, Segments int
}

// Options tune a Decoder.
type Options struct {
	// Stats collects the per-protocol and per-conversation totals that
	// Decoder.Stats returns. It keeps a small record per conversation.
	Stats bool
	// Filter, with Stats, limits the protocol totals to the packets it
	// matches and the conversations listed to those with such packets
	// (each still described whole). The zero Filter matches every packet.
	Filter Filter
	// MaxConversations bounds the conversations followed at once for
	// numbering, TCP analysis and TLS reassembly; when more are live, the
	// least recently active are forgotten (a later packet of one starts a
	// new conversation). 0 means DefaultMaxConversations.
	MaxConversations int
}

// DefaultMaxConversations is Options.MaxConversations when unset.
const DefaultMaxConversations = 8192

// Decoder decodes the packets of one capture, in order, keeping the state
// that spans packets: conversations and their TLS streams. Its memory is
// bounded by Options.MaxConversations and the per-direction TLS buffers,
// not by the length of the capture.
type Decoder struct {
	opts  Options
	frame Frame
	convs conversations
	stats *Stats
	dnsp  dnsParser
	// tlsHeld is what all TLS streams hold together (MaxTLSHeld).
	tlsHeld int
}

// NewDecoder returns a Decoder for one capture.
func NewDecoder(opts Options) *Decoder {
	if opts.MaxConversations <= 0 {
		opts.MaxConversations = DefaultMaxConversations
	}
	d := &Decoder{opts: opts}
	d.convs.init(opts.MaxConversations)
	if opts.Stats {
		d.stats = newStats()
	}
	d.convs.evict = func(c *conversation) {
		d.dropTLS(c)
		if d.stats != nil {
			c.summarize()
		}
	}
	return d
}

// Decode decodes one record and returns the Frame, which is reused by the
// next call. Problems inside the packet (a header cut short, a malformed
// field) are reported in Frame.Packet.Err, never as a failure of Decode.
func (d *Decoder) Decode(rec *Record) *Frame {
	f := &d.frame
	f.N, f.Time, f.Length, f.Offset = rec.N, rec.Time, rec.Length, rec.Offset
	f.Conversation, f.Retransmission = 0, false
	f.DNS, f.TLS = nil, nil
	if d.stats != nil {
		d.stats.current = nil
	}
	p := &f.Packet
	// A frame cut by the snap length lost its FCS with its end.
	p.EthernetFCS = rec.FCS && !rec.Cut()
	_ = p.Decode(rec.LinkType, rec.Data)

	switch {
	case p.Has(layers.LayerTCP):
		d.tcp(f)
	case p.Has(layers.LayerUDP):
		d.udp(f)
	case p.Has(layers.LayerICMPv4):
		d.icmpQuote(f, &p.ICMPv4.Quote, p.ICMPv4.IsError())
	case p.Has(layers.LayerICMPv6):
		d.icmpQuote(f, &p.ICMPv6.Quote, p.ICMPv6.IsError())
	}
	if d.stats != nil {
		d.stats.add(f, d.opts.Filter.Match(f))
	}
	return f
}

// Stats returns the totals so far, or nil without Options.Stats.
func (d *Decoder) Stats() *Stats {
	if d.stats != nil {
		d.stats.finish(&d.convs)
	}
	return d.stats
}

func (d *Decoder) tcp(f *Frame) {
	p := &f.Packet
	src := netip.AddrPortFrom(p.Src(), p.TCP.SrcPort)
	dst := netip.AddrPortFrom(p.Dst(), p.TCP.DstPort)
	c, dir := d.convs.lookupTCP(src, dst, p.TCP.Flags, f.N)
	f.Conversation = c.n
	f.Retransmission = c.tcpSegment(f, dir)
	if d.stats != nil {
		d.stats.conversation(c, f, dir)
	}
	d.tlsSegment(f, c, dir)
	if d.stats != nil && f.TLS != nil {
		d.stats.tlsSeen(c, f)
	}
	if c.tls != nil && c.tcp.ended() {
		// Nothing more can complete a record once both sides have closed
		// or one has reset: let the buffers go now rather than when the
		// conversation is forgotten.
		d.dropTLS(c)
	}
	if f.TLS == nil && len(p.Payload) > 2 && isDNSPort(src.Port(), dst.Port()) {
		d.dnsTCP(f, p.Payload)
	}
}

func (d *Decoder) udp(f *Frame) {
	p := &f.Packet
	src := netip.AddrPortFrom(p.Src(), p.UDP.SrcPort)
	dst := netip.AddrPortFrom(p.Dst(), p.UDP.DstPort)
	c, dir := d.convs.lookupUDP(src, dst, f.N)
	f.Conversation = c.n
	if d.stats != nil {
		d.stats.conversation(c, f, dir)
	}
	if isDNSPort(src.Port(), dst.Port()) && !p.Fragment {
		d.dnsUDP(f, p.Payload)
	}
}

// icmpQuote puts an ICMP error in the conversation of the datagram it
// quotes, when that conversation is known, and lets the conversation note
// the error (a SYN answered by an ICMP error was rejected on the way).
func (d *Decoder) icmpQuote(f *Frame, q *layers.Quote, isError bool) {
	if !isError {
		return
	}
	src, dst, ok := q.AddrPorts()
	if !ok {
		return
	}
	c, dir := d.convs.find(q.Protocol, src, dst)
	if c == nil {
		return
	}
	f.Conversation = c.n
	c.icmpError(f, dir)
	if d.stats != nil {
		d.stats.conversation(c, f, -1)
	}
}
