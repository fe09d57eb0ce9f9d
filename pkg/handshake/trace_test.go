package handshake

import (
	"testing"
	"time"
)

// closeFirst is a connection to a socat server captured with
// `tcpdump -i c0 -nn -S -tt 'tcp port 80'` in a netns lab: we send six
// bytes and close first; the server answers three bytes and closes.
func closeFirst() *Trace {
	us := func(n int) time.Duration { return time.Duration(n) * time.Microsecond }
	return &Trace{Packets: []Packet{
		{T: us(0), Dir: Out, Flags: tcpSYN, Seq: 246194238, Window: 64240, Options: []string{"mss 1460", "sackOK", "ts 2829484547 0", "nop", "wscale 10"}},
		{T: us(42), Dir: In, Flags: tcpSYN | tcpACK, Seq: 294820007, Ack: 246194239, Window: 65160},
		{T: us(55), Dir: Out, Flags: tcpACK, Seq: 246194239, Ack: 294820008, Window: 63},
		{T: us(551), Dir: Out, Flags: tcpPSH | tcpACK, Seq: 246194239, Ack: 294820008, Window: 63, Len: 6},
		{T: us(560), Dir: In, Flags: tcpACK, Seq: 294820008, Ack: 246194245, Window: 64},
		{T: us(572), Dir: Out, Flags: tcpFIN | tcpACK, Seq: 246194245, Ack: 294820008, Window: 63},
		{T: us(2339), Dir: In, Flags: tcpPSH | tcpACK, Seq: 294820008, Ack: 246194246, Window: 64, Len: 3},
		{T: us(2364), Dir: Out, Flags: tcpACK, Seq: 246194246, Ack: 294820011, Window: 63},
		{T: us(3641), Dir: In, Flags: tcpFIN | tcpACK, Seq: 294820011, Ack: 246194246, Window: 64},
		{T: us(3645), Dir: Out, Flags: tcpACK, Seq: 246194246, Ack: 294820012, Window: 63},
	}}
}

func TestAnalyzeCloseFirst(t *testing.T) {
	tr := closeFirst()
	tr.analyze()
	want := []struct {
		what      string
		want, got uint32
	}{
		{"the SYN-ACK acknowledges our ISN + 1", 246194239, 246194239},
		{"our ACK acknowledges their ISN + 1", 294820008, 294820008},
		{"our FIN (seq 246194245) is acknowledged with seq + 1", 246194246, 246194246},
		{"their FIN (seq 294820011) is acknowledged with seq + 1", 294820012, 294820012},
	}
	if len(tr.Checks) != len(want) {
		t.Fatalf("checks %+v", tr.Checks)
	}
	for i, w := range want {
		c := tr.Checks[i]
		if c.What != w.what || c.Want != w.want || c.Got != w.got || !c.OK || !c.Found {
			t.Errorf("check %d: %+v, want %+v", i, c, w)
		}
	}
	rel := [][2]uint32{{0, 0}, {0, 1}, {1, 1}, {1, 1}, {1, 7}, {7, 1}, {1, 8}, {8, 4}, {4, 8}, {8, 5}}
	for i, p := range tr.Packets {
		if p.RelSeq != rel[i][0] || p.RelAck != rel[i][1] {
			t.Errorf("packet %d: rel seq/ack %d/%d, want %d/%d", i, p.RelSeq, p.RelAck, rel[i][0], rel[i][1])
		}
	}
}

func TestAnalyzeFindsWrongArithmetic(t *testing.T) {
	tr := closeFirst()
	tr.Packets[1].Ack++ // a tcpSYN-tcpACK that acknowledges ISN + 2
	tr.Packets = tr.Packets[:9]
	tr.Packets[9-1].Flags = tcpFIN | tcpACK
	tr.analyze()
	if c := tr.Checks[0]; c.OK || c.Want != 246194239 || c.Got != 246194240 {
		t.Errorf("bad SYN-ACK not caught: %+v", c)
	}
	last := tr.Checks[len(tr.Checks)-1]
	if last.OK || last.Found {
		t.Errorf("an unacknowledged FIN must fail as not found: %+v", last)
	}
}

func TestAnalyzeServerCloseAndReset(t *testing.T) {
	// Server closes first, its FIN acknowledged by our FIN,ACK.
	tr := &Trace{Packets: []Packet{
		{Dir: Out, Flags: tcpSYN, Seq: 1000},
		{Dir: In, Flags: tcpSYN | tcpACK, Seq: 5000, Ack: 1001},
		{Dir: Out, Flags: tcpACK, Seq: 1001, Ack: 5001},
		{Dir: In, Flags: tcpFIN | tcpPSH | tcpACK, Seq: 5001, Ack: 1001, Len: 10},
		{Dir: Out, Flags: tcpFIN | tcpACK, Seq: 1001, Ack: 5012},
		{Dir: In, Flags: tcpACK, Seq: 5012, Ack: 1002},
	}}
	tr.analyze()
	if len(tr.Checks) != 4 {
		t.Fatalf("checks %+v", tr.Checks)
	}
	for _, c := range tr.Checks {
		if !c.OK {
			t.Errorf("failed: %+v", c)
		}
	}
	if tr.Checks[2].Want != 5012 {
		t.Errorf("a FIN with 10 bytes of data is acknowledged with seq + 11: %+v", tr.Checks[2])
	}

	closed := &Trace{Packets: []Packet{
		{Dir: Out, Flags: tcpSYN, Seq: 77},
		{Dir: In, Flags: tcpRST | tcpACK, Ack: 78},
	}}
	closed.analyze()
	if len(closed.Checks) != 1 || !closed.Checks[0].OK || closed.Checks[0].What != "the reset acknowledges our ISN + 1" {
		t.Errorf("reset: %+v", closed.Checks)
	}

	silent := &Trace{Packets: []Packet{{Dir: Out, Flags: tcpSYN, Seq: 1}, {T: time.Second, Dir: Out, Flags: tcpSYN, Seq: 1}}}
	silent.analyze()
	if len(silent.Checks) != 0 {
		t.Errorf("no answer, yet checks: %+v", silent.Checks)
	}
}

func TestCheckRecorded(t *testing.T) {
	var empty Trace
	empty.analyze()
	empty.checkRecorded()
	if len(empty.Checks) != 1 || empty.Checks[0].OK || empty.Checks[0].What != "the capture recorded our SYN" {
		t.Errorf("an empty trace of an open connection: %+v", empty.Checks)
	}
	full := Trace{Packets: []Packet{{Dir: Out, Flags: tcpSYN, Seq: 1}, {Dir: In, Flags: tcpSYN | tcpACK, Seq: 9, Ack: 2}}}
	full.analyze()
	before := len(full.Checks)
	full.checkRecorded()
	if len(full.Checks) != before {
		t.Errorf("a recorded SYN: %+v", full.Checks[before:])
	}
}
