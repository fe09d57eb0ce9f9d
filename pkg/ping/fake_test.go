package ping

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/netdiag/netdiag/pkg/layers"
)

// sim is a simulated world for a run: a clock that jumps straight to the
// next thing due, and fake sockets whose replies the test schedules. The
// run's loop asks for its timer right before it blocks; at that moment the
// sim delivers exactly one thing, the earliest of a scheduled packet (or
// action) and the timer, so every test is deterministic and never sleeps.
type sim struct {
	mu    sync.Mutex
	now   time.Time
	timer *simTimer
	queue []scheduled
	conns [2]*fakeConn
}

type scheduled struct {
	at time.Time
	fn func()
}

func newSim() *sim {
	return &sim{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (s *sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// at schedules fn at time t (in order among equal times).
func (s *sim) at(t time.Time, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := len(s.queue)
	for i > 0 && s.queue[i-1].at.After(t) {
		i--
	}
	s.queue = slices.Insert(s.queue, i, scheduled{t, fn})
}

func (s *sim) NewTimer(d time.Duration) timer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timer = &simTimer{s: s, c: make(chan time.Time, 1), when: s.now.Add(d), armed: true}
	return s.timer
}

type simTimer struct {
	s     *sim
	c     chan time.Time
	when  time.Time
	armed bool
}

func (t *simTimer) C() <-chan time.Time { return t.c }

func (t *simTimer) Stop() {
	t.s.mu.Lock()
	t.armed = false
	t.s.mu.Unlock()
}

// Reset arms the timer and advances the world by one delivery.
func (t *simTimer) Reset(d time.Duration) {
	s := t.s
	s.mu.Lock()
	select {
	case <-t.c:
	default:
	}
	t.when, t.armed = s.now.Add(max(d, 0)), true
	if len(s.queue) > 0 && !s.queue[0].at.After(t.when) {
		next := s.queue[0]
		s.queue = s.queue[1:]
		if next.at.After(s.now) {
			s.now = next.at
		}
		s.mu.Unlock()
		next.fn()
		return
	}
	s.now = t.when
	t.armed = false
	t.c <- s.now
	s.mu.Unlock()
}

// sentRequest is an echo request a fake socket was asked to send,
// decoded with pkg/layers.
type sentRequest struct {
	at      time.Time
	dst     netip.Addr
	id, seq uint16
	payload []byte
}

// fakeConn is a socket in the sim. respond, if set, sees every request.
type fakeConn struct {
	s       *sim
	fam     int
	k       SocketKind
	id      uint16
	rx      chan *inbound
	closed  chan struct{}
	once    sync.Once
	sent    []sentRequest
	respond func(c *fakeConn, r sentRequest)
	sendErr func(dst netip.Addr) error
}

var errFakeClosed = errors.New("fake socket closed")

func (c *fakeConn) kind() SocketKind { return c.k }
func (c *fakeConn) ident() uint16    { return c.id }

func (c *fakeConn) close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func (c *fakeConn) recv(p *inbound) error {
	select {
	case q := <-c.rx:
		*p = *q
		p.readAt = c.s.Now()
		return nil
	case <-c.closed:
		return errFakeClosed
	}
}

func (c *fakeConn) send(msg []byte, dst netip.Addr) (time.Time, error) {
	at := c.s.Now()
	if c.sendErr != nil {
		if err := c.sendErr(dst); err != nil {
			return at, err
		}
	}
	r := sentRequest{at: at, dst: dst}
	if c.fam == 4 {
		var m layers.ICMPv4
		if err := m.DecodeFromBytes(msg); err != nil || m.Type != layers.ICMPv4EchoRequest || !m.VerifyChecksum() {
			panic("fake socket: not a valid echo request")
		}
		r.id, r.seq, r.payload = m.ID, m.Seq, slices.Clone(m.Data)
	} else {
		var m layers.ICMPv6
		if err := m.DecodeFromBytes(msg); err != nil || m.Type != layers.ICMPv6EchoRequest {
			panic("fake socket: not a valid echo request")
		}
		r.id, r.seq, r.payload = m.ID, m.Seq, slices.Clone(m.Data)
	}
	if c.k == SocketDatagram {
		r.id = c.id // the kernel's identifier replaces ours
	}
	c.sent = append(c.sent, r)
	if c.respond != nil {
		c.respond(c, r)
	}
	return at, nil
}

// replyOpts vary a reply the fake host sends.
type replyOpts struct {
	from    netip.Addr // default: the request's destination
	id      uint16     // default: the request's
	payload []byte     // default: the request's
	badSum  bool       // spoil the checksum
	ttl     uint8      // default 64
	queued  time.Duration
}

// reply schedules an echo reply to r after delay, built as bytes and
// decoded by the same code that decodes real sockets' reads.
func (c *fakeConn) reply(r sentRequest, delay time.Duration, o replyOpts) {
	if !o.from.IsValid() {
		o.from = r.dst
	}
	if o.id == 0 {
		o.id = r.id
	}
	if o.payload == nil {
		o.payload = r.payload
	}
	if o.ttl == 0 {
		o.ttl = 64
	}
	var b []byte
	p := &inbound{fam: c.fam, ttl: -1}
	if c.fam == 4 {
		m := layers.ICMPv4{Type: layers.ICMPv4EchoReply, ID: o.id, Seq: r.seq, Data: o.payload}
		msg := m.AppendTo(nil)
		if o.badSum {
			msg[2] ^= 0xff
		}
		ip := layers.IPv4{TTL: o.ttl, Protocol: layers.IPProtocolICMPv4, Src: o.from, Dst: netip.MustParseAddr("198.18.0.2")}
		b, _ = ip.AppendTo(nil, len(msg))
		b = append(b, msg...)
		if !decodeIPv4Packet(p, b) {
			panic("fake socket: reply does not decode")
		}
	} else {
		m := layers.ICMPv6{Type: layers.ICMPv6EchoReply, ID: o.id, Seq: r.seq, Data: o.payload}
		b = m.AppendTo(nil, netip.Addr{}, netip.Addr{})
		p.from, p.ttl = o.from, int(o.ttl)
		if !decodeMessage(p, 6, b) {
			panic("fake socket: reply does not decode")
		}
	}
	c.deliver(r.at.Add(delay), p, o.queued)
}

// icmpError schedules an ICMP error from router about request r.
func (c *fakeConn) icmpError(r sentRequest, delay time.Duration, router netip.Addr, typ, code uint8) {
	p := &inbound{fam: c.fam, ttl: -1}
	if c.fam == 4 {
		req := layers.ICMPv4{Type: layers.ICMPv4EchoRequest, ID: r.id, Seq: r.seq, Data: r.payload}
		reqMsg := req.AppendTo(nil)
		quoted := layers.IPv4{TTL: 1, Protocol: layers.IPProtocolICMPv4, Src: netip.MustParseAddr("198.18.0.2"), Dst: r.dst}
		q, _ := quoted.AppendTo(nil, len(reqMsg))
		q = append(q, reqMsg[:8]...) // RFC 792: the header and 8 bytes
		m := layers.ICMPv4{Type: layers.ICMPv4Type(typ), Code: code, Data: q}
		if typ == 3 && code == 4 {
			m.MTU = 1400
		}
		msg := m.AppendTo(nil)
		ip := layers.IPv4{TTL: 63, Protocol: layers.IPProtocolICMPv4, Src: router, Dst: netip.MustParseAddr("198.18.0.2")}
		b, _ := ip.AppendTo(nil, len(msg))
		if !decodeIPv4Packet(p, append(b, msg...)) {
			panic("fake socket: error does not decode")
		}
	} else {
		req := layers.ICMPv6{Type: layers.ICMPv6EchoRequest, ID: r.id, Seq: r.seq, Data: r.payload}
		reqMsg := req.AppendTo(nil, netip.Addr{}, netip.Addr{})
		quoted := layers.IPv6{HopLimit: 1, NextHeader: layers.IPProtocolICMPv6, Protocol: layers.IPProtocolICMPv6,
			Src: netip.MustParseAddr("2001:db8::2"), Dst: r.dst}
		q, err := quoted.AppendTo(nil, len(reqMsg))
		if err != nil {
			panic(err)
		}
		q = append(q, reqMsg...)
		m := layers.ICMPv6{Type: layers.ICMPv6Type(typ), Code: code, Data: q}
		if typ == 2 {
			m.MTU = 1400
		}
		p.from = router
		if !decodeMessage(p, 6, m.AppendTo(nil, netip.Addr{}, netip.Addr{})) {
			panic("fake socket: error does not decode")
		}
	}
	c.deliver(r.at.Add(delay), p, 0)
}

// deliver makes p arrive at t; queued is how long before the read the
// kernel stamped it.
func (c *fakeConn) deliver(t time.Time, p *inbound, queued time.Duration) {
	c.s.at(t, func() {
		p.kernelTS = t.Add(-queued)
		c.rx <- p
	})
}

// world is a test's sim with its fake sockets and the events of the run.
type world struct {
	*sim
	events []Event
	t      *testing.T
	// unresolvedHops maps a destination to its next hop when the fake
	// kernel's neighbour entry for that hop is unresolved; asked lists
	// the destinations the run asked about.
	unresolvedHops map[netip.Addr]netip.Addr
	asked          []netip.Addr
}

// unresolved is the run's neighbour check: the world's unresolvedHops.
func (w *world) unresolved(dst netip.Addr) (netip.Addr, bool, error) {
	w.asked = append(w.asked, dst)
	hop, ok := w.unresolvedHops[dst]
	return hop, ok, nil
}

func newWorld(t *testing.T, kind SocketKind) *world {
	w := &world{sim: newSim(), t: t}
	for i := range w.conns {
		w.conns[i] = &fakeConn{s: w.sim, fam: famOf(i), k: kind, id: 0x4242 + uint16(i),
			rx: make(chan *inbound, 4096), closed: make(chan struct{})}
	}
	return w
}

// listen is the run's socket factory: the world's fake sockets.
func (w *world) listen(fam int, o socketOptions) (conn, error) {
	c := w.conns[0]
	if fam == 6 {
		c = w.conns[1]
	}
	if c.k == SocketRaw {
		c.id = o.ident
	}
	return c, nil
}

// respond sets the same responder on both families.
func (w *world) respond(fn func(c *fakeConn, r sentRequest)) {
	for _, c := range w.conns {
		c.respond = fn
	}
}

// run runs cfg against targets in the world and returns the report.
func (w *world) run(ctx context.Context, cfg Config, targets ...Target) *Report {
	w.t.Helper()
	cfg.clock, cfg.listen, cfg.localAddrs, cfg.unresolved = w.sim, w.listen, clientAddrs, w.unresolved
	cfg.OnEvent = func(e Event) { w.events = append(w.events, e) }
	rep, err := Run(ctx, targets, cfg)
	if err != nil {
		w.t.Fatalf("Run: %v", err)
	}
	return rep
}

// kinds lists the events' kinds with their sequence numbers, like
// "reply 1", "timeout 2".
func (w *world) kinds() []string {
	var out []string
	for _, e := range w.events {
		out = append(out, e.Kind.String()+" "+strconv.Itoa(e.Seq))
	}
	return out
}

// clientAddrs are the fake machine's own addresses, the source of the
// requests the fake sockets decode.
func clientAddrs() []netip.Addr {
	return []netip.Addr{netip.MustParseAddr("198.18.0.2"), netip.MustParseAddr("2001:db8::2")}
}

func target(s string) Target { return Target{Name: s, Addr: netip.MustParseAddr(s)} }

// runUntil carries out everything scheduled up to limit, in order, and
// leaves the clock at limit. For tests that drive a session directly.
func (s *sim) runUntil(limit time.Time) {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 || s.queue[0].at.After(limit) {
			s.now = limit
			s.mu.Unlock()
			return
		}
		next := s.queue[0]
		s.queue = s.queue[1:]
		s.now = next.at
		s.mu.Unlock()
		next.fn()
	}
}
