package cli

import (
	"fmt"
	"strings"

	"github.com/netdiag/netdiag/pkg/handshake"
)

// tcpPacketJSON is the "packet" object of trace mode: one segment (or
// ICMP error) of a traced connection, in wire order.
type tcpPacketJSON struct {
	Target   string   `json:"target"`
	Addr     string   `json:"addr"`
	Port     int      `json:"port"`
	Probe    int      `json:"probe"`
	Dir      string   `json:"dir"`
	TMs      float64  `json:"t_ms"`
	Flags    string   `json:"flags"`
	Seq      uint32   `json:"seq"`
	Ack      uint32   `json:"ack"`
	RelSeq   uint32   `json:"rel_seq"`
	RelAck   uint32   `json:"rel_ack"`
	Win      uint16   `json:"win"`
	Len      int      `json:"len"`
	Options  []string `json:"options"`
	TTL      int      `json:"ttl,omitempty"`
	ICMPType *uint8   `json:"icmp_type,omitempty"`
	ICMPCode *uint8   `json:"icmp_code,omitempty"`
	From     string   `json:"from,omitempty"`
}

// tcpCheckJSON is the "check" object: one piece of sequence arithmetic.
type tcpCheckJSON struct {
	Target string  `json:"target"`
	Addr   string  `json:"addr"`
	Port   int     `json:"port"`
	Probe  int     `json:"probe"`
	What   string  `json:"what"`
	OK     bool    `json:"ok"`
	Want   uint32  `json:"want"`
	Got    *uint32 `json:"got,omitempty"`
}

// trace renders a probe's timeline and checks.
func (r *tcpRenderer) trace(res handshake.Result) {
	tr := res.Trace
	t := res.Target
	for _, p := range tr.Packets {
		j := tcpPacketJSON{
			Target: t.Name, Addr: t.Addr.String(), Port: t.Port, Probe: res.Seq,
			Dir: string(p.Dir), TMs: Ms(p.T), Flags: p.Flags.String(),
			Seq: p.Seq, Ack: p.Ack, RelSeq: p.RelSeq, RelAck: p.RelAck, Win: p.Window, Len: p.Len,
			Options: p.Options, TTL: p.TTL,
		}
		if j.Options == nil {
			j.Options = []string{}
		}
		if e := p.ICMP; e != nil {
			j.ICMPType, j.ICMPCode, j.From = &e.Type, &e.Code, e.From.String()
		}
		r.p.Emit("packet", j)
	}
	for _, c := range tr.Checks {
		if !c.OK {
			r.badChecks++
		}
		j := tcpCheckJSON{Target: t.Name, Addr: t.Addr.String(), Port: t.Port, Probe: res.Seq, What: c.What, OK: c.OK, Want: c.Want}
		if c.Found {
			got := c.Got
			j.Got = &got
		}
		r.p.Emit("check", j)
	}
	if r.p.JSON() || r.p.Quiet() {
		return
	}
	r.p.Printf("%s\n", r.p.Dim(fmt.Sprintf("  %10s  %-3s %-12s %10s %10s  %11s %6s %5s  %s",
		"time", "dir", "flags", "seq", "ack", "rel seq/ack", "win", "len", "options")))
	for _, p := range tr.Packets {
		arrow := "→"
		if p.Dir == handshake.In {
			arrow = "←"
		}
		if e := p.ICMP; e != nil {
			r.p.Printf("  %10s  %-3s %s\n", FormatMs(p.T), arrow,
				r.p.Bad(fmt.Sprintf("ICMP type %d code %d from %s, quoting our %s seq %d", e.Type, e.Code, e.From, p.Flags, p.Seq)))
			continue
		}
		r.p.Printf("  %10s  %-3s %-12s %10d %10d  %11s %6d %5d  %s\n", FormatMs(p.T), arrow, p.Flags,
			p.Seq, p.Ack, fmt.Sprintf("%d/%d", p.RelSeq, p.RelAck), p.Window, p.Len, strings.Join(p.Options, ","))
	}
	for _, c := range tr.Checks {
		line := fmt.Sprintf("  %s %s", r.p.Check(c.OK), c.What)
		switch {
		case c.OK:
			line += fmt.Sprintf(": ack %d", c.Got)
		case c.Found:
			line += fmt.Sprintf(": want ack %d, got %d", c.Want, c.Got)
		default:
			line += fmt.Sprintf(": no packet acknowledges it (want ack %d)", c.Want)
		}
		r.p.Printf("%s\n", line)
	}
	if tr.Received > 0 {
		r.p.Printf("  %s\n", r.p.Dim(fmt.Sprintf("received %d bytes from the server", tr.Received)))
	}
	if tr.Dropped > 0 {
		r.p.Printf("  %s\n", r.p.Warn(fmt.Sprintf("%d more packets not recorded", tr.Dropped)))
	}
	if tr.Unfinished != "" {
		r.p.Printf("  %s\n", r.p.Warn(tr.Unfinished))
	}
}
