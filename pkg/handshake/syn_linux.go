package handshake

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/layers"
	"golang.org/x/sys/unix"
)

// synProber sends SYNs it builds itself and reads the answers from a
// packet socket.
//
// All its SYNs leave from one source port, reserved for the prober's
// lifetime by a TCP socket bound to it (so no connection of this machine
// can be using it, and our reset cannot hurt one). That socket never
// listens, so when a SYN-ACK arrives the kernel finds no connection for
// it and answers with a reset of its own; the prober sends its reset
// too (seq = our ISN + 1), so the half-open connection is torn down even
// where a local firewall rule suppresses the kernel's. The server sees
// two resets; the second finds nothing and is ignored.
type synProber struct {
	o     SYNOptions
	pacer *Pacer
	port  uint16

	reserve  int // the TCP socket holding port
	raw4     int // IPPROTO_RAW sockets, -1 until needed
	raw6     int
	rawMu    sync.Mutex
	capture  *packetSocket
	recvDone chan struct{} // closed when receive ends
	recvErr  error         // why receive ended, when not by Close

	mu      sync.Mutex
	waiters map[synKey]chan synAnswer
	sources map[netip.Addr]netip.Addr
	waits   map[netip.Addr]*silentWait
}

// synKey names one outstanding SYN: the probed address and port and our
// ISN, which the SYN-ACK or reset acknowledges (ISN + 1) and an ICMP
// error quotes.
type synKey struct {
	addr netip.Addr
	port uint16
	isn  uint32
}

// synAnswer is what came back for a SYN.
type synAnswer struct {
	t        time.Time
	flags    layers.TCPFlags
	theirSeq uint32
	ttl      int // of a SYN-ACK or reset
	icmp     *ICMPError
}

func newSYNProber(o SYNOptions) (*synProber, error) {
	p := &synProber{
		o:        o,
		pacer:    NewPacer(o.Rate, nil),
		raw4:     -1,
		raw6:     -1,
		recvDone: make(chan struct{}),
		waiters:  make(map[synKey]chan synAnswer),
		sources:  make(map[netip.Addr]netip.Addr),
		waits:    make(map[netip.Addr]*silentWait),
	}
	// Raw sockets first: without the capability, say so before anything
	// else is set up.
	if _, err := p.rawSocket(true); err != nil {
		return nil, err
	}
	var err error
	if p.reserve, p.port, err = reservePort(); err != nil {
		p.closeRaw()
		return nil, err
	}
	if p.capture, err = openPacketSocket("--syn", 0, portFilter(p.port)); err != nil {
		unix.Close(p.reserve)
		p.closeRaw()
		return nil, err
	}
	go p.receive()
	return p, nil
}

// reservePort binds a TCP socket to an ephemeral port on every address,
// of both families when IPv6 is available.
func reservePort() (int, uint16, error) {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	var sa unix.Sockaddr = &unix.SockaddrInet6{}
	if err == nil {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
	}
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		if fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err != nil {
			return -1, 0, failure.Localf(err, "tcpprobe --syn: open a TCP socket: %v", err)
		}
		sa = &unix.SockaddrInet4{}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, 0, failure.Localf(err, "tcpprobe --syn: reserve a source port: %v", err)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return -1, 0, failure.Localf(err, "tcpprobe --syn: getsockname: %v", err)
	}
	switch a := got.(type) {
	case *unix.SockaddrInet6:
		return fd, uint16(a.Port), nil
	case *unix.SockaddrInet4:
		return fd, uint16(a.Port), nil
	}
	unix.Close(fd)
	return -1, 0, failure.Localf(nil, "tcpprobe --syn: getsockname returned %T", got)
}

// rawSocket returns the IPPROTO_RAW socket of a family, opening it on
// first use. Such a socket sends whole IP packets and receives nothing.
func (p *synProber) rawSocket(v4 bool) (int, error) {
	p.rawMu.Lock()
	defer p.rawMu.Unlock()
	fd, family := &p.raw6, unix.AF_INET6
	if v4 {
		fd, family = &p.raw4, unix.AF_INET
	}
	if *fd >= 0 {
		return *fd, nil
	}
	s, err := unix.Socket(family, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		if isPermission(err) {
			return -1, errNeedRaw("--syn", err)
		}
		return -1, failure.Localf(err, "tcpprobe --syn: open a raw socket: %v", err)
	}
	*fd = s
	return s, nil
}

func (p *synProber) closeRaw() {
	p.rawMu.Lock()
	defer p.rawMu.Unlock()
	for _, fd := range []*int{&p.raw4, &p.raw6} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
}

// Close stops the receiver and releases the sockets and the port.
func (p *synProber) Close() error {
	p.capture.file.SetReadDeadline(time.Unix(1, 0))
	<-p.recvDone
	p.capture.Close()
	unix.Close(p.reserve)
	p.closeRaw()
	return nil
}

