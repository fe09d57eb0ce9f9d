package netlab

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Reply says how the responder answers one echo request. The zero Reply
// is an ordinary, immediate echo reply.
type Reply struct {
	// Delay postpones the reply (every copy) by this much after the
	// request arrived, on a timer of its own, so other requests are not
	// held up. A Delay longer than the client's timeout makes a late reply.
	Delay time.Duration
	// Copies is the number of replies sent; 0 and 1 both mean one, 3 means
	// the reply and two duplicates.
	Copies int
	// BadChecksum sends the reply with its ICMP checksum inverted.
	BadChecksum bool
	// ForeignID replies with the request's identifier inverted, as if the
	// reply belonged to another process.
	ForeignID bool
	// ChangePayload inverts the last byte of the echoed data (or adds a
	// byte when there is none); the checksum is correct for the changed
	// data. The last byte, because ping programs keep their send
	// timestamp at the start of the data.
	ChangePayload bool
	// Drop sends nothing: the request is lost.
	Drop bool
}

// Echo is an echo request the responder received, with what it did.
type Echo struct {
	// Index counts requests in arrival order, from 0, both families
	// together.
	Index int
	// Time is when the responder read the request; Arrived is when the
	// kernel received it (zero if the kernel gave no timestamp). A Delay
	// runs from Arrived when it is known.
	Time, Arrived time.Time
	// Replied is when the first reply was handed to the socket (zero
	// while none was): Replied - Arrived is how long the responder really
	// held the request, however late a busy machine ran its timer.
	Replied time.Time
	// From is the sender; To the address the request was sent to.
	From, To netip.Addr
	// ID and Seq are the request's identifier and sequence number.
	ID, Seq int
	// Payload is the request's data.
	Payload []byte
	// Reply is what the plan chose for the request.
	Reply Reply
}

// Plan chooses the Reply for each request. It runs on the responder's
// read goroutines, one request at a time per address family.
type Plan func(Echo) Reply

// Always answers every request with r.
func Always(r Reply) Plan { return func(Echo) Reply { return r } }

// DropEvery loses every nth request by arrival (the nth, 2nth, ...) and
// answers the others with r.
func DropEvery(n int, r Reply) Plan {
	return func(e Echo) Reply {
		if n > 0 && (e.Index+1)%n == 0 {
			return Reply{Drop: true}
		}
		return r
	}
}

// DropSeqs loses the requests with the given sequence numbers and answers
// the others with r.
func DropSeqs(r Reply, seqs ...int) Plan {
	return func(e Echo) Reply {
		if slices.Contains(seqs, e.Seq) {
			return Reply{Drop: true}
		}
		return r
	}
}

// maxEchoes bounds the requests a responder remembers; Count goes on.
const maxEchoes = 1 << 16

// replyHopLimit is the TTL / hop limit of the responder's replies, the
// Linux default.
const replyHopLimit = 64

// Responder is a userspace ICMP echo responder on a host whose kernel
// no longer answers pings itself. It serves IPv4 and IPv6 on every
// address of the host until the test's cleanup (or Stop).
type Responder struct {
	node *Node
	c4   *net.IPConn
	c6   *net.IPConn
	p4   *ipv4.PacketConn
	p6   *ipv6.PacketConn
	raw6 rawIPv6

	wg sync.WaitGroup

	mu       sync.Mutex
	plan     Plan
	echoes   []Echo
	count    int
	timers   map[*time.Timer]struct{}
	sendErrs []error
	closed   bool
}

// StartResponder switches the node's kernel echo off
// (net.ipv4.icmp_echo_ignore_all=1, net.ipv6.icmp.echo_ignore_all=1) and
// answers echo requests in userspace as plan says (nil: ordinary replies).
// Start at most one per host: each would answer every request.
// It reads requests on raw ICMP sockets. IPv4 replies are built whole,
// checksum included; IPv6 replies go out on the raw ICMPv6 socket, whose
// checksum the Linux kernel always computes itself (RFC 3542; the
// IPV6_CHECKSUM option cannot turn that off for ICMPv6), so a reply with
// a bad ICMPv6 checksum is sent on an IPPROTO_RAW socket with an IPv6
// header built here. Note that the receiving kernel verifies ICMPv6
// checksums before any socket sees the packet: a client never receives
// such a reply, it is lost (unlike IPv4, where raw sockets get it).
func (n *Node) StartResponder(t testing.TB, plan Plan) *Responder {
	t.Helper()
	if plan == nil {
		plan = Always(Reply{})
	}
	r := &Responder{node: n, plan: plan, timers: map[*time.Timer]struct{}{}}
	err := n.setSysctls([][2]string{
		{"net.ipv4.icmp_echo_ignore_all", "1"},
		{"net.ipv6.icmp.echo_ignore_all", "1"},
	})
	if err == nil {
		err = n.Do(r.open)
	}
	if err != nil {
		r.closeSockets()
		t.Fatalf("netlab: %s: start ICMP responder: %v", n.Name, err)
	}
	r.wg.Add(2)
	go r.serve4()
	go r.serve6()
	t.Cleanup(r.Stop)
	return r
}

