package ping

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
)

// probeState is where one echo request stands.
type probeState uint8

const (
	stWaiting  probeState = iota // sent, no answer yet, within its timeout
	stAnswered                   // a good reply came in time
	stTimedOut                   // the timeout passed without a good reply
	stLate                       // a good reply came after the timeout
	stFailed                     // an ICMP error settled it
)

// probe is one echo request, kept from its send until it is forgotten: its
// timeout plus a linger time during which late and duplicate replies are
// still recognised by their records.
type probe struct {
	target int
	fam    int // 0 IPv4, 1 IPv6
	seq    int
	wire   uint16
	sent   time.Time
	stamp  time.Duration // sent - start, as written in the payload
	state  probeState
}

// targetState is everything a run keeps about one target: counters and
// streaming statistics, never the list of its probes.
type targetState struct {
	Target
	fam      int
	seq      int // the last sequence number sent
	stats    Stats
	rtt      rttStats
	inflight int  // probes waiting for their reply or timeout
	up       bool // a good reply has come
	errs     errorTally
}

// errorTally counts a target's errors by reason and reporter, keeping at
// most maxTally distinct ones: enough for a diagnosis in bounded memory.
type errorTally []errorCount

type errorCount struct {
	f *failure.Failure
	n int
}

const maxTally = 8

func (t *errorTally) add(f *failure.Failure) {
	for i := range *t {
		if e := &(*t)[i]; e.f.Reason == f.Reason && e.f.From == f.From {
			e.n++
			return
		}
	}
	if len(*t) < maxTally {
		*t = append(*t, errorCount{f, 1})
	}
}

// top is the most frequent error, the first seen among equals.
func (t errorTally) top() *failure.Failure {
	var best *errorCount
	for i := range t {
		if best == nil || t[i].n > best.n {
			best = &t[i]
		}
	}
	if best == nil {
		return nil
	}
	return best.f
}

// session is the state machine of a run: it sends probes on schedule,
// matches what comes back, expires and forgets probes. It does no waiting
// and starts no goroutines: the loop in Run (or a test) feeds it the time
// and the packets.
type session struct {
	cfg      Config
	start    time.Time
	deadline time.Time // zero: none
	tok      token
	targets  []targetState
	byAddr   map[netip.Addr]int  // the first target of each address
	local    map[netip.Addr]bool // this machine's addresses
	conns    [2]conn
	wire     [2]uint16
	pending  [2]map[uint16]*probe
	waiting  fifo // probes before their timeout, in send order
	kept     fifo // probes after their timeout, until forgotten
	linger   time.Duration
	sched    schedule
	limit    limiter
	round    int
	next     int // the next target within the round
	sendDone bool
	// wrapped is set once a family's sequence numbers have come round.
	wrapped [2]bool
	// resume, when set, holds sending back until then: the local stack
	// had no buffer for the last request (busySince: since when), or the
	// next sequence number still belongs to a remembered probe.
	resume, busySince time.Time
	payload           []byte
	msg               []byte
	emit              func(Event)

	deadlineHit bool
	fatal       error
}

func newSession(cfg Config, targets []Target, conns [2]conn, start time.Time, tok token) *session {
	s := &session{cfg: cfg, start: start, tok: tok, conns: conns, emit: cfg.OnEvent,
		byAddr: make(map[netip.Addr]int, len(targets))}
	if s.emit == nil {
		s.emit = func(Event) {}
	}
	if cfg.Deadline > 0 {
		s.deadline = start.Add(cfg.Deadline)
	}
	s.targets = make([]targetState, len(targets))
	for i, t := range targets {
		s.targets[i] = targetState{Target: t, fam: famIndex(t.Addr)}
		key := t.Addr.WithZone("")
		if _, dup := s.byAddr[key]; !dup {
			s.byAddr[key] = i
		}
	}
	for i := range s.pending {
		s.pending[i] = map[uint16]*probe{}
	}
	s.local = map[netip.Addr]bool{}
	if cfg.localAddrs != nil {
		for _, a := range cfg.localAddrs() {
			s.local[a] = true
		}
	}
	s.linger = max(cfg.Timeout, 3*time.Second)
	s.sched = newSchedule(cfg.Interval, cfg.Rate, len(targets))
	s.limit = newLimiter(cfg.Rate)
	s.payload = make([]byte, cfg.Size)
	s.msg = make([]byte, 0, 8+cfg.Size)
	return s
}

