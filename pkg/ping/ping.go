// Package ping sends ICMP echo requests and explains what comes back.
//
// A run probes any number of targets, IPv4 and IPv6, over one socket per
// address family (raw when the process may open one, otherwise an
// unprivileged datagram socket). Each probe ends in exactly one way: a
// good reply within the timeout, a timeout, or an ICMP error matched to it
// through the datagram the error quotes. Everything else that arrives is
// reported separately and never counted as a reply: duplicates, corrupt
// replies (bad checksum or changed payload), and late replies (after the
// probe's timeout; the probe stays lost).
//
// Round-trip times run from the monotonic clock read just before the send
// system call to the kernel's receive timestamp on the reply. Statistics
// are streaming and probes are forgotten once they can no longer be
// answered, so a run of any length uses constant memory.
package ping

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/route"
)

// Defaults, as the classic ping has them, and a cautious sending rate.
const (
	DefaultCount    = 4
	DefaultInterval = time.Second
	DefaultTimeout  = 2 * time.Second
	DefaultSize     = 56
	// DefaultRate is the most echo requests a run sends per second: one
	// per millisecond, as fping and nmap keep to by default, and well
	// within what a host's ICMP rate limit tolerates.
	DefaultRate = 1000
)

// Largest echo payloads: an IPv4 packet holds at most 65535 bytes with
// its 20-byte header and the 8-byte ICMP header, an IPv6 payload (ICMPv6
// header included) at most 65535.
const (
	MaxSize4 = 65535 - 20 - 8
	MaxSize6 = 65535 - 8
)

// Config is what a run does. Start from DefaultConfig: the zero value
// probes forever with an empty payload.
type Config struct {
	// Count is the number of probes per target; 0 probes until the context
	// is cancelled or Deadline passes.
	Count int
	// Interval is the time between two probes to one target; zero means
	// DefaultInterval. With several targets, the probes of one round are
	// spread over the interval (at most 10 ms apart), but never faster
	// than Rate: a round that cannot fit into the interval at that rate
	// takes longer (see Round), and each target is probed that often.
	Interval time.Duration
	// Rate is the most echo requests sent per second, over all targets
	// and both families; zero means DefaultRate. It must be positive and
	// finite. Whatever the rate, a family's 65,536 ICMP sequence numbers
	// are never reused while a probe that had one is remembered (its
	// timeout plus at least 3 s): sending waits instead, so a fast rate
	// with a long timeout may send more slowly than asked.
	Rate float64
	// Timeout is how long a probe waits for its reply before it is lost;
	// zero means DefaultTimeout.
	Timeout time.Duration
	// Deadline, if positive, ends the whole run that long after it began,
	// whatever is still in flight (in flight probes count as lost).
	Deadline time.Duration
	// Size is the echo payload in bytes (DefaultSize in DefaultConfig). A
	// payload of 16 bytes or more carries the send time, so a reply that
	// comes very late can still be timed.
	Size int
	// TTL sets the IPv4 TTL or IPv6 hop limit of requests; 0 keeps the
	// system's default.
	TTL int
	// DontFragment forbids fragmenting requests: larger than the path MTU,
	// they are refused locally or answered by "fragmentation needed".
	DontFragment bool
	// Interface, if set, binds the sockets to that network interface.
	Interface string
	// Source, if valid, is the source address of the requests (of its
	// family; the other family's socket is left unbound).
	Source netip.Addr
	// Socket chooses the socket kind; SocketAuto tries raw, then datagram.
	Socket SocketKind
	// UntilUp stops probing a target at its first good reply; the run ends
	// when every target is up (or at Count or Deadline).
	UntilUp bool
	// Limits decide whether a target that answered is healthy.
	Limits Limits
	// OnStart, if set, is called once the sockets are open, before the
	// first probe, with the socket kind used per family (index 0 IPv4, 1
	// IPv6; SocketAuto for a family not probed).
	OnStart func(sockets [2]SocketKind)
	// OnEvent, if set, is called for every reply, timeout, anomaly and
	// error as it happens, from the goroutine that called Run.
	OnEvent func(Event)

	clock  clock      // nil: the system clock
	listen listenFunc // nil: the system's sockets
	// localAddrs lists this machine's addresses; nil: the system's.
	localAddrs func() []netip.Addr
	// unresolved says whether the next hop toward an address is still
	// unresolved (or failed) and which it is; nil: the kernel's neighbour
	// tables, read once per run (pkg/route).
	unresolved func(netip.Addr) (netip.Addr, bool, error)
}

