package handshake

import (
	"fmt"
	"time"

	"github.com/netdiag/netdiag/pkg/layers"
)

// The TCP flags the analysis looks at.
const (
	tcpFIN = layers.TCPFlagFIN
	tcpSYN = layers.TCPFlagSYN
	tcpRST = layers.TCPFlagRST
	tcpPSH = layers.TCPFlagPSH
	tcpACK = layers.TCPFlagACK
)

// TraceOptions configure trace mode.
type TraceOptions struct {
	// Timeout bounds the handshake, and again the close; when the
	// server has not closed by then (ServerClose, or after our FIN), we
	// close and wait up to Timeout once more for the acknowledgement of
	// our FIN.
	Timeout time.Duration
	// Send is written to the server once connected; nil sends nothing.
	Send []byte
	// ServerClose waits for the server to close first (after it has
	// answered Send, or on its own); by default we close first.
	ServerClose bool
}

// NewTraceProber returns the trace-mode prober: connect mode, with the
// connection's packets recorded by a packet socket as they cross the
// interface and the handshake and close arithmetic checked. It needs
// CAP_NET_RAW and Linux; without them it returns a failure.KindLocal
// error saying how to get them.
func NewTraceProber(o TraceOptions) (Prober, error) {
	p, err := newTraceProber(o)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Dir is a packet's direction relative to this machine.
type Dir string

// The directions, as JSON writes them.
const (
	Out Dir = "out"
	In  Dir = "in"
)

// Packet is one packet of a traced connection as it crossed the
// interface.
type Packet struct {
	// T is the time since the first packet of the trace (the SYN).
	T   time.Duration
	Dir Dir
	// Flags, Seq, Ack, Window and Options are the TCP header's; Seq and
	// Ack are the absolute numbers on the wire.
	Flags    layers.TCPFlags
	Seq, Ack uint32
	// RelSeq and RelAck count from each side's initial sequence number,
	// as tcpdump and Wireshark show them; zero until that ISN is known.
	RelSeq, RelAck uint32
	Window         uint16
	// Options are the TCP options in wire order, as tcpdump prints them
	// ("mss 1460", "sackOK", "TS val 2813 ecr 0", "nop", "wscale 7").
	Options []string
	// Len is the number of payload bytes.
	Len int
	// TTL is the IPv4 TTL or IPv6 hop limit the packet crossed the
	// interface with (for an ICMP error, the error's own).
	TTL int
	// ICMP is set, and the TCP fields are those of the quoted SYN, when
	// the packet is an ICMP error about this connection.
	ICMP *ICMPError
}

// Check is one piece of sequence arithmetic verified on a trace, such as
// "the SYN-ACK acknowledges our ISN + 1".
type Check struct {
	// What says what was checked, in words.
	What string
	OK   bool
	// Want is the acknowledgement number the rule requires and Got the
	// one on the wire (when a packet was found).
	Want, Got uint32
	// Found is false when the packet that should carry the number never
	// came.
	Found bool
}

// Trace is the timeline of one traced connection and the checks made on
// it.
type Trace struct {
	Packets []Packet
	Checks  []Check
	// Dropped counts packets left out of Packets because the trace hit
	// its bound (a long transfer after --send).
	Dropped int
	// Received is the number of payload bytes the server sent us.
	Received int
	// Unfinished says why the close was not seen to the end ("the
	// server did not close the connection within 2s"); empty when it was.
	Unfinished string
}

// seqLen is the sequence space a segment occupies: its payload plus one
// for SYN and one for FIN.
func seqLen(p *Packet) uint32 {
	n := uint32(p.Len)
	if p.Flags&tcpSYN != 0 {
		n++
	}
	if p.Flags&tcpFIN != 0 {
		n++
	}
	return n
}

// analyze fills the relative numbers of t's packets and checks the
// arithmetic of the handshake, a reset and the close:
//   - the SYN-ACK (or reset) answering our SYN acknowledges our ISN + 1;
//   - our ACK completing the handshake has seq ISN + 1 and acknowledges
//     their ISN + 1;
//   - each FIN is acknowledged by the other side with its seq + its
//     payload + 1.
func (t *Trace) analyze() {
	var (
		ourISN, theirISN     uint32
		haveOurs, haveTheirs bool
	)
	for i := range t.Packets {
		p := &t.Packets[i]
		if p.ICMP != nil || p.Flags&tcpSYN == 0 {
			continue
		}
		if p.Dir == Out && !haveOurs {
			ourISN, haveOurs = p.Seq, true
		}
		if p.Dir == In && p.Flags&tcpACK != 0 && !haveTheirs {
			theirISN, haveTheirs = p.Seq, true
		}
	}
	for i := range t.Packets {
		p := &t.Packets[i]
		if p.ICMP != nil {
			continue
		}
		own, other, haveOwn, haveOther := ourISN, theirISN, haveOurs, haveTheirs
		if p.Dir == In {
			own, other, haveOwn, haveOther = theirISN, ourISN, haveTheirs, haveOurs
		}
		if haveOwn {
			p.RelSeq = p.Seq - own
		}
		if haveOther && p.Flags&tcpACK != 0 {
			p.RelAck = p.Ack - other
		}
	}
	t.Checks = nil
	if !haveOurs {
		return
	}
	answer := t.find(0, In, func(p *Packet) bool { return p.Flags.Has(tcpSYN|tcpACK) || p.Flags&tcpRST != 0 })
	switch {
	case answer < 0:
		return
	case t.Packets[answer].Flags&tcpRST != 0:
		if t.Packets[answer].Flags&tcpACK != 0 {
			t.checkAck("the reset acknowledges our ISN + 1", answer, ourISN+1)
		}
		return
	}
	t.checkAck("the SYN-ACK acknowledges our ISN + 1", answer, ourISN+1)
	ack := t.find(answer+1, Out, func(p *Packet) bool { return p.Flags&tcpACK != 0 && p.Flags&(tcpSYN|tcpRST) == 0 })
	t.checkAck("our ACK acknowledges their ISN + 1", ack, theirISN+1)
	if ack >= 0 && t.Packets[ack].Seq != ourISN+1 {
		t.Checks = append(t.Checks, Check{What: "our ACK carries seq ISN + 1", Want: ourISN + 1, Got: t.Packets[ack].Seq, Found: true})
	}
	for i := range t.Packets {
		fin := &t.Packets[i]
		if fin.ICMP != nil || fin.Flags&tcpFIN == 0 {
			continue
		}
		end := fin.Seq + seqLen(fin)
		other := In
		who := "our FIN"
		if fin.Dir == In {
			other, who = Out, "their FIN"
		}
		j := t.find(i+1, other, func(p *Packet) bool {
			return p.Flags&tcpACK != 0 && int32(p.Ack-(end-1)) > 0
		})
		t.checkAck(fmt.Sprintf("%s (seq %d) is acknowledged with seq + 1", who, fin.Seq), j, end)
	}
}

// checkRecorded adds a failed check to the trace of a connection that
// opened when it holds no SYN of ours: the capture missed the
// connection, and its empty timeline proves nothing.
func (t *Trace) checkRecorded() {
	for _, p := range t.Packets {
		if p.ICMP == nil && p.Dir == Out && p.Flags&tcpSYN != 0 {
			return
		}
	}
	t.Checks = append(t.Checks, Check{What: "the capture recorded our SYN"})
}

// find returns the index of the first TCP packet at or after from in
// direction d that matches, or -1.
func (t *Trace) find(from int, d Dir, match func(*Packet) bool) int {
	for i := from; i < len(t.Packets); i++ {
		p := &t.Packets[i]
		if p.ICMP == nil && p.Dir == d && match(p) {
			return i
		}
	}
	return -1
}

func (t *Trace) checkAck(what string, i int, want uint32) {
	c := Check{What: what, Want: want}
	if i >= 0 {
		c.Found, c.Got = true, t.Packets[i].Ack
		c.OK = c.Got == want
	}
	t.Checks = append(t.Checks, c)
}