// step does everything due at now: expiring timeouts, forgetting old
// probes and sending the probes whose time has come.
func (s *session) step(now time.Time) {
	s.expire(now)
	s.sendDue(now)
}

// nextSend is the time of the next probe on the schedule.
func (s *session) nextSend() time.Time {
	return s.start.Add(time.Duration(s.round)*s.sched.round + time.Duration(s.next)*s.sched.gap)
}

func (s *session) sendDue(now time.Time) {
	for !s.sendDone && s.fatal == nil && !now.Before(s.resume) && !now.Before(s.limit.allowed()) {
		at := s.nextSend()
		if at.After(now) {
			return
		}
		if !s.deadline.IsZero() && !at.Before(s.deadline) {
			s.sendDone = true
			return
		}
		ti := s.next
		if !(s.cfg.UntilUp && s.targets[ti].up) && !s.send(ti, now) {
			return
		}
		s.next++
		if s.next == len(s.targets) {
			s.next = 0
			s.round++
			if s.cfg.Count > 0 && s.round >= s.cfg.Count {
				s.sendDone = true
			}
		}
	}
}

// sendRetry is how long sending pauses when the local stack has no buffer
// for a request (its output queue is full): the request is tried again
// then, and the schedule catches up. A request that finds no buffer for a
// whole timeout ends the run with a local error.
const sendRetry = 10 * time.Millisecond

// send sends target ti's next probe. It returns false when it could not
// go yet: the local stack had no buffer for it (it is due again after
// sendRetry), or its sequence number still belongs to a remembered probe
// (it waits until that one is forgotten). Nothing was sent and nothing
// counted.
func (s *session) send(ti int, now time.Time) bool {
	t := &s.targets[ti]
	c := s.conns[t.fam]
	wire := s.wire[t.fam] + 1
	if old := s.pending[t.fam][wire]; old != nil {
		// 65,536 requests of this family within one probe's timeout
		// plus linger: the number comes round while a reply to its last
		// holder may still arrive. Sending waits for that probe to be
		// forgotten rather than take a slow reply to it for a corrupt
		// reply to the new one.
		s.resume = old.sent.Add(s.cfg.Timeout + s.linger)
		return false
	}
	p := &probe{target: ti, fam: t.fam, seq: t.seq + 1, wire: wire, stamp: s.cfg.clock.Now().Sub(s.start)}
	fillPayload(s.payload, s.tok, p.stamp)
	s.msg = appendEcho(s.msg[:0], famOf(t.fam), c.ident(), wire, s.payload)
	at, err := c.send(s.msg, t.Addr)
	if errors.Is(err, errBusy) {
		if s.busySince.IsZero() {
			s.busySince = now
		}
		if now.Sub(s.busySince) >= s.cfg.Timeout {
			s.fatal = failure.Localf(err, "ping: cannot send to %s: this machine has had no buffer for a request for %s (%s)", t.Addr, s.cfg.Timeout, errText(err))
			return false
		}
		s.resume = now.Add(sendRetry)
		return false
	}
	s.busySince, s.resume = time.Time{}, time.Time{}
	s.limit.sent(now)
	s.wire[t.fam] = wire
	s.wrapped[t.fam] = s.wrapped[t.fam] || wire == 0
	t.seq++
	t.stats.Transmitted++
	p.sent = at
	if err != nil {
		var f *failure.Failure
		if !errors.As(err, &f) {
			s.fatal = failure.Localf(err, "ping: cannot send to %s: %s", t.Addr, errText(err))
			return true
		}
		t.stats.Errors++
		t.errs.add(f)
		s.emit(Event{Kind: EventLocalError, Index: ti, Target: t.Target, Seq: p.seq, Failure: f})
		return true
	}
	t.inflight++
	s.pending[t.fam][wire] = p
	s.waiting.push(p)
	return true
}