// Limits are the CI thresholds: a target that breaches one is unhealthy
// even though it answered.
type Limits struct {
	// MaxLoss is the highest packet loss in percent a healthy target may
	// show; it applies only when LimitLoss is set.
	MaxLoss   float64
	LimitLoss bool
	// MaxAvgRTT, if positive, is the highest average round-trip time a
	// healthy target may show.
	MaxAvgRTT time.Duration
}

// DefaultConfig is the classic behaviour: 4 probes of 56 bytes per target,
// 1 s apart, each lost after 2 s, at most DefaultRate requests per second.
func DefaultConfig() Config {
	return Config{Count: DefaultCount, Interval: DefaultInterval, Timeout: DefaultTimeout, Size: DefaultSize, Rate: DefaultRate}
}

// Target is one address to probe.
type Target struct {
	// Name is the target as given: a host name, or the address itself
	// (also for each address of a CIDR block).
	Name string
	Addr netip.Addr
}

// EventKind says what an Event reports. Its String form is the "type" of
// the event in netdiag's JSON output.
type EventKind uint8

// The events of a run.
const (
	EventReply      EventKind = iota // a good reply within the timeout
	EventTimeout                     // no good reply within the timeout: the probe is lost
	EventDuplicate                   // another good reply to an answered request
	EventLate                        // a good reply after the probe's timeout
	EventCorrupt                     // a reply with a bad checksum or a changed payload
	EventICMPError                   // an ICMP error about the probe
	EventLocalError                  // this machine refused to send the probe
)

func (k EventKind) String() string {
	switch k {
	case EventReply:
		return "reply"
	case EventTimeout:
		return "timeout"
	case EventDuplicate:
		return "duplicate"
	case EventLate:
		return "late"
	case EventCorrupt:
		return "corrupt"
	case EventICMPError:
		return "icmp_error"
	case EventLocalError:
		return "local_error"
	}
	return "unknown"
}

// Event is one thing that happened to a probe.
type Event struct {
	Kind EventKind
	// Index is the target's position in the list given to Run.
	Index  int
	Target Target
	// Seq numbers the target's probes from 1. It is 0 for a late reply to
	// a probe sent so long ago that the run no longer remembers it.
	Seq int
	// RTT, TTL and Bytes describe a reply, duplicate or late reply: the
	// round-trip time, the reply's TTL or hop limit (-1 if unknown) and the
	// length of its ICMP message. An ICMP error has an RTT too: the time
	// from the request to the error, as traceroute shows for each hop.
	RTT   time.Duration
	TTL   int
	Bytes int
	// From is the source of the packet: the target for replies, the
	// reporting router (or this machine) for ICMP errors.
	From netip.Addr
	// Why says what is wrong with a corrupt reply.
	Why string
	// ICMPType, ICMPCode, MTU and Message describe an ICMP error: its type
	// and code, the next-hop MTU of "fragmentation needed" or "packet too
	// big", and the error's name in words.
	ICMPType, ICMPCode uint8
	MTU                int
	Message            string
	// Failure places an ICMP or local error in the failure vocabulary.
	Failure *failure.Failure
}

// Result is the outcome for one target.
type Result struct {
	Target Target
	Stats  Stats
	// Healthy: the target answered and every limit held.
	Healthy bool
	// Failure says why the target is not healthy; nil when it is.
	Failure *failure.Failure
	// Diagnosis says the failure in plain words; empty when healthy.
	Diagnosis string
}

// Report is the outcome of a run.
type Report struct {
	Results []Result
	// Sockets is the socket kind used per family (index 0 IPv4, 1 IPv6);
	// SocketAuto for a family not probed.
	Sockets [2]SocketKind
	Elapsed time.Duration
	// Interrupted: the context ended the run early. DeadlineReached: the
	// Deadline did.
	Interrupted     bool
	DeadlineReached bool
}

