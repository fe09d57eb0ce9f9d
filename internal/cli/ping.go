package cli

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/ping"
	"github.com/netdiag/netdiag/pkg/resolve"
)

func init() { commands = append(commands, newCmdPing) }

// pingOptions are the ping command's flags.
type pingOptions struct {
	Targets      []string
	Family       resolve.Family
	Count        int
	Interval     time.Duration
	Rate         float64
	Timeout      time.Duration
	Deadline     time.Duration
	Size         int
	TTL          int
	DF           bool
	Interface    string
	Privileged   bool
	Unprivileged bool
	MaxLoss      float64
	LimitLoss    bool
	MaxRTT       time.Duration
	UntilUp      bool
	// Resolver resolves names; nil uses the system's.
	Resolver *resolve.Resolver
}

func newCmdPing(a *app) *cobra.Command {
	opts := &pingOptions{Count: ping.DefaultCount, Interval: ping.DefaultInterval, Rate: ping.DefaultRate, Timeout: ping.DefaultTimeout, Size: ping.DefaultSize}
	cmd := &cobra.Command{
		Use:   "ping [flags] HOST...",
		Short: "Send ICMP echo requests: does the network layer reach the host, how fast, how reliably?",
		Long: `ping sends ICMP echo requests to each HOST (a name, an IPv4 or IPv6 address, or a
CIDR block such as 198.18.1.0/28 for every host address in it) and reports every
reply, loss and anomaly: duplicates, corrupt replies (bad checksum or changed
payload), late replies (after the timeout; the probe stays lost) and ICMP errors,
which are matched to their probe and explained with the router that sent them.

Round-trip times run from the send to the kernel's receive timestamp. Many
targets share one socket per address family, and together they get at most
--rate echo requests per second (1000 by default, as cautious as fping and
nmap): a round over more targets than fit into the interval at that rate
lasts longer (a /16 takes 65.5 s), and each target is probed once a round.
It uses a raw ICMP socket when allowed (root or CAP_NET_RAW) and an
unprivileged ICMP socket otherwise (net.ipv4.ping_group_range).

Exit status: 0 when every target answered and the limits held, 1 otherwise,
2 for bad input, 3 when a name does not resolve, 4 when no ICMP socket may be
opened.`,
		Example: `  netdiag ping 198.18.1.10
  netdiag ping -c 10 -i 0.2 --max-loss 10 --max-rtt 50ms db.internal
  netdiag ping -c 1 -q 198.18.1.0/24
  netdiag ping -c 1 -q --rate 200 198.18.0.0/16
  netdiag ping -6 -s 1400 --df api.internal
  netdiag ping --until-up -w 60 db.internal
  netdiag ping -c 0 --json 198.18.1.10 2001:db8::10`,
		Args: requireArgs(1, "host to ping"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Targets = args
			opts.Family = resolve.ParseFamily(a.global.Family())
			opts.LimitLoss = cmd.Flags().Changed("max-loss")
			// As with the classic ping, a deadline without a count
			// probes until the deadline, and so does --until-up (until the
			// host is up).
			if (opts.UntilUp || opts.Deadline > 0) && !cmd.Flags().Changed("count") {
				opts.Count = 0
			}
			if err := opts.validate(cmd); err != nil {
				return err
			}
			defer oneProc(a.streams.Getenv)()
			return runPing(a.ctx, opts, a.printer())
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.IntVarP(&opts.Count, "count", "c", opts.Count, "probes per target; 0 probes until interrupted")
	f.VarP(newDurationValue(&opts.Interval), "interval", "i", "time between probes to a target, in seconds (0.2) or with a unit (200ms)")
	f.Float64Var(&opts.Rate, "rate", opts.Rate, "send at most `PPS` echo requests per second, over all targets")
	f.VarP(newDurationValue(&opts.Timeout), "timeout", "W", "wait per probe before it is lost")
	f.VarP(newDurationValue(&opts.Deadline), "deadline", "w", "end the whole run after this long; without -c, probe until then (0: no deadline)")
	f.IntVarP(&opts.Size, "size", "s", opts.Size, "bytes of payload per echo request")
	f.IntVarP(&opts.TTL, "ttl", "t", 0, "IPv4 TTL or IPv6 hop limit of the requests, 1 to 255 (default: the system's)")
	f.BoolVar(&opts.DF, "df", false, "do not fragment: too large requests are refused, not split")
	f.StringVarP(&opts.Interface, "interface", "I", "", "send from this interface (a name) or source address")
	f.BoolVar(&opts.Privileged, "privileged", false, "use a raw ICMP socket only")
	f.BoolVar(&opts.Unprivileged, "unprivileged", false, "use an unprivileged ICMP datagram socket only")
	f.Float64Var(&opts.MaxLoss, "max-loss", 0, "fail (exit 1) when a target loses more than this `PCT` of its probes")
	f.Var(newDurationValue(&opts.MaxRTT), "max-rtt", "fail (exit 1) when a target's average round-trip time is above this")
	f.BoolVar(&opts.UntilUp, "until-up", false, "probe until the first reply (or the deadline): wait for a host to come up")
	return cmd
}

// validate checks the flags' values; a bad one is a usage error (exit 2).
func (o *pingOptions) validate(cmd *cobra.Command) error {
	switch {
	case o.Count < 0:
		return usageErrorf(cmd, "-c/--count must be 0 or more, got %d", o.Count)
	case o.Interval < time.Millisecond:
		return usageErrorf(cmd, "-i/--interval must be at least 1ms, got %v", o.Interval)
	case !(o.Rate > 0) || math.IsInf(o.Rate, 0): // NaN too
		return usageErrorf(cmd, "--rate must be a positive number of echo requests per second, got %g", o.Rate)
	case o.Timeout <= 0:
		return usageErrorf(cmd, "-W/--timeout must be positive")
	case o.Size < 0 || o.Size > ping.MaxSize6:
		return usageErrorf(cmd, "-s/--size must be between 0 and %d, got %d", ping.MaxSize6, o.Size)
	case o.TTL < 0 || o.TTL > 255:
		return usageErrorf(cmd, "-t/--ttl must be between 1 and 255, got %d", o.TTL)
	case cmd.Flags().Changed("ttl") && o.TTL == 0:
		return usageErrorf(cmd, "-t/--ttl must be between 1 and 255, got 0")
	case cmd.Flags().Changed("interface") && strings.TrimSpace(o.Interface) == "":
		return usageErrorf(cmd, "-I/--interface needs an interface name or a source address")
	case o.Privileged && o.Unprivileged:
		return usageErrorf(cmd, "--privileged and --unprivileged cannot be used together")
	case o.LimitLoss && !(o.MaxLoss >= 0 && o.MaxLoss <= 100): // NaN too
		return usageErrorf(cmd, "--max-loss must be a percentage between 0 and 100, got %g", o.MaxLoss)
	case cmd.Flags().Changed("max-rtt") && o.MaxRTT <= 0:
		return usageErrorf(cmd, "--max-rtt must be positive")
	case o.UntilUp && o.LimitLoss:
		return usageErrorf(cmd, "--until-up and --max-loss cannot be used together: probes before the host is up are lost by design")
	}
	return nil
}

// config turns the options into the library's configuration.
func (o *pingOptions) config() ping.Config {
	cfg := ping.Config{
		Count: o.Count, Interval: o.Interval, Rate: o.Rate, Timeout: o.Timeout, Deadline: o.Deadline,
		Size: o.Size, TTL: o.TTL, DontFragment: o.DF, UntilUp: o.UntilUp,
		Limits: ping.Limits{MaxLoss: o.MaxLoss, LimitLoss: o.LimitLoss, MaxAvgRTT: o.MaxRTT},
	}
	if a, err := netip.ParseAddr(o.Interface); err == nil {
		cfg.Source = a
	} else {
		cfg.Interface = o.Interface
	}
	switch {
	case o.Privileged:
		cfg.Socket = ping.SocketRaw
	case o.Unprivileged:
		cfg.Socket = ping.SocketDatagram
	}
	return cfg
}

// oneProc makes the Go runtime use one processor for a ping run, unless
// the user set GOMAXPROCS; it returns what puts the old setting back.
//
// The round-trip time is taken inside the send system call: on a short
// path the reply is stamped before sendto returns. With several Ps the
// runtime keeps a thread parked in epoll_wait while the sending goroutine
// runs, and the kernel wakes that thread from inside the timed sendto, as
// the peer takes the request and before the reply exists (kernel traces
// show it; the freed request makes the socket writable), often on another
// CPU, which costs an interrupt between CPUs.
// On the 2-CPU development VM that put a median 20 µs on every RTT over a
// veth pair (bench/ping-accuracy.sh). With one P no thread is parked there
// while a request goes out, as with the single-threaded iputils ping. A
// run's work is waiting, so one P costs it nothing (bench/ping-sweep.sh
// is unchanged).
func oneProc(getenv func(string) string) (restore func()) {
	if getenv != nil && getenv("GOMAXPROCS") != "" {
		return func() {}
	}
	prev := runtime.GOMAXPROCS(1)
	return func() { runtime.GOMAXPROCS(prev) }
}

// pingProbe runs the probes; tests replace it with a fake.
var pingProbe = ping.Run

// runPing resolves the targets, runs the probes and renders what happens.
func runPing(ctx context.Context, o *pingOptions, p *Printer) error {
	targets, err := ping.Targets(ctx, o.Targets, o.Family, o.Resolver)
	if err != nil {
		return err
	}
	cfg := o.config()
	if err := cfg.Validate(targets); err != nil {
		return err
	}
	r := &pingRenderer{p: p, opts: o, multi: len(targets) > 1, round: cfg.Round(len(targets))}
	cfg.OnEvent = r.event
	cfg.OnStart = func([2]ping.SocketKind) { r.header(targets) }
	rep, err := pingProbe(ctx, targets, cfg)
	if err != nil {
		return err
	}
	r.summaries(rep)
	if !rep.Healthy() {
		return checkFailed
	}
	return nil
}

// pingRenderer prints a run's events and summaries as text or NDJSON.
type pingRenderer struct {
	p     *Printer
	opts  *pingOptions
	multi bool
	round time.Duration // how long a round over every target takes
}

func (r *pingRenderer) header(targets []ping.Target) {
	hdr := func(a netip.Addr) int {
		if a.Is4() {
			return r.opts.Size + 8 + 20
		}
		return r.opts.Size + 8 + 40
	}
	if !r.multi {
		t := targets[0]
		r.p.Printf("PING %s (%s) %d(%d) bytes of data.\n", t.Name, t.Addr, r.opts.Size, hdr(t.Addr))
		return
	}
	r.p.Printf("PING %d targets, %d bytes of data each.\n", len(targets), r.opts.Size)
	if r.round > r.opts.Interval {
		r.p.Detailf("At most %s echo requests per second (--rate): a round over every target takes %s.\n",
			strconv.FormatFloat(r.opts.Rate, 'g', -1, 64), r.round.Round(time.Millisecond))
	}
}

// pingWho names a target in text: "198.18.1.10" or "db.internal (198.18.1.10)".
func pingWho(t ping.Target) string {
	if t.Name == t.Addr.String() {
		return t.Name
	}
	return t.Name + " (" + t.Addr.String() + ")"
}

func pingSeq(seq int) string {
	if seq == 0 {
		return "icmp_seq=?"
	}
	return "icmp_seq=" + strconv.Itoa(seq)
}

// pingEventJSON is every per-probe NDJSON object; each type uses its keys.
type pingEventJSON struct {
	Target   string   `json:"target"`
	Addr     string   `json:"addr"`
	Seq      int      `json:"seq"`
	RTTMs    *float64 `json:"rtt_ms,omitempty"`
	TTL      *int     `json:"ttl,omitempty"`
	Bytes    *int     `json:"bytes,omitempty"`
	Why      string   `json:"why,omitempty"`
	From     string   `json:"from,omitempty"`
	ICMPType *uint8   `json:"icmp_type,omitempty"`
	ICMPCode *uint8   `json:"icmp_code,omitempty"`
	MTU      int      `json:"mtu,omitempty"`
	Layer    string   `json:"layer,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	Message  string   `json:"message,omitempty"`
}

func (r *pingRenderer) event(e ping.Event) {
	j := pingEventJSON{Target: e.Target.Name, Addr: e.Target.Addr.String(), Seq: e.Seq}
	p := r.p
	reply := func(suffix string) {
		rtt, bytes := Ms(e.RTT), e.Bytes
		j.RTTMs, j.Bytes = &rtt, &bytes
		ttl := ""
		if e.TTL >= 0 {
			j.TTL = &e.TTL
			ttl = " ttl=" + strconv.Itoa(e.TTL)
		}
		who := pingWho(e.Target)
		if e.From.IsValid() && e.From.WithZone("") != e.Target.Addr.WithZone("") {
			// A broadcast, multicast or anycast target: say who answered.
			j.From = e.From.String()
			who = j.From + " (for " + who + ")"
		}
		p.Detailf("%d bytes from %s: %s%s time=%s%s\n", e.Bytes, who, pingSeq(e.Seq), ttl, FormatMs(e.RTT), suffix)
	}
	switch e.Kind {
	case ping.EventReply:
		reply("")
	case ping.EventDuplicate:
		reply(" " + p.Warn("(DUP!)"))
	case ping.EventLate:
		reply(" " + p.Warn(fmt.Sprintf("(late: after the %s timeout, the probe stays lost)", r.opts.Timeout)))
	case ping.EventTimeout:
		p.Detailf("%s\n", p.Bad(fmt.Sprintf("no reply from %s: %s within %s", pingWho(e.Target), pingSeq(e.Seq), r.opts.Timeout)))
	case ping.EventCorrupt:
		bytes := e.Bytes
		j.Why, j.Bytes = e.Why, &bytes
		p.Detailf("%s\n", p.Bad(fmt.Sprintf("corrupt reply from %s: %s: %s", pingWho(e.Target), pingSeq(e.Seq), e.Why)))
	case ping.EventICMPError:
		j.From, j.ICMPType, j.ICMPCode, j.MTU = e.From.String(), &e.ICMPType, &e.ICMPCode, e.MTU
		j.Layer, j.Reason = string(e.Failure.Layer), string(e.Failure.Reason)
		j.Message = e.Message + ": " + e.Failure.Reason.Sentence()
		about := ""
		if r.multi {
			about = " (for " + pingWho(e.Target) + ")"
		}
		mtu := ""
		if e.MTU > 0 {
			mtu = fmt.Sprintf(" (mtu = %d)", e.MTU)
		}
		p.Detailf("%s\n", p.Bad(fmt.Sprintf("From %s%s %s: %s%s — %s", e.From, about, pingSeq(e.Seq), e.Message, mtu, e.Failure.Reason.Sentence())))
	case ping.EventLocalError:
		j.Layer, j.Reason = string(e.Failure.Layer), string(e.Failure.Reason)
		j.Message = e.Failure.Reason.Sentence()
		if e.Failure.Detail != "" {
			j.Message += " (" + e.Failure.Detail + ")"
		}
		p.Detailf("%s\n", p.Bad(fmt.Sprintf("local error for %s: %s: %s", pingWho(e.Target), pingSeq(e.Seq), j.Message)))
	}
	p.Emit(e.Kind.String(), j)
}

// pingSummaryJSON is a target's summary line; with several targets a last
// line of the same type sums them up (without target and addr).
type pingSummaryJSON struct {
	Target         string   `json:"target,omitempty"`
	Addr           string   `json:"addr,omitempty"`
	Targets        int      `json:"targets,omitempty"`
	HealthyTargets *int     `json:"healthy_targets,omitempty"`
	Transmitted    int      `json:"transmitted"`
	Received       int      `json:"received"`
	Duplicates     int      `json:"duplicates"`
	Corrupt        int      `json:"corrupt"`
	Late           int      `json:"late"`
	Errors         int      `json:"errors"`
	LossPct        float64  `json:"loss_pct"`
	RTTMinMs       *float64 `json:"rtt_min_ms,omitempty"`
	RTTAvgMs       *float64 `json:"rtt_avg_ms,omitempty"`
	RTTMaxMs       *float64 `json:"rtt_max_ms,omitempty"`
	RTTMdevMs      *float64 `json:"rtt_mdev_ms,omitempty"`
	RTTP50Ms       *float64 `json:"rtt_p50_ms,omitempty"`
	RTTP95Ms       *float64 `json:"rtt_p95_ms,omitempty"`
	TimeMs         float64  `json:"time_ms"`
	Healthy        bool     `json:"healthy"`
	Layer          string   `json:"layer,omitempty"`
	Reason         string   `json:"reason,omitempty"`
	Diagnosis      string   `json:"diagnosis,omitempty"`
	Interrupted    bool     `json:"interrupted,omitempty"`
}

func (r *pingRenderer) summaries(rep *ping.Report) {
	p := r.p
	var total ping.Stats
	healthy := 0
	var unhealthy []string
	for _, res := range rep.Results {
		st := res.Stats
		r.textSummary(res, rep.Elapsed)
		j := pingSummaryJSON{Target: res.Target.Name, Addr: res.Target.Addr.String(), Healthy: res.Healthy,
			TimeMs: Ms(rep.Elapsed), Interrupted: rep.Interrupted}
		pingCounts(&j, st)
		if st.Received > 0 {
			for _, f := range []struct {
				dst **float64
				d   time.Duration
			}{{&j.RTTMinMs, st.Min}, {&j.RTTAvgMs, st.Avg}, {&j.RTTMaxMs, st.Max}, {&j.RTTMdevMs, st.Mdev}, {&j.RTTP50Ms, st.P50}, {&j.RTTP95Ms, st.P95}} {
				v := Ms(f.d)
				*f.dst = &v
			}
		}
		if res.Failure != nil {
			j.Layer, j.Reason, j.Diagnosis = string(res.Failure.Layer), string(res.Failure.Reason), res.Diagnosis
		}
		p.Emit("summary", j)
		total.Transmitted += st.Transmitted
		total.Received += st.Received
		total.Duplicates += st.Duplicates
		total.Corrupt += st.Corrupt
		total.Late += st.Late
		total.Errors += st.Errors
		if res.Healthy {
			healthy++
		} else {
			unhealthy = append(unhealthy, res.Target.Name)
		}
	}
	if !r.multi {
		return
	}
	j := pingSummaryJSON{Targets: len(rep.Results), HealthyTargets: &healthy, Healthy: rep.Healthy(),
		TimeMs: Ms(rep.Elapsed), Interrupted: rep.Interrupted}
	pingCounts(&j, total)
	p.Emit("summary", j)
	line := fmt.Sprintf("%d targets: %d healthy", len(rep.Results), healthy)
	if len(unhealthy) > 0 {
		const show = 10
		names := strings.Join(unhealthy[:min(show, len(unhealthy))], ", ")
		if len(unhealthy) > show {
			names += fmt.Sprintf(" and %d more", len(unhealthy)-show)
		}
		line += fmt.Sprintf(", %d not: %s", len(unhealthy), names)
	}
	p.Printf("\n%s %s\n", p.Check(rep.Healthy()), line)
}

func pingCounts(j *pingSummaryJSON, st ping.Stats) {
	j.Transmitted, j.Received, j.Duplicates, j.Corrupt, j.Late, j.Errors = st.Transmitted, st.Received, st.Duplicates, st.Corrupt, st.Late, st.Errors
	j.LossPct = float64(int64(st.LossPct()*1000+0.5)) / 1000
}

// textSummary prints a target's statistics the way iputils ping does, plus
// the percentiles and, when the target is not healthy, the diagnosis.
func (r *pingRenderer) textSummary(res ping.Result, elapsed time.Duration) {
	p, st := r.p, res.Stats
	line := fmt.Sprintf("%d packets transmitted, %d received", st.Transmitted, st.Received)
	for _, extra := range []struct {
		n    int
		name string
	}{{st.Duplicates, "duplicates"}, {st.Corrupt, "corrupt"}, {st.Late, "late"}, {st.Errors, "errors"}} {
		if extra.n > 0 {
			line += fmt.Sprintf(", +%d %s", extra.n, extra.name)
		}
	}
	line += fmt.Sprintf(", %s%% packet loss, time %dms", strconv.FormatFloat(st.LossPct(), 'g', 6, 64), elapsed.Milliseconds())
	p.Printf("\n--- %s ping statistics ---\n%s\n", res.Target.Name, line)
	if st.Received > 0 {
		p.Printf("rtt min/avg/max/mdev = %s/%s/%s/%s ms\n", pingMs3(st.Min), pingMs3(st.Avg), pingMs3(st.Max), pingMs3(st.Mdev))
		p.Printf("rtt p50/p95 = %s/%s ms\n", pingMs3(st.P50), pingMs3(st.P95))
	}
	if res.Failure != nil {
		p.Printf("%s %s\n", p.Bad("diagnosis:"), pingDiagnosis(res.Failure, res.Diagnosis))
	}
}

// pingDiagnosis is the plain-words diagnosis with the failure's place in
// the shared vocabulary.
func pingDiagnosis(f *failure.Failure, text string) string {
	return fmt.Sprintf("%s [%s/%s]", text, f.Layer, f.Reason)
}

func pingMs3(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) }