// receive reads answers until Close and hands each to the probe waiting
// for it.
func (p *synProber) receive() {
	defer close(p.recvDone)
	var pkt layers.Packet
	for {
		rp, err := p.capture.read()
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, os.ErrClosed) {
				p.recvErr = err
			}
			return
		}
		p.handle(rp, &pkt)
	}
}

// handle decodes one packet from the packet socket and hands it to the
// probe it answers, if any: a SYN-ACK or reset to our port acknowledging
// an outstanding ISN, or an ICMP error quoting one of our SYNs.
func (p *synProber) handle(rp rawPacket, pkt *layers.Packet) {
	if rp.pkttype == unix.PACKET_OUTGOING {
		return
	}
	_ = pkt.Decode(layers.LinkTypeRaw, rp.data)
	switch {
	case pkt.Has(layers.LayerTCP):
		tcp := &pkt.TCP
		if tcp.DstPort != p.port || tcp.Flags&tcpACK == 0 || tcp.Flags&(tcpSYN|tcpRST) == 0 {
			return
		}
		p.deliver(synKey{pkt.Src(), tcp.SrcPort, tcp.Ack - 1}, synAnswer{t: rp.t, flags: tcp.Flags, theirSeq: tcp.Seq, ttl: ipTTL(pkt)})
	case pkt.Has(layers.LayerICMPv4) || pkt.Has(layers.LayerICMPv6):
		e, q, ok := icmpError(pkt)
		if !ok || q.Protocol != layers.IPProtocolTCP || !q.HasPorts || q.SrcPort != p.port {
			return
		}
		a := synAnswer{t: rp.t, icmp: e}
		if q.HasSeq {
			p.deliver(synKey{q.Dst, q.DstPort, q.Seq}, a)
		} else {
			p.deliverAny(q.Dst, q.DstPort, a)
		}
	}
}

func (p *synProber) deliver(k synKey, a synAnswer) {
	p.mu.Lock()
	ch, ok := p.waiters[k]
	p.mu.Unlock()
	if ok {
		select {
		case ch <- a:
		default: // a duplicate answer: the first one counts
		}
	}
}

// deliverAny hands an ICMP error that quotes too little to carry our ISN
// to every probe of that address and port.
func (p *synProber) deliverAny(addr netip.Addr, port uint16, a synAnswer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, ch := range p.waiters {
		if k.addr == addr && k.port == port {
			select {
			case ch <- a:
			default:
			}
		}
	}
}

// source returns (and remembers) the local address toward dst.
func (p *synProber) source(dst netip.Addr) (netip.Addr, error) {
	p.mu.Lock()
	src, ok := p.sources[dst]
	p.mu.Unlock()
	if ok {
		return src, nil
	}
	src, err := sourceAddr(dst)
	if err != nil {
		return src, err
	}
	p.mu.Lock()
	p.sources[dst] = src
	p.mu.Unlock()
	return src, nil
}

// silentWait returns the wait learnt for dst.
func (p *synProber) silentWait(dst netip.Addr) *silentWait {
	p.mu.Lock()
	defer p.mu.Unlock()
	w, ok := p.waits[dst]
	if !ok {
		w = newSilentWait(p.o.Timeout)
		p.waits[dst] = w
	}
	return w
}

// Probe sends a SYN, sends it once more when nothing came back within
// the host's retransmission timeout, and reports what answered, or
// filtered when the second SYN met silence too. The timeout is half the
// configured one until the host has answered other probes, then what its
// round trips suggest (see silentWait).
func (p *synProber) Probe(ctx context.Context, t Target, seq int) (Result, error) {
	r := Result{Target: t, Seq: seq}
	dst := t.Addr
	src, err := p.source(t.Addr)
	if err != nil {
		r.failed(failure.NoRoute, err.Error())
		return r, nil
	}
	fd, err := p.rawSocket(dst.Is4())
	if err != nil {
		return r, err
	}
	k := synKey{dst.WithZone(""), uint16(t.Port), rand.Uint32()}
	ch := make(chan synAnswer, 1)
	p.mu.Lock()
	p.waiters[k] = ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.waiters, k)
		p.mu.Unlock()
	}()

	syn, err := buildSegment(src.WithZone(""), k.addr, p.port, k.port, k.isn, 0, tcpSYN)
	if err != nil {
		return r, failure.Localf(err, "tcpprobe --syn: build the SYN: %v", err)
	}
	var sentAt time.Time
	send := func() (bool, error) {
		if err := p.pacer.Wait(ctx); err != nil {
			return false, err
		}
		sentAt = time.Now()
		return p.sendTo(fd, dst, syn, &r)
	}
	if done, err := send(); done || err != nil {
		r.RTT = time.Since(sentAt)
		return r, err
	}
	first, retransmitted := sentAt, false
	learnt := p.silentWait(k.addr)
	rto, changed := learnt.Current()
	timer := time.NewTimer(rto)
	defer timer.Stop()
	for {
		select {
		case a := <-ch:
			r.RTT = a.t.Sub(sentAt)
			if r.RTT <= 0 {
				r.RTT = time.Since(sentAt)
			}
			if a.icmp == nil && !retransmitted {
				learnt.Sample(r.RTT)
			}
			return r, p.answer(a, src, dst, k, &r)
		case <-changed:
			// The host has answered other probes: give the SYN in
			// flight the timeout its round trips suggest.
			rto, changed = learnt.Current()
			timer.Reset(time.Until(sentAt.Add(rto)))
		case <-timer.C:
			if !retransmitted {
				retransmitted = true
				if done, err := send(); done || err != nil {
					return r, err
				}
				rto, changed = learnt.Current()
				timer.Reset(rto)
				continue
			}
			r.Waited = time.Since(first)
			if learnt.Answered() {
				// Not a neighbour that never answered: no need to ask.
				r.failed(failure.Timeout, "no answer to two SYNs")
			} else {
				r.timedOut("no answer to two SYNs")
			}
			return r, nil
		case <-p.recvDone:
			return r, failure.Localf(p.recvErr, "tcpprobe --syn: read the packet socket: %v", p.recvErr)
		case <-ctx.Done():
			return r, ctx.Err()
		}
	}
}

