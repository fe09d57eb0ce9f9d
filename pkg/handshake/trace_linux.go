package handshake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/layers"
	"golang.org/x/sys/unix"
)

type traceProber struct {
	o TraceOptions
}

func newTraceProber(o TraceOptions) (*traceProber, error) {
	// Fail early, before any probe, when packet sockets are not allowed:
	// a socket whose filter accepts nothing shows the permission.
	s, err := openPacketSocket("--trace", 0, bpfProgram())
	if err != nil {
		return nil, err
	}
	s.Close()
	return &traceProber{o: o}, nil
}

func (p *traceProber) Close() error { return nil }

// Probe connects like connect mode while a packet socket filtered on the
// connection's 4-tuple records the packets. The socket is bound to its
// source address and port first, so the filter is in place before the
// SYN leaves.
func (p *traceProber) Probe(ctx context.Context, t Target, seq int) (Result, error) {
	r := Result{Target: t, Seq: seq}
	src, err := sourceAddr(t.Addr)
	if err != nil {
		r.failed(failure.NoRoute, err.Error())
		return r, nil
	}
	s, err := newTCPSocket(t.Addr)
	if err != nil {
		return r, err
	}
	defer s.close()
	lport, err := s.bind(src)
	if err != nil {
		return r, err
	}
	local := netip.AddrPortFrom(src, uint16(lport))
	remote := netip.AddrPortFrom(t.Addr, uint16(t.Port))
	ps, err := openPacketSocket("--trace", interfaceFor(t.Addr), tupleFilter(local, remote))
	if err != nil {
		return r, err
	}
	defer ps.Close()
	rec := startRecorder(ps)

	err = s.connect(ctx, t, p.o.Timeout, &r)
	var received int
	var unfinished string
	if err == nil && r.State == Open {
		received, unfinished, err = p.converse(ctx, s, rec, local, remote)
	}
	raw, dropped := rec.stop()
	if err != nil {
		return r, err
	}
	if rec.err != nil {
		return r, failure.Localf(rec.err, "tcpprobe --trace: read the packet socket: %v", rec.err)
	}
	tr := buildTrace(raw, local, remote)
	tr.Dropped, tr.Received, tr.Unfinished = dropped, received, unfinished
	tr.analyze()
	if r.State == Open {
		tr.checkRecorded()
	}
	r.Trace = tr
	if a, rtt, ok := tr.answer(); ok {
		r.RTT = rtt
		if a.ICMP == nil {
			r.TTL = a.TTL
		}
	}
	return r, nil
}

// converse runs the part after the handshake: it sends the text asked
// for, then closes in the order asked for, reading whatever the server
// sends so that the close is a graceful FIN exchange (a close with
// unread data would send a reset). It returns the bytes received and,
// when the server did not close in time, says so.
func (p *traceProber) converse(ctx context.Context, s *tcpSocket, rec *recorder, local, remote netip.AddrPort) (int, string, error) {
	deadline := time.Now().Add(p.o.Timeout)
	if err := s.file.SetDeadline(deadline); err != nil {
		return 0, "", failure.Localf(err, "tcpprobe --trace: set deadline: %v", err)
	}
	stop := context.AfterFunc(ctx, func() { s.file.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if len(p.o.Send) > 0 {
		if _, err := s.file.Write(p.o.Send); err != nil {
			return 0, "the connection failed while sending: " + errnoText(err), ctx.Err()
		}
	}
	if !p.o.ServerClose {
		if err := s.shutdownWrite(); err != nil {
			return 0, "", failure.Localf(err, "tcpprobe --trace: shutdown: %v", err)
		}
	}
	received, rerr := io.Copy(io.Discard, s.file)
	if ctx.Err() != nil {
		return int(received), "", ctx.Err()
	}
	unfinished := ""
	switch {
	case errors.Is(rerr, unix.ECONNRESET):
		s.close()
		return int(received), "the server reset the connection", nil
	case rerr != nil:
		// The server kept the connection open: we close it now, and
		// wait for the acknowledgement of our FIN as long again.
		unfinished = fmt.Sprintf("the server did not close the connection within %v", p.o.Timeout)
		deadline = time.Now().Add(p.o.Timeout)
	}
	s.close()
	// The last segment of the close may still be on its way: after a
	// server-first close, the server's ACK of our FIN.
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		c := closeSeen(buildTrace(rec.snapshot(), local, remote).Packets)
		// A server that kept the connection open may close it once we
		// have: its FIN, when it comes, is followed to its ACK too.
		if c.reset || c.acked[0] && (c.acked[1] || unfinished != "" && !c.fin[1]) {
			return int(received), unfinished, nil
		}
		select {
		case <-rec.changed:
		case <-timer.C:
			if unfinished == "" {
				unfinished = "the acknowledgement of our FIN did not come in time"
			}
			return int(received), unfinished, nil
		case <-ctx.Done():
			return int(received), "", ctx.Err()
		}
	}
}

// errnoText names the system error in err without Go's wrapping ("write
// tcp 198.18.1.10:80: "), or says the deadline passed.
func errnoText(err error) string {
	var errno unix.Errno
	switch {
	case errors.As(err, &errno):
		return errno.Error()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out"
	}
	return err.Error()
}

func (s *tcpSocket) shutdownWrite() error {
	rc, err := s.file.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Shutdown(int(fd), unix.SHUT_WR) }); err != nil {
		return err
	}
	return serr
}

// closeState is how far the close of a connection got: for our side
// [0] and theirs [1], whether a FIN was sent and acknowledged, and
// whether a reset ended the connection.
type closeState struct {
	fin, acked [2]bool
	reset      bool
}

