package decode

import (
	"errors"
	"fmt"
	"slices"

	"github.com/netdiag/netdiag/pkg/layers"
	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// MaxOutOfOrder bounds the bytes held per direction of a TLS conversation
// while waiting for a missing segment. Beyond it the gap is taken as lost
// for good and the direction is no longer followed.
const MaxOutOfOrder = 256 << 10

// MaxTLSHeld bounds the bytes held for all TLS conversations together:
// segments waiting for a gap to fill, and incomplete records and handshake
// messages. A conversation that would take more is no longer followed, so
// that a capture of thousands of stalled handshakes cannot exhaust memory.
const MaxTLSHeld = 64 << 20

// ErrTLSGap: bytes of a TLS stream are missing from the capture (lost
// before the capture point, or cut by the snap length), so its records
// cannot be followed past them.
var ErrTLSGap = errors.New("tls: bytes missing from the capture")

// ErrTLSMemory: following the conversation would take TLS buffers beyond
// MaxTLSHeld for the whole capture.
var ErrTLSMemory = errors.New("tls: too much data held for the capture's TLS conversations")

// tlsStream follows the TLS records of one TCP conversation. It puts each
// direction's segments in sequence order, drops bytes already seen
// (retransmissions) and holds early segments until the gap before them is
// filled, then feeds the bytes to a tlswire.Conversation.
type tlsStream struct {
	conv tlswire.Conversation
	dirs [2]tlsDir
	// held is what the stream held after its last segment, as counted in
	// Decoder.tlsHeld.
	held int
}

type tlsDir struct {
	started bool
	next    uint32 // sequence number of the next byte to feed
	pending []pendingSegment
	held    int // bytes in pending
	broken  bool
	// fed counts the bytes fed, the stream offset of tlswire's records;
	// recEnd is where the last complete record ends. The record after it
	// began in packet recStart and has come in recSegs segments so far.
	fed, recEnd       int64
	recStart, recSegs int
}

type pendingSegment struct {
	seq  uint32
	n    int // the packet that carried it
	data []byte
}

// looksLikeTLS reports whether b starts with a TLS record header of SSL
// 3.0 to TLS 1.3 framing; opening says it must be a handshake record, as
// a connection's first bytes are.
func looksLikeTLS(b []byte, opening bool) bool {
	if len(b) < tlswire.RecordHeaderLen {
		return false
	}
	h, err := tlswire.ParseRecordHeader(b)
	return err == nil && h.Length > 0 && (h.Type == tlswire.ContentHandshake || !opening)
}

// tlsMidStreamTries is how many payloads of a conversation whose
// handshake the capture missed are looked at for a TLS record header.
const tlsMidStreamTries = 8

// tlsSegment passes the TCP payload of f to the conversation's TLS stream.
// A stream starts when the conversation's first payload is a TLS
// handshake record, or, when the capture began after the TCP handshake,
// when one of its first payloads begins with any TLS record header (the
// middle of a session). So a protocol that is not TLS costs a few checks.
func (d *Decoder) tlsSegment(f *Frame, c *conversation, dir int) {
	p := &f.Packet
	payload := p.TCP.Payload
	if c.tls == nil {
		if c.tlsDone || len(payload) == 0 {
			return
		}
		c.tlsTries++
		midStream := !c.tcp.dirs[0].isnSeen && !c.tcp.dirs[1].isnSeen
		switch {
		case !midStream:
			c.tlsDone = true
			if !looksLikeTLS(payload, true) {
				return
			}
		case looksLikeTLS(payload, false):
			c.tlsDone = true
		default:
			c.tlsDone = c.tlsTries >= tlsMidStreamTries
			return
		}
		c.tls = &tlsStream{}
		for i := range c.tls.dirs {
			if dd := &c.tcp.dirs[i]; dd.isnSeen {
				c.tls.dirs[i].started, c.tls.dirs[i].next = true, dd.isn+1
			}
		}
	}
	if len(payload) == 0 {
		return
	}
	out := &f.tls
	out.Records, out.Messages, out.Err = out.Records[:0], out.Messages[:0], nil
	seq := p.TCP.Seq
	if p.TCP.Flags.Has(layers.TCPFlagSYN) {
		seq++
	}
	out.Origins, out.Partial = out.Origins[:0], 0
	c.tls.segment(dir, f.N, seq, payload, tcpPayloadLen(p), out)
	held := c.tls.dirs[0].held + c.tls.dirs[1].held + c.tls.conv.Buffered()
	d.tlsHeld += held - c.tls.held
	c.tls.held = held
	if d.tlsHeld > MaxTLSHeld {
		d.dropTLS(c)
		if out.Err == nil {
			out.Err = fmt.Errorf("%w (%d MiB)", ErrTLSMemory, MaxTLSHeld>>20)
		}
	}
	if len(out.Records) > 0 || len(out.Messages) > 0 || out.Partial > 0 || out.Err != nil {
		f.TLS = out
	}
}

// dropTLS stops following the TLS of conversation c for good and lets its
// buffers go.
func (d *Decoder) dropTLS(c *conversation) {
	c.tlsDone = true
	if c.tls != nil {
		d.tlsHeld -= c.tls.held
		c.tls = nil
	}
}

// segment takes the captured payload of packet n, one segment at sequence
// number seq; declared is its length on the wire (more when the snap
// length cut it).
func (s *tlsStream) segment(dir, n int, seq uint32, data []byte, declared int, out *TLSData) {
	d := &s.dirs[dir]
	if d.broken {
		return
	}
	if !d.started {
		// The direction's first bytes in the capture: follow it from the
		// first segment that begins a record.
		if !looksLikeTLS(data, false) {
			return
		}
		d.started, d.next = true, seq
	}
	if declared > len(data) {
		// The snap length cut the segment: the rest is lost for good.
		s.fail(dir, out, fmt.Errorf("%w: a segment was cut by the snap length", ErrTLSGap))
		return
	}
	off := int32(seq - d.next)
	switch {
	case off > 0:
		s.hold(dir, n, seq, data, out)
		return
	case off < 0:
		if int(-off) >= len(data) {
			return // a retransmission of bytes already fed
		}
		data = data[-off:]
	}
	start := d.fed
	s.feed(dir, n, data, out)
	end := d.fed
	for !d.broken && len(d.pending) > 0 {
		ps := d.pending[0]
		o := int32(ps.seq - d.next)
		if o > 0 {
			break
		}
		d.pending = d.pending[1:]
		d.held -= len(ps.data)
		if int(-o) < len(ps.data) {
			s.feed(dir, ps.n, ps.data[-o:], out)
		}
	}
	if len(d.pending) == 0 {
		d.pending = nil
	}
	if r := end - max(d.recEnd, start); r > 0 && !d.broken && d.recStart == n {
		// A record begins in this packet and a later one completes it.
		// (A segment in the middle of a record, neither beginning nor
		// completing one, is left as TCP data, as tshark leaves it.)
		out.Partial = int(r)
	}
}

// hold keeps a copy of a segment that arrived before the bytes in front of
// it, in sequence order.
func (s *tlsStream) hold(dir, n int, seq uint32, data []byte, out *TLSData) {
	d := &s.dirs[dir]
	if d.held+len(data) > MaxOutOfOrder {
		s.fail(dir, out, fmt.Errorf("%w: more than %d bytes arrived after a gap that was never filled", ErrTLSGap, MaxOutOfOrder))
		return
	}
	i, found := slices.BinarySearchFunc(d.pending, seq, func(p pendingSegment, seq uint32) int {
		return int(int32(p.seq - seq))
	})
	if found && len(d.pending[i].data) >= len(data) {
		return
	}
	seg := pendingSegment{seq: seq, n: n, data: append([]byte(nil), data...)}
	if found {
		d.held += len(data) - len(d.pending[i].data)
		d.pending[i] = seg
		return
	}
	d.held += len(data)
	d.pending = slices.Insert(d.pending, i, seg)
}

// feed passes bytes that packet n carried to the records of direction
// dir, noting where each record it completes began.
func (s *tlsStream) feed(dir, n int, data []byte, out *TLSData) {
	d := &s.dirs[dir]
	d.next += uint32(len(data))
	if d.fed == d.recEnd {
		d.recStart, d.recSegs = n, 1 // a record begins with these bytes
	} else {
		d.recSegs++
	}
	start := d.fed
	d.fed += int64(len(data))
	before := len(out.Records)
	var err error
	out.Records, out.Messages, err = s.conv.AppendFeed(out.Records, out.Messages, dir, data)
	for _, r := range out.Records[before:] {
		// Only the first record completed here can have begun earlier.
		o := RecordOrigin{Packet: n, Segments: 1}
		if r.Offset < start {
			o = RecordOrigin{Packet: d.recStart, Segments: d.recSegs}
		}
		out.Origins = append(out.Origins, o)
		d.recEnd = r.Offset + int64(tlswire.RecordHeaderLen+r.Length)
	}
	if len(out.Records) > before && d.recEnd < d.fed {
		d.recStart, d.recSegs = n, 1
	}
	if err != nil {
		s.fail(dir, out, err)
	}
}

func (s *tlsStream) fail(dir int, out *TLSData, err error) {
	d := &s.dirs[dir]
	d.broken, d.pending, d.held = true, nil, 0
	if out.Err == nil {
		out.Err = err
	}
}