// answer fills r from what came back; after a SYN-ACK it sends our reset.
func (p *synProber) answer(a synAnswer, src, dst netip.Addr, k synKey, r *Result) error {
	switch {
	case a.icmp != nil:
		r.fromICMP(a.icmp, isLocalAddr(a.icmp.From, localAddrs()))
	case a.flags&tcpRST != 0:
		r.failed(failure.Reset, "")
		r.TTL = a.ttl
	default:
		r.State, r.TTL = Open, a.ttl
		rst, err := buildSegment(src.WithZone(""), k.addr, p.port, k.port, k.isn+1, 0, tcpRST)
		if err != nil {
			return failure.Localf(err, "tcpprobe --syn: build the reset: %v", err)
		}
		fd, err := p.rawSocket(dst.Is4())
		if err != nil {
			return err
		}
		var ignored Result
		if _, err := p.sendTo(fd, dst, rst, &ignored); err != nil {
			return err
		}
	}
	return nil
}

// sendTo sends one packet. Errors the network is to blame for end the
// probe (done, with r filled); errors of this machine are returned.
func (p *synProber) sendTo(fd int, dst netip.Addr, pkt []byte, r *Result) (done bool, err error) {
	sa, err := sockaddr(dst, 0)
	if err != nil {
		return false, err
	}
	for attempt := 0; ; attempt++ {
		err = unix.Sendto(fd, pkt, 0, sa)
		if (err == unix.ENOBUFS || err == unix.EAGAIN) && attempt < 10 {
			// The interface queue is full: give it a moment.
			time.Sleep(time.Millisecond)
			continue
		}
		break
	}
	switch err {
	case nil:
		return false, nil
	case unix.ENETUNREACH, unix.EHOSTUNREACH:
		r.failed(failure.NoRoute, "sendto: "+err.Error())
		return true, nil
	case unix.EPERM, unix.EACCES:
		r.failed(failure.AdminProhibited, detailLocal)
		return true, nil
	}
	return false, failure.Localf(err, "tcpprobe --syn: send to %s: %v", dst, err)
}

// buildSegment builds an IP packet with a TCP segment without payload:
// a SYN carrying only an MSS option (as nmap's do), or a bare reset.
func buildSegment(src, dst netip.Addr, sport, dport uint16, seq, ack uint32, flags layers.TCPFlags) ([]byte, error) {
	tcp := layers.TCP{SrcPort: sport, DstPort: dport, Seq: seq, Ack: ack, Flags: flags}
	if flags&tcpSYN != 0 {
		tcp.Window = 64240
		mss := uint16(1460)
		if dst.Is6() {
			mss = 1440
		}
		tcp.Options = []layers.TCPOption{layers.TCPOptionMSSOf(mss)}
	}
	b := make([]byte, 0, 64)
	var err error
	if dst.Is4() {
		ip := layers.IPv4{TTL: 64, Protocol: layers.IPProtocolTCP, Src: src, Dst: dst, Flags: layers.IPv4DontFragment, ID: uint16(rand.Uint32())}
		b, err = ip.AppendTo(b, tcp.Len())
	} else {
		ip := layers.IPv6{HopLimit: 64, Protocol: layers.IPProtocolTCP, Src: src, Dst: dst}
		b, err = ip.AppendTo(b, tcp.Len())
	}
	if err != nil {
		return nil, err
	}
	return tcp.AppendTo(b, src, dst, nil)
}