// open creates the sockets; it runs inside the namespace.
func (r *Responder) open() error {
	c4, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		return err
	}
	r.c4 = c4.(*net.IPConn)
	c6, err := net.ListenPacket("ip6:ipv6-icmp", "::")
	if err != nil {
		return err
	}
	r.c6 = c6.(*net.IPConn)
	// Free binding lets replies leave from addresses the host answers for
	// without owning them (AddLocalPrefix): IPv6 refuses such a source in
	// IPV6_PKTINFO otherwise.
	if err := setFreebind(r.c4, false); err != nil {
		return err
	}
	if err := setFreebind(r.c6, true); err != nil {
		return err
	}
	if r.raw6, err = openRawIPv6(); err != nil {
		return err
	}
	r.p4 = ipv4.NewPacketConn(r.c4)
	if err := r.p4.SetControlMessage(ipv4.FlagDst, true); err != nil {
		return err
	}
	var f4 ipv4.ICMPFilter
	f4.SetAll(true)
	f4.Accept(ipv4.ICMPTypeEcho)
	if err := r.p4.SetICMPFilter(&f4); err != nil {
		return err
	}
	// Turn the kernel's receive timestamps on (lastArrival).
	lastArrival(r.c4)
	lastArrival(r.c6)
	r.p6 = ipv6.NewPacketConn(r.c6)
	if err := r.p6.SetControlMessage(ipv6.FlagDst, true); err != nil {
		return err
	}
	var f6 ipv6.ICMPFilter
	f6.SetAll(true)
	f6.Accept(ipv6.ICMPTypeEchoRequest)
	return r.p6.SetICMPFilter(&f6)
}

func (r *Responder) closeSockets() {
	if r.c4 != nil {
		r.c4.Close()
	}
	if r.c6 != nil {
		r.c6.Close()
	}
	r.raw6.close()
}

// Stop closes the sockets, cancels replies still waiting for their delay
// and waits for the responder's goroutines. The kernel echo stays off.
func (r *Responder) Stop() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	for tm := range r.timers {
		if tm.Stop() {
			r.wg.Done()
		}
	}
	r.timers = nil
	r.mu.Unlock()
	r.c4.Close()
	r.c6.Close()
	r.wg.Wait()
	r.raw6.close()
}

// SetPlan replaces the plan for requests that arrive from now on.
func (r *Responder) SetPlan(p Plan) {
	if p == nil {
		p = Always(Reply{})
	}
	r.mu.Lock()
	r.plan = p
	r.mu.Unlock()
}

// Received returns the requests received so far (the first 65,536).
func (r *Responder) Received() []Echo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Echo, len(r.echoes))
	for i, e := range r.echoes {
		e.Payload = slices.Clone(e.Payload)
		out[i] = e
	}
	return out
}

// Count returns how many requests arrived.
func (r *Responder) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count
}

// Err returns the errors of replies that could not be sent.
func (r *Responder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.Join(r.sendErrs...)
}

func (r *Responder) serve4() {
	defer r.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, cm, src, err := r.p4.ReadFrom(buf)
		if err != nil {
			return // closed by Stop
		}
		var to netip.Addr
		if cm != nil {
			to, _ = netip.AddrFromSlice(cm.Dst.To4())
		}
		from := addrOf(src)
		r.handle(ipv4.ICMPTypeEchoReply, buf[:n], from, to, lastArrival(r.c4), func(b []byte, rep Reply) error {
			if rep.BadChecksum {
				b[2] ^= 0xff
				b[3] ^= 0xff
			}
			var cmOut *ipv4.ControlMessage
			if to.IsValid() {
				cmOut = &ipv4.ControlMessage{Src: to.AsSlice()}
			}
			_, err := r.p4.WriteTo(b, cmOut, &net.IPAddr{IP: from.AsSlice()})
			return err
		})
	}
}