// expire times out the probes whose timeout has passed and forgets those
// whose linger time has passed too.
func (s *session) expire(now time.Time) {
	for p := s.waiting.peek(); p != nil && !now.Before(p.sent.Add(s.cfg.Timeout)); p = s.waiting.peek() {
		s.waiting.pop()
		if p.state == stWaiting {
			p.state = stTimedOut
			t := &s.targets[p.target]
			t.inflight--
			s.emit(Event{Kind: EventTimeout, Index: p.target, Target: t.Target, Seq: p.seq})
		}
		s.kept.push(p)
	}
	for p := s.kept.peek(); p != nil && !now.Before(p.sent.Add(s.cfg.Timeout+s.linger)); p = s.kept.peek() {
		s.kept.pop()
		if s.pending[p.fam][p.wire] == p {
			delete(s.pending[p.fam], p.wire)
		}
	}
}

// wake is when step next has something to do.
func (s *session) wake(now time.Time) time.Time {
	w := now.Add(time.Hour)
	if !s.sendDone {
		w = earliest(w, latest(latest(s.nextSend(), s.resume), s.limit.allowed()))
	}
	if p := s.waiting.peek(); p != nil {
		w = earliest(w, p.sent.Add(s.cfg.Timeout))
	}
	if p := s.kept.peek(); p != nil {
		w = earliest(w, p.sent.Add(s.cfg.Timeout+s.linger))
	}
	if !s.deadline.IsZero() {
		w = earliest(w, s.deadline)
	}
	return w
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// finished reports whether the run is over: a fatal error, the deadline,
// or every probe sent and settled (with --until-up, every target up).
func (s *session) finished(now time.Time) bool {
	if s.fatal != nil {
		return true
	}
	if !s.deadline.IsZero() && !now.Before(s.deadline) {
		s.deadlineHit = true
		return true
	}
	if s.cfg.UntilUp && s.allUp() {
		s.sendDone = true
	}
	if !s.sendDone {
		return false
	}
	for i := range s.targets {
		t := &s.targets[i]
		if t.inflight > 0 && !(s.cfg.UntilUp && t.up) {
			return false
		}
	}
	return true
}

func (s *session) allUp() bool {
	for i := range s.targets {
		if !s.targets[i].up {
			return false
		}
	}
	return true
}

// handle matches one packet read from a socket to its probe.
func (s *session) handle(p *inbound) {
	fi := 0
	if p.fam == 6 {
		fi = 1
	}
	c := s.conns[fi]
	if c == nil || p.id != c.ident() {
		return
	}
	switch p.kind {
	case inReply:
		s.onReply(fi, p)
	case inError:
		s.onError(fi, p)
	}
}

func (s *session) onReply(fi int, p *inbound) {
	pr := s.pending[fi][p.seq]
	if pr == nil {
		s.onUnknownReply(p)
		return
	}
	t := &s.targets[pr.target]
	ev := Event{Index: pr.target, Target: t.Target, Seq: pr.seq, TTL: p.ttl, Bytes: p.bytes, From: p.from}
	why := ""
	if p.badSum {
		why = "bad checksum"
	} else {
		switch checkPayload(p.payload, s.cfg.Size, s.tok, pr.stamp) {
		case payloadForeign:
			return
		case payloadChanged:
			if s.earlierHolder(fi, p, pr) {
				s.onUnknownReply(p)
				return
			}
			why = "payload changed"
		case payloadLength:
			why = fmt.Sprintf("payload of %d bytes, %d sent", len(p.payload), s.cfg.Size)
		}
	}
	if why != "" {
		t.stats.Corrupt++
		ev.Kind, ev.Why = EventCorrupt, why
		s.emit(ev)
		return
	}
	ev.RTT = rttOf(pr.sent, p)
	switch pr.state {
	case stWaiting:
		pr.state = stAnswered
		t.inflight--
		t.stats.Received++
		t.rtt.add(ev.RTT)
		t.up = true
		ev.Kind = EventReply
	case stAnswered, stLate:
		t.stats.Duplicates++
		ev.Kind = EventDuplicate
	case stTimedOut, stFailed:
		pr.state = stLate
		s.late(t, ev.RTT)
		ev.Kind = EventLate
	}
	s.emit(ev)
}

// earlierHolder reports whether a reply that does not match probe pr,
// the current holder of its sequence number, is intact and answers an
// earlier request with that number: once the numbers have come round, a
// reply slower than timeout plus linger finds its number taken by a newer
// probe. Its payload then carries our token, the pattern and an earlier
// send time.
func (s *session) earlierHolder(fi int, p *inbound, pr *probe) bool {
	if !s.wrapped[fi] {
		return false
	}
	stamp, ok := payloadStamp(p.payload, s.cfg.Size, s.tok)
	return ok && stamp < pr.stamp
}

func (s *session) late(t *targetState, rtt time.Duration) {
	t.stats.Late++
	t.stats.SlowestLate = max(t.stats.SlowestLate, rtt)
}

// onUnknownReply handles a reply whose probe is forgotten: if its payload
// carries our token and a send time, it is a late reply (its sequence
// number is no longer known, so the event's Seq is 0).
func (s *session) onUnknownReply(p *inbound) {
	ti, ok := s.byAddr[p.from.WithZone("")]
	if !ok || p.badSum {
		return
	}
	stamp, ok := payloadStamp(p.payload, s.cfg.Size, s.tok)
	if !ok {
		return
	}
	rtt := rttOf(s.start.Add(stamp), p)
	if rtt <= s.cfg.Timeout {
		return
	}
	t := &s.targets[ti]
	s.late(t, rtt)
	s.emit(Event{Kind: EventLate, Index: ti, Target: t.Target, RTT: rtt, TTL: p.ttl, Bytes: p.bytes, From: p.from})
}

func (s *session) onError(fi int, p *inbound) {
	pr := s.pending[fi][p.seq]
	if pr == nil {
		return
	}
	t := &s.targets[pr.target]
	if p.dst.IsValid() && p.dst.WithZone("") != t.Addr.WithZone("") {
		return
	}
	fam := famOf(fi)
	reason, ok := icmpReason(fam, p.icmpType, p.icmpCode)
	if !ok {
		return
	}
	text := icmpText(fam, p.icmpType, p.icmpCode)
	detail := fmt.Sprintf("icmp %d/%d", p.icmpType, p.icmpCode)
	if fam == 6 {
		detail = fmt.Sprintf("icmpv6 %d/%d", p.icmpType, p.icmpCode)
	}
	if reason == failure.HostUnreachable && s.local[p.from.WithZone("")] {
		// This machine reports its own failed ARP or neighbour
		// discovery for the next hop as "host unreachable": the probe
		// never left the local link.
		reason = failure.NeighborUnresolved
		detail += " from this machine: no ARP or neighbour discovery answer"
	}
	if p.mtu > 0 {
		detail += fmt.Sprintf(", next-hop MTU %d", p.mtu)
	}
	f := failure.New(reason, detail)
	if p.from.IsValid() {
		f.From = p.from.String()
	}
	t.stats.Errors++
	t.errs.add(f)
	if pr.state == stWaiting {
		pr.state = stFailed
		t.inflight--
	}
	s.emit(Event{Kind: EventICMPError, Index: pr.target, Target: t.Target, Seq: pr.seq, From: p.from, RTT: rttOf(pr.sent, p),
		ICMPType: p.icmpType, ICMPCode: p.icmpCode, MTU: p.mtu, Message: text, Failure: f})
}

// rttOf is the round-trip time of a reply to a request sent at sent. The
// send time is the clock's monotonic reading; the kernel stamps the reply
// with the wall clock. The time the reply waited in the socket (read time
// minus kernel stamp, both wall clock, a short span a clock step is very
// unlikely to fall into) is taken off the monotonic span from send to
// read. A stamp that makes no sense (a step did fall in) is ignored.
func rttOf(sent time.Time, p *inbound) time.Duration {
	d := p.readAt.Sub(sent)
	if !p.kernelTS.IsZero() {
		if queued := p.readAt.Round(0).Sub(p.kernelTS); queued >= 0 && queued <= d {
			d -= queued
		}
	}
	return d
}