// Healthy reports whether every target is healthy.
func (r *Report) Healthy() bool {
	for _, res := range r.Results {
		if !res.Healthy {
			return false
		}
	}
	return len(r.Results) > 0
}

// Validate checks cfg against the targets without opening anything; Run
// does the same first. Its errors are input errors (failure.KindInput).
func (cfg Config) Validate(targets []Target) error {
	switch {
	case len(targets) == 0:
		return failure.Inputf("ping: no target")
	case cfg.Count < 0:
		return failure.Inputf("ping: count must not be negative, got %d", cfg.Count)
	case cfg.Interval < 0 || cfg.Timeout < 0 || cfg.Deadline < 0:
		return failure.Inputf("ping: interval, timeout and deadline must not be negative")
	case cfg.Rate < 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0):
		return failure.Inputf("ping: the rate must be a positive number of requests per second, got %g", cfg.Rate)
	case cfg.Size < 0:
		return failure.Inputf("ping: size must not be negative, got %d", cfg.Size)
	case cfg.TTL < 0 || cfg.TTL > 255:
		return failure.Inputf("ping: TTL must be between 1 and 255, got %d", cfg.TTL)
	case cfg.Limits.LimitLoss && !(cfg.Limits.MaxLoss >= 0 && cfg.Limits.MaxLoss <= 100): // NaN too
		return failure.Inputf("ping: maximum loss must be between 0 and 100 %%, got %g", cfg.Limits.MaxLoss)
	}
	sourceUsed := false
	for _, t := range targets {
		if !t.Addr.IsValid() {
			return failure.Inputf("ping: target %q has no address", t.Name)
		}
		sourceUsed = sourceUsed || (cfg.Source.IsValid() && famIndex(t.Addr) == famIndex(cfg.Source))
		if t.Addr.Is4() && cfg.Size > MaxSize4 {
			return failure.Inputf("ping: size %d is too large for IPv4 (at most %d)", cfg.Size, MaxSize4)
		}
		if cfg.Size > MaxSize6 {
			return failure.Inputf("ping: size %d is too large (at most %d)", cfg.Size, MaxSize6)
		}
	}
	if cfg.Source.IsValid() && !sourceUsed {
		return failure.Inputf("ping: the source address %s is IPv%d, and no target is", cfg.Source, famOf(famIndex(cfg.Source)))
	}
	return nil
}

// systemAddrs lists the addresses of this machine's interfaces (of its
// network namespace); none when they cannot be read.
func systemAddrs() []netip.Addr {
	ifAddrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range ifAddrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out
}

// checkZones makes sure that every zone of an IPv6 target (fe80::1%eth0)
// names an interface of this machine; an unknown one is a local error, as
// -I with an unknown interface is.
func checkZones(targets []Target) error {
	for _, t := range targets {
		zone := t.Addr.Zone()
		if zone == "" {
			continue
		}
		var err error
		if n, perr := strconv.Atoi(zone); perr == nil {
			_, err = net.InterfaceByIndex(n)
		} else {
			_, err = net.InterfaceByName(zone)
		}
		if err != nil {
			return failure.Localf(err, "ping: no such interface %q (the zone of %s)", zone, t.Name)
		}
	}
	return nil
}