func (r *Responder) serve6() {
	defer r.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, cm, src, err := r.p6.ReadFrom(buf)
		if err != nil {
			return
		}
		var to netip.Addr
		if cm != nil {
			to, _ = netip.AddrFromSlice(cm.Dst.To16())
		}
		from := addrOf(src)
		r.handle(ipv6.ICMPTypeEchoReply, buf[:n], from, to, lastArrival(r.c6), func(b []byte, rep Reply) error {
			if rep.BadChecksum {
				if !to.IsValid() {
					return errors.New("no destination address to build an IPv6 header from")
				}
				sum := icmpv6Checksum(to, from, b)
				b[2], b[3] = byte(^sum>>8), byte(^sum)
				return r.raw6.send(to, from, replyHopLimit, b)
			}
			var cmOut *ipv6.ControlMessage
			if to.IsValid() {
				cmOut = &ipv6.ControlMessage{Src: to.AsSlice(), HopLimit: replyHopLimit}
			}
			_, err := r.p6.WriteTo(b, cmOut, &net.IPAddr{IP: from.AsSlice()})
			return err
		})
	}
}

func addrOf(a net.Addr) netip.Addr {
	ia, ok := a.(*net.IPAddr)
	if !ok {
		return netip.Addr{}
	}
	ip, _ := netip.AddrFromSlice(ia.IP)
	return ip.Unmap()
}

// handle parses a request, asks the plan, records it and schedules the
// replies. send writes one marshalled reply (the checksum field is filled
// for IPv4, zero for IPv6, where the kernel fills it).
func (r *Responder) handle(replyType icmp.Type, pkt []byte, from, to netip.Addr, arrived time.Time, send func([]byte, Reply) error) {
	proto := 1
	if replyType == ipv6.ICMPTypeEchoReply {
		proto = 58
	}
	m, err := icmp.ParseMessage(proto, pkt)
	if err != nil {
		return
	}
	req, ok := m.Body.(*icmp.Echo)
	if !ok {
		return
	}
	e := Echo{Time: time.Now(), Arrived: arrived, From: from, To: to, ID: req.ID, Seq: req.Seq, Payload: slices.Clone(req.Data)}

	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	// Both families' goroutines number requests from one counter; the
	// number and the request's place in echoes are taken together, and
	// the place is filled in once the plan has chosen.
	e.Index = r.count
	r.count++
	if len(r.echoes) < maxEchoes {
		r.echoes = append(r.echoes, Echo{})
	}
	plan := r.plan
	r.mu.Unlock()
	rep := plan(e)
	e.Reply = rep
	r.mu.Lock()
	if e.Index < len(r.echoes) {
		r.echoes[e.Index] = e
	}
	r.mu.Unlock()

	if rep.Drop {
		return
	}
	body := &icmp.Echo{ID: req.ID, Seq: req.Seq, Data: slices.Clone(req.Data)}
	if rep.ForeignID {
		body.ID = ^req.ID & 0xffff
	}
	if rep.ChangePayload {
		if len(body.Data) == 0 {
			body.Data = []byte{0xff}
		} else {
			body.Data[len(body.Data)-1] ^= 0xff
		}
	}
	reply := icmp.Message{Type: replyType, Body: body}
	b, err := reply.Marshal(nil)
	if err != nil {
		r.recordErr(err)
		return
	}
	copies := max(rep.Copies, 1)
	start := e.Time
	if !e.Arrived.IsZero() {
		start = e.Arrived
	}
	for range copies {
		pkt := slices.Clone(b)
		do := func() {
			r.replied(e.Index, time.Now())
			if err := send(pkt, rep); err != nil {
				r.recordErr(fmt.Errorf("reply to %s seq %d: %w", from, req.Seq, err))
			}
		}
		if rep.Delay <= 0 {
			do()
		} else {
			r.after(start, rep.Delay, do)
		}
	}
}

// replied records when the first reply to request i went to the socket.
func (r *Responder) replied(i int, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i < len(r.echoes) && r.echoes[i].Replied.IsZero() {
		r.echoes[i].Replied = at
	}
}

// after runs f at start+d on a timer that Stop can cancel.
func (r *Responder) after(start time.Time, d time.Duration, f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.wg.Add(1)
	var tm *time.Timer
	tm = time.AfterFunc(time.Until(start.Add(d)), func() {
		defer r.wg.Done()
		r.mu.Lock()
		closed := r.closed
		delete(r.timers, tm)
		r.mu.Unlock()
		if !closed {
			f()
		}
	})
	r.timers[tm] = struct{}{}
}

func (r *Responder) recordErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed && len(r.sendErrs) < 16 {
		r.sendErrs = append(r.sendErrs, err)
	}
}

// icmpv6Checksum computes the ICMPv6 checksum of msg (checksum field
// zero) over the RFC 8200 pseudo-header.
func icmpv6Checksum(src, dst netip.Addr, msg []byte) uint16 {
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	s, d := src.As16(), dst.As16()
	add(s[:])
	add(d[:])
	l := uint32(len(msg))
	add([]byte{byte(l >> 24), byte(l >> 16), byte(l >> 8), byte(l), 0, 0, 0, 58})
	add(msg)
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
