package diagnose

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/ping"
)

// DefaultMaxHops is how far the path probe looks: enough for the routers
// near this machine, where most faults a user can act on sit, and for a
// routing loop to show itself twice.
const DefaultMaxHops = 8

// hopStagger spaces the sends of consecutive TTLs, so that the lower TTLs
// go first: a router's limiter for ICMP errors then spends its tokens on
// the hops nearest to us.
const hopStagger = 2 * time.Millisecond

// PathOptions configure ProbePath.
type PathOptions struct {
	// MaxHops is the highest TTL (hop limit) probed; zero means
	// DefaultMaxHops.
	MaxHops int
	// Timeout is how long each hop's answer is awaited; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Socket chooses the ICMP socket kind.
	Socket ping.SocketKind
}

// Hop is what one TTL-limited echo request brought back.
type Hop struct {
	// TTL is the request's TTL (IPv6 hop limit).
	TTL int
	// From is who answered: a router with an ICMP error, or the
	// destination with its echo reply. Invalid when nothing came back.
	From netip.Addr
	// Reply is set when the destination itself answered.
	Reply bool
	// RTT is the time from the request to its answer: the reply, or the
	// router's ICMP error.
	RTT time.Duration
	// Failure is the ICMP error's meaning: ttl-exceeded for a router on
	// the way, anything else for the place where packets stop.
	Failure *failure.Failure
	// Message is the ICMP error's name in words ("time exceeded").
	Message string
}

// Answered reports whether anything came back for this hop.
func (h Hop) Answered() bool { return h.Reply || h.Failure != nil }

// Transit reports whether a router passed on its time-exceeded error:
// the packet got this far and was on its way further.
func (h Hop) Transit() bool { return h.Failure != nil && h.Failure.Reason == failure.TTLExceeded }

// ends reports whether the hop is where the path ends: the destination's
// reply, or an error other than time exceeded.
func (h Hop) ends() bool { return h.Answered() && !h.Transit() }

// String renders the hop as "hop 1: 198.18.0.1 time exceeded (TTL
// exceeded in transit) in 0.081 ms".
func (h Hop) String() string {
	switch {
	case h.Reply:
		return fmt.Sprintf("hop %d: %s echo reply in %s", h.TTL, h.From, fmtMs(h.RTT))
	case h.Failure != nil && h.From.IsValid() && h.RTT > 0:
		return fmt.Sprintf("hop %d: %s %s in %s", h.TTL, h.From, h.Message, fmtMs(h.RTT))
	case h.Failure != nil && h.From.IsValid():
		return fmt.Sprintf("hop %d: %s %s", h.TTL, h.From, h.Message)
	case h.Failure != nil:
		return fmt.Sprintf("hop %d: %s", h.TTL, h.Failure.Reason.Sentence())
	}
	return fmt.Sprintf("hop %d: no answer", h.TTL)
}

// Path is the outcome of a path probe.
type Path struct {
	Dst netip.Addr
	// Hops run from TTL 1 to where the path ends: the destination's
	// reply, a router's error, or the first silent hop after the last
	// answer.
	Hops    []Hop
	MaxHops int
	Elapsed time.Duration
}

// Answered reports whether any hop answered.
func (p *Path) Answered() bool {
	for _, h := range p.Hops {
		if h.Answered() {
			return true
		}
	}
	return false
}

// Reached reports whether the destination answered.
func (p *Path) Reached() bool {
	return len(p.Hops) > 0 && p.Hops[len(p.Hops)-1].Reply
}

// End returns the hop that ended the path with an answer (the
// destination's reply or a router's error other than time exceeded), or
// false when the path fades out into silence or runs past MaxHops.
func (p *Path) End() (Hop, bool) {
	if len(p.Hops) > 0 && p.Hops[len(p.Hops)-1].ends() {
		return p.Hops[len(p.Hops)-1], true
	}
	return Hop{}, false
}

// LastTransit returns the last router that passed the packets on (sent
// time exceeded), or false when none did.
func (p *Path) LastTransit() (Hop, bool) {
	for i := len(p.Hops) - 1; i >= 0; i-- {
		if p.Hops[i].Transit() && p.Hops[i].From.IsValid() {
			return p.Hops[i], true
		}
	}
	return Hop{}, false
}

// FirstSeen returns the TTL at which addr first answered, or 0.
func (p *Path) FirstSeen(addr netip.Addr) int {
	for _, h := range p.Hops {
		if h.From == addr {
			return h.TTL
		}
	}
	return 0
}

// Loop returns the routers of a routing loop, in the order the packets
// visit them, when one router sent time exceeded for two different TTLs;
// nil otherwise.
func (p *Path) Loop() []netip.Addr {
	seen := map[netip.Addr]int{}
	var order []netip.Addr
	for _, h := range p.Hops {
		if !h.Transit() || !h.From.IsValid() {
			continue
		}
		if i, ok := seen[h.From]; ok {
			return order[i:]
		}
		seen[h.From] = len(order)
		order = append(order, h.From)
	}
	return nil
}