// prepare validates cfg and fills in the defaults.
func (cfg *Config) prepare(targets []Target) error {
	if err := cfg.Validate(targets); err != nil {
		return err
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.clock == nil {
		cfg.clock = systemClock{}
	}
	if cfg.listen == nil {
		cfg.listen = defaultListen
	}
	if cfg.localAddrs == nil {
		cfg.localAddrs = systemAddrs
	}
	if cfg.unresolved == nil {
		cfg.unresolved = new(route.NeighborCheck).UnresolvedNextHop
	}
	return nil
}

// Run probes targets as cfg says until the probes are done, cfg.Deadline
// passes or ctx ends (Ctrl-C): in every case it returns the report so far.
// Errors are setup failures: bad configuration (failure.KindInput) or no
// usable socket (failure.KindLocal, with the remedy in its message).
func Run(ctx context.Context, targets []Target, cfg Config) (*Report, error) {
	if err := cfg.prepare(targets); err != nil {
		return nil, err
	}
	if err := checkZones(targets); err != nil {
		return nil, err
	}
	tok, ident, err := randomIdentity()
	if err != nil {
		return nil, err
	}
	var conns [2]conn
	for _, t := range targets {
		fi := famIndex(t.Addr)
		if conns[fi] != nil {
			continue
		}
		o := socketOptions{ident: ident, ttl: cfg.TTL, df: cfg.DontFragment, iface: cfg.Interface, now: cfg.clock.Now}
		if cfg.Source.IsValid() && famIndex(cfg.Source) == fi {
			o.source = cfg.Source
		}
		if conns[fi], err = openSocket(cfg.listen, famOf(fi), cfg.Socket, o); err != nil {
			for _, c := range conns {
				if c != nil {
					c.close()
				}
			}
			return nil, err
		}
	}
	if cfg.OnStart != nil {
		cfg.OnStart(socketKinds(conns))
	}
	s := newSession(cfg, targets, conns, cfg.clock.Now(), tok)
	s.loop(ctx)
	if s.fatal != nil {
		return nil, s.fatal
	}
	return s.report(cfg.clock.Now(), ctx.Err() != nil), nil
}

// randomIdentity draws the run's payload token and raw-socket identifier.
func randomIdentity() (token, uint16, error) {
	var b [tokenLen + 2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return token{}, 0, fmt.Errorf("ping: random identifier: %w", err)
	}
	return token(b[:tokenLen]), binary.BigEndian.Uint16(b[tokenLen:]), nil
}

// loop runs the session and closes its sockets when it ends. One
// goroutine per socket reads and decodes packets; this goroutine owns all
// state, sends on schedule and waits on one timer for the next thing due.
func (s *session) loop(ctx context.Context) {
	in := make(chan *inbound, 256)
	readErr := make(chan error, len(s.conns))
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range s.conns {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			readLoop(c, in, readErr, done)
		}()
	}
	defer func() {
		close(done)
		for _, c := range s.conns {
			if c != nil {
				c.close()
			}
		}
		wg.Wait()
	}()

	clk := s.cfg.clock
	t := clk.NewTimer(time.Hour)
	defer t.Stop()
	for ctx.Err() == nil {
		now := clk.Now()
		s.step(now)
		if s.finished(now) {
			return
		}
		t.Reset(s.wake(now).Sub(now))
		select {
		case <-ctx.Done():
			return
		case p := <-in:
			s.handle(p)
		case err := <-readErr:
			s.fatal = failure.Localf(err, "ping: cannot read from the ICMP socket: %s", errText(err))
			return
		case <-t.C():
			// Packets that arrived before the timer fired are matched
			// before any timeout is declared.
			for drained := false; !drained; {
				select {
				case p := <-in:
					s.handle(p)
				default:
					drained = true
				}
			}
		}
	}
}

// readLoop feeds a socket's packets to the run until the socket closes.
func readLoop(c conn, out chan<- *inbound, errc chan<- error, done <-chan struct{}) {
	for {
		p := new(inbound)
		if err := c.recv(p); err != nil {
			select {
			case errc <- err:
			case <-done:
			}
			return
		}
		select {
		case out <- p:
		case <-done:
			return
		}
	}
}

// report turns the session's state into the Report.
func (s *session) report(now time.Time, interrupted bool) *Report {
	r := &Report{Elapsed: now.Sub(s.start), Interrupted: interrupted, DeadlineReached: s.deadlineHit, Sockets: socketKinds(s.conns)}
	r.Results = make([]Result, len(s.targets))
	for i := range s.targets {
		r.Results[i] = s.result(&s.targets[i])
	}
	return r
}

func socketKinds(conns [2]conn) [2]SocketKind {
	var k [2]SocketKind
	for i, c := range conns {
		if c != nil {
			k[i] = c.kind()
		}
	}
	return k
}