// closeSeen reads the close from a timeline.
func closeSeen(pk []Packet) closeState {
	var (
		c         closeState
		finEnd    [2]uint32
		direction = func(d Dir) int {
			if d == Out {
				return 0
			}
			return 1
		}
	)
	for i := range pk {
		p := &pk[i]
		if p.ICMP != nil {
			continue
		}
		if p.Flags&tcpRST != 0 {
			c.reset = true
		}
		d := direction(p.Dir)
		other := 1 - d
		if p.Flags&tcpACK != 0 && c.fin[other] && int32(p.Ack-finEnd[other]) >= 0 {
			c.acked[other] = true
		}
		if p.Flags&tcpFIN != 0 && !c.fin[d] {
			c.fin[d], finEnd[d] = true, p.Seq+seqLen(p)
		}
	}
	return c
}

// buildTrace decodes the recorded packets into the timeline: the TCP
// segments of the connection, each once (a loopback packet is seen both
// leaving and arriving: ours count when leaving, theirs when arriving),
// and the ICMP errors that quote it.
func buildTrace(raw []rawPacket, local, remote netip.AddrPort) *Trace {
	// Addresses on the wire carry no zone; a link-local target's does.
	local = netip.AddrPortFrom(local.Addr().WithZone(""), local.Port())
	remote = netip.AddrPortFrom(remote.Addr().WithZone(""), remote.Port())
	tr := &Trace{}
	var (
		pkt   layers.Packet
		first time.Time
	)
	for _, rp := range raw {
		// A packet cut short still counts when its headers were read.
		_ = pkt.Decode(layers.LinkTypeRaw, rp.data)
		var p Packet
		switch {
		case pkt.Has(layers.LayerTCP):
			src := netip.AddrPortFrom(pkt.Src(), pkt.TCP.SrcPort)
			dst := netip.AddrPortFrom(pkt.Dst(), pkt.TCP.DstPort)
			switch {
			case src == local && dst == remote && rp.pkttype == unix.PACKET_OUTGOING:
				p.Dir = Out
			case src == remote && dst == local && rp.pkttype != unix.PACKET_OUTGOING:
				p.Dir = In
			default:
				continue
			}
			p.Flags, p.Seq, p.Ack, p.Window = pkt.TCP.Flags, pkt.TCP.Seq, pkt.TCP.Ack, pkt.TCP.Window
			p.Len = tcpPayloadLen(&pkt)
			for _, o := range pkt.TCP.Options {
				p.Options = append(p.Options, o.String())
			}
		case rp.pkttype != unix.PACKET_OUTGOING:
			e, q, ok := icmpError(&pkt)
			if !ok {
				continue
			}
			qs, qd, ok := q.AddrPorts()
			if !ok || q.Protocol != layers.IPProtocolTCP || qs != local || qd != remote {
				continue
			}
			p.Dir, p.ICMP = In, e
			if q.HasSeq {
				p.Seq = q.Seq
			}
			if len(q.Transport) >= 14 {
				p.Flags = layers.TCPFlags(q.Transport[13])
			}
		default:
			continue
		}
		p.TTL = ipTTL(&pkt)
		if first.IsZero() {
			first = rp.t
		}
		p.T = max(rp.t.Sub(first), 0)
		tr.Packets = append(tr.Packets, p)
	}
	return tr
}

// icmpError returns the ICMP or ICMPv6 error in pkt and its quote.
func icmpError(pkt *layers.Packet) (*ICMPError, *layers.Quote, bool) {
	switch {
	case pkt.Has(layers.LayerICMPv4) && pkt.ICMPv4.IsError():
		m := &pkt.ICMPv4
		return &ICMPError{Type: uint8(m.Type), Code: m.Code, From: pkt.Src()}, &m.Quote, true
	case pkt.Has(layers.LayerICMPv6) && pkt.ICMPv6.IsError():
		m := &pkt.ICMPv6
		return &ICMPError{V6: true, Type: uint8(m.Type), Code: m.Code, From: pkt.Src()}, &m.Quote, true
	}
	return nil, nil, false
}

// answer returns the packet that answered our first SYN (SYN-ACK, reset
// or ICMP error) and the time between them as the interface saw them.
func (t *Trace) answer() (*Packet, time.Duration, bool) {
	if len(t.Packets) == 0 || t.Packets[0].Dir != Out || t.Packets[0].Flags&tcpSYN == 0 {
		return nil, 0, false
	}
	for i := 1; i < len(t.Packets); i++ {
		p := &t.Packets[i]
		if p.Dir == In && (p.ICMP != nil || p.Flags.Has(tcpSYN|tcpACK) || p.Flags&tcpRST != 0) {
			return p, p.T - t.Packets[0].T, true
		}
	}
	return nil, 0, false
}

// tcpPayloadLen is the length of a TCP segment's payload as the IP
// header gives it: the capture keeps only the headers, and a short
// packet may come with the link's padding.
func tcpPayloadLen(pkt *layers.Packet) int {
	end := 0
	switch {
	case pkt.Has(layers.LayerIPv4):
		end = int(pkt.IPv4.TotalLength)
	case pkt.Has(layers.LayerIPv6):
		end = layers.IPv6HeaderLen + int(pkt.IPv6.PayloadLength)
	}
	for _, sp := range pkt.Layers {
		if sp.Type == layers.LayerTCP && !sp.Quoted {
			return max(end-sp.HeaderEnd, 0)
		}
	}
	return 0
}

// ipTTL returns the TTL or hop limit of the outer IP header; 0 when the
// packet has none.
func ipTTL(pkt *layers.Packet) int {
	switch {
	case pkt.Has(layers.LayerIPv4):
		return int(pkt.IPv4.TTL)
	case pkt.Has(layers.LayerIPv6):
		return int(pkt.IPv6.HopLimit)
	}
	return 0
}
