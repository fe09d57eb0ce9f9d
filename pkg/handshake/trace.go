package handshake

import (
	"fmt"
	"strings"
	"time"
)

// Dir is a packet's direction relative to this machine.
type Dir string

// The directions, as JSON writes them.
const (
	Out Dir = "out"
	In  Dir = "in"
)

// Flags are the TCP header flags, in the header's bit order.
type Flags uint16

// The TCP flags.
const (
	FIN Flags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

var flagNames = []struct {
	f    Flags
	name string
}{{SYN, "SYN"}, {FIN, "FIN"}, {RST, "RST"}, {PSH, "PSH"}, {ACK, "ACK"}, {URG, "URG"}, {ECE, "ECE"}, {CWR, "CWR"}}

// String lists the flags set, comma-separated, SYN first and ACK after
// the others ("SYN,ACK", "FIN,ACK", "PSH,ACK").
func (f Flags) String() string {
	var parts []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			parts = append(parts, n.name)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

// Has reports whether every flag of g is set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// Packet is one packet of a traced connection as it crossed the
// interface.
type Packet struct {
	// T is the time since the first packet of the trace (the SYN).
	T   time.Duration
	Dir Dir
	// Flags, Seq, Ack, Window and Options are the TCP header's; Seq and
	// Ack are the absolute numbers on the wire.
	Flags    Flags
	Seq, Ack uint32
	// RelSeq and RelAck count from each side's initial sequence number,
	// as tcpdump and Wireshark show them; zero until that ISN is known.
	RelSeq, RelAck uint32
	Window         uint16
	// Options are the TCP options in wire order, tcpdump-style text
	// ("mss 1460", "sackOK", "ts 2813 0", "nop", "wscale 7").
	Options []string
	// Len is the number of payload bytes.
	Len int
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
}

// seqLen is the sequence space a segment occupies: its payload plus one
// for SYN and one for FIN.
func seqLen(p *Packet) uint32 {
	n := uint32(p.Len)
	if p.Flags&SYN != 0 {
		n++
	}
	if p.Flags&FIN != 0 {
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
		if p.ICMP != nil || p.Flags&SYN == 0 {
			continue
		}
		if p.Dir == Out && !haveOurs {
			ourISN, haveOurs = p.Seq, true
		}
		if p.Dir == In && p.Flags&ACK != 0 && !haveTheirs {
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
		if haveOther && p.Flags&ACK != 0 {
			p.RelAck = p.Ack - other
		}
	}
	t.Checks = nil
	if !haveOurs {
		return
	}
	answer := t.find(0, In, func(p *Packet) bool { return p.Flags.Has(SYN|ACK) || p.Flags&RST != 0 })
	switch {
	case answer < 0:
		return
	case t.Packets[answer].Flags&RST != 0:
		if t.Packets[answer].Flags&ACK != 0 {
			t.checkAck("the reset acknowledges our ISN + 1", answer, ourISN+1)
		}
		return
	}
	t.checkAck("the SYN-ACK acknowledges our ISN + 1", answer, ourISN+1)
	ack := t.find(answer+1, Out, func(p *Packet) bool { return p.Flags&ACK != 0 && p.Flags&(SYN|RST) == 0 })
	t.checkAck("our ACK acknowledges their ISN + 1", ack, theirISN+1)
	if ack >= 0 && t.Packets[ack].Seq != ourISN+1 {
		t.Checks = append(t.Checks, Check{What: "our ACK carries seq ISN + 1", Want: ourISN + 1, Got: t.Packets[ack].Seq, Found: true})
	}
	for i := range t.Packets {
		fin := &t.Packets[i]
		if fin.ICMP != nil || fin.Flags&FIN == 0 {
			continue
		}
		end := fin.Seq + seqLen(fin)
		other := In
		who := "our FIN"
		if fin.Dir == In {
			other, who = Out, "their FIN"
		}
		j := t.find(i+1, other, func(p *Packet) bool {
			return p.Flags&ACK != 0 && int32(p.Ack-(end-1)) > 0
		})
		t.checkAck(fmt.Sprintf("%s (seq %d) is acknowledged with seq + 1", who, fin.Seq), j, end)
	}
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