// Describe says in a few words where the path goes and where it stops.
func (p *Path) Describe() string {
	if loop := p.Loop(); loop != nil {
		return "routing loop: " + joinAddrs(append(loop, loop[0]), " → ")
	}
	if end, ok := p.End(); ok {
		if end.Reply {
			return fmt.Sprintf("reaches %s at hop %d", end.From, end.TTL)
		}
		if end.From.IsValid() {
			return fmt.Sprintf("stops at hop %d: %s answers %s", end.TTL, end.From, end.Message)
		}
		return fmt.Sprintf("stops at hop %d: %s", end.TTL, end.Failure.Reason.Sentence())
	}
	if last, ok := p.LastTransit(); ok {
		if len(p.Hops) > 0 && !p.Hops[len(p.Hops)-1].Answered() {
			return fmt.Sprintf("packets stop after hop %d (%s): no answer beyond it", last.TTL, last.From)
		}
		return fmt.Sprintf("no end within %d hops; the last router answering is %s", p.MaxHops, last.From)
	}
	return "no hop answers: the routers send no ICMP errors (or limit them), or packets stop before the first one"
}

func joinAddrs(as []netip.Addr, sep string) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, sep)
}

// ProbePath sends one echo request to dst for each TTL from 1 to MaxHops,
// all at once (a few milliseconds apart, lowest TTL first), through
// pkg/ping, and collects what came back: time exceeded from each router
// on the way, then the destination's reply, a router's error, or silence.
// It stops waiting as soon as the answers up to the end of the path are
// in. The error is a setup failure (no ICMP socket, failure.KindLocal) or
// ctx's.
func ProbePath(ctx context.Context, dst netip.Addr, o PathOptions) (*Path, error) {
	if o.MaxHops <= 0 {
		o.MaxHops = DefaultMaxHops
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type answer struct {
		hop Hop
		err error
	}
	answers := make(chan answer, o.MaxHops)
	for ttl := 1; ttl <= o.MaxHops; ttl++ {
		go func() {
			wait := time.NewTimer(time.Duration(ttl-1) * hopStagger)
			defer wait.Stop()
			select {
			case <-ctx.Done():
				answers <- answer{hop: Hop{TTL: ttl}, err: ctx.Err()}
				return
			case <-wait.C:
			}
			h, err := probeHop(ctx, dst, ttl, o)
			answers <- answer{h, err}
		}()
	}
	hops := make([]Hop, o.MaxHops)
	done := make([]bool, o.MaxHops)
	var firstErr error
	decided := false
	for range o.MaxHops {
		a := <-answers
		if decided {
			continue
		}
		if a.err != nil {
			if firstErr == nil {
				firstErr = a.err
			}
			cancel()
			continue
		}
		hops[a.hop.TTL-1], done[a.hop.TTL-1] = a.hop, true
		if pathDecided(hops, done) {
			decided = true
			cancel()
		}
	}
	if firstErr != nil && !decided {
		return nil, firstErr
	}
	return &Path{Dst: dst, Hops: trimHops(hops, done), MaxHops: o.MaxHops, Elapsed: time.Since(start)}, nil
}

// pathDecided reports whether the outcome is known: every hop up to the
// first one that ends the path has its answer (or timed out).
func pathDecided(hops []Hop, done []bool) bool {
	for i := range hops {
		if !done[i] {
			return false
		}
		if hops[i].ends() {
			return true
		}
	}
	return true
}

// trimHops keeps the hops up to the end of the path: the first ending
// hop, or else the last answer and one silent hop after it.
func trimHops(hops []Hop, done []bool) []Hop {
	last := -1
	for i, h := range hops {
		if !done[i] {
			break
		}
		if h.ends() {
			return hops[:i+1]
		}
		if h.Answered() {
			last = i
		}
	}
	n := min(last+2, len(hops))
	for n > 0 && !done[n-1] {
		n--
	}
	return hops[:n]
}

// probeHop sends one echo request with the given TTL and reports what
// answered it.
func probeHop(ctx context.Context, dst netip.Addr, ttl int, o PathOptions) (Hop, error) {
	cfg := ping.DefaultConfig()
	cfg.Count = 1
	cfg.TTL = ttl
	cfg.Timeout = o.Timeout
	cfg.Socket = o.Socket
	hop := Hop{TTL: ttl}
	cfg.OnEvent = func(e ping.Event) {
		switch e.Kind {
		case ping.EventReply:
			hop.From, hop.Reply, hop.RTT = e.From, true, e.RTT
		case ping.EventICMPError, ping.EventLocalError:
			hop.From, hop.Failure, hop.Message, hop.RTT = e.From, e.Failure, e.Message, e.RTT
		}
	}
	if _, err := ping.Run(ctx, []ping.Target{{Name: dst.String(), Addr: dst}}, cfg); err != nil {
		return hop, err
	}
	return hop, nil
}
