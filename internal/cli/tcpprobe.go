package cli

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/handshake"
	"github.com/netdiag/netdiag/pkg/resolve"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newCmdTCPProbe) }

// tcpprobeOptions is everything `netdiag tcpprobe` was asked to do.
type tcpprobeOptions struct {
	Targets  []string
	Ports    string
	Count    int
	Interval time.Duration
	Parallel int
	Rate     float64

	SYN         bool
	Trace       bool
	Send        string
	ServerClose bool

	Family  resolve.Family
	Timeout time.Duration

	// newProber makes the prober for the chosen mode; tests substitute
	// their own.
	newProber func(*tcpprobeOptions) (handshake.Prober, error)
	// resolver resolves host names; tests substitute their own.
	resolver *resolve.Resolver
}

// Default probes in flight at once: a connect probe holds a socket, a
// SYN probe only an entry in a table.
const (
	defaultConnectParallel = 100
	defaultSYNParallel     = 512
)

// minRate is the slowest --rate accepted: one probe every 100 s. Slower
// rates are typing mistakes that would leave the command waiting for
// hours.
const minRate = 0.01

func newCmdTCPProbe(a *app) *cobra.Command {
	opts := &tcpprobeOptions{Count: 1, Interval: time.Second}
	cmd := &cobra.Command{
		Use:   "tcpprobe HOST:PORT... | tcpprobe -p PORTS HOST...",
		Short: "Probe TCP ports: open, closed, filtered or unreachable, and why",
		Long: `tcpprobe makes a TCP handshake with each port and says what happened:

  open         the host answered with a SYN-ACK
  closed       the host answered with a reset: it is up, nothing listens (reason reset)
  filtered     no answer in time (reason timeout: a firewall drops the SYN), or a
               firewall rejected it with ICMP (admin-prohibited, port-unreachable),
               named by its address
  unreachable  a router or this machine could not deliver the SYN (host-unreachable,
               net-unreachable, no-route, neighbor-unresolved)

Connect mode (the default) uses the kernel's connect() and needs no privilege; the
ICMP error behind a failure is read from the socket's error queue (IP_RECVERR), so a
firewall's reject is never mistaken for the host's reset. For an open port it shows
what the kernel negotiated (MSS, window scale, SACK, timestamps).

--trace (needs CAP_NET_RAW) also records the connection's packets as they crossed
the interface -- SYN, SYN-ACK, ACK, then the four-way close -- and prints them as a
timeline with absolute and relative sequence numbers, checking that the SYN-ACK
acknowledges our ISN + 1, our ACK theirs + 1, and each FIN is acknowledged with its
seq + 1. We close first; --server-close waits for the server to close first, and
--send TEXT writes TEXT and a line end once connected.

--syn (needs CAP_NET_RAW) is a half-open scan like nmap -sS, the fast mode for port
ranges: it sends its own SYNs, answers a SYN-ACK with a reset instead of completing
the handshake, and sends a SYN a second time before calling a port filtered. A
silent port gets its second SYN after half the timeout and is filtered after the
whole of it; once the host has answered other ports, each SYN gets only the
retransmission timeout the host's round trips suggest (the smoothed round trip
plus at least 100 ms, 125 ms at least), so --timeout is then an upper bound. A
host that limits the rate of its resets (FreeBSD and macOS do by default) leaves
ports unanswered that read as filtered: slow the scan down with --rate.

A firewall that rejects with a TCP reset forges it in the host's name: its port
reads closed. In SYN and trace mode the TTL of each reset is compared with the
host's SYN-ACKs, and a note under the host's summary names the resets that came
from another device.

Targets are HOST:PORT, [IPv6]:PORT, or HOST with -p LIST (22,80,443,8000-8100).
-c and -i repeat the probes with round-trip statistics like ping.

Exit status: 0 when every probe found its port open (and, with --trace, every check
held), 1 when any did not, 2 for bad input, 3 when a name did not resolve, 4 when
--trace or --syn lacks the permission.`,
		Example: `  netdiag tcpprobe 198.18.1.10:443
  netdiag tcpprobe -p 22,80,443,8000-8100 198.18.1.10
  netdiag tcpprobe [2001:db8::10]:80 db.internal:5432
  netdiag tcpprobe -c 5 -i 0.5 198.18.1.10:80
  sudo netdiag tcpprobe --trace 198.18.1.10:80
  sudo netdiag tcpprobe --trace --send 'GET / HTTP/1.0' --server-close 198.18.1.10:80
  sudo netdiag tcpprobe --syn -p 1-1024 198.18.1.10
  netdiag tcpprobe --json -p 1-1024 --parallel 200 198.18.1.10`,
		Args: requireArgs(1, "target (HOST:PORT, or HOST with -p)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Targets = args
			opts.Family = resolve.ParseFamily(a.global.Family())
			opts.Timeout = a.global.Timeout
			if err := opts.validate(cmd); err != nil {
				return err
			}
			p := a.printer()
			if most := opts.maxParallel(openFileLimit()); opts.Parallel > most {
				p.Warnf("--parallel %d lowered to %d: each probe holds %s, and the limit on open files (ulimit -n) is %d",
					opts.Parallel, most, plural(opts.socketsPerProbe(), "a socket", "two sockets"), openFileLimit())
				opts.Parallel = most
			}
			return runTCPProbe(a.ctx, opts, p)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Ports, "ports", "p", "", "ports to probe on every HOST: 22,80,443,8000-8100")
	f.IntVarP(&opts.Count, "count", "c", 1, "probes per port")
	f.VarP(newDurationValue(&opts.Interval), "interval", "i", "time between rounds of probes with -c (seconds or a unit)")
	f.IntVar(&opts.Parallel, "parallel", 0, fmt.Sprintf("probes in flight at once (default %d, %d with --syn)", defaultConnectParallel, defaultSYNParallel))
	f.Float64Var(&opts.Rate, "rate", 0, "at most this many probes started per second; with --syn, SYN packets per second, retransmissions included (default: no limit)")
	f.BoolVar(&opts.SYN, "syn", false, "half-open scan like nmap -sS: our own SYNs on a raw socket, never completing the handshake (needs CAP_NET_RAW)")
	f.BoolVar(&opts.Trace, "trace", false, "record and show the handshake and the close as they crossed the interface (needs CAP_NET_RAW)")
	f.StringVar(&opts.Send, "send", "", "with --trace: write TEXT and a line end (CR LF) once connected")
	f.BoolVar(&opts.ServerClose, "server-close", false, "with --trace: wait for the server to close first")
	return cmd
}

func (o *tcpprobeOptions) validate(cmd *cobra.Command) error {
	switch {
	case o.Count < 1:
		return usageErrorf(cmd, "--count must be at least 1, got %d", o.Count)
	case o.Parallel < 0:
		return usageErrorf(cmd, "--parallel must be at least 1, got %d", o.Parallel)
	case math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0) || o.Rate < 0 || (o.Rate > 0 && o.Rate < minRate):
		return usageErrorf(cmd, "--rate must be 0 (no limit) or at least %v probes per second, got %v", minRate, o.Rate)
	case o.Count > 1 && o.Interval <= 0:
		return usageErrorf(cmd, "--interval must be positive")
	case o.SYN && o.Trace:
		return usageErrorf(cmd, "--syn and --trace cannot be used together")
	case !o.Trace && cmd.Flags().Changed("send"):
		return usageErrorf(cmd, "--send needs --trace")
	case !o.Trace && o.ServerClose:
		return usageErrorf(cmd, "--server-close needs --trace")
	}
	if o.Parallel == 0 {
		o.Parallel = defaultConnectParallel
		if o.SYN {
			o.Parallel = defaultSYNParallel
		}
	}
	return nil
}

// fdReserve is the number of open files kept free for everything but
// the probes in flight: standard streams, resolver, raw sockets.
const fdReserve = 64

// socketsPerProbe is how many sockets a probe in flight holds: none
// of its own in SYN mode, one in connect mode, two (with the packet
// socket) in trace mode.
func (o *tcpprobeOptions) socketsPerProbe() int {
	switch {
	case o.SYN:
		return 0
	case o.Trace:
		return 2
	}
	return 1
}

// maxParallel is the most probes that may be in flight under an
// open-file limit (0: none known).
func (o *tcpprobeOptions) maxParallel(limit int) int {
	n := o.socketsPerProbe()
	if limit <= 0 || n == 0 {
		return o.Parallel
	}
	return max((limit-fdReserve)/n, 1)
}

// tcpTarget is one HOST argument with the ports to probe on it.
type tcpTarget struct {
	arg   string
	host  string
	ports []int
}

// parseTargets splits the arguments into hosts and ports: HOST:PORT
// each, or bare hosts with -p.
func (o *tcpprobeOptions) parseTargets() ([]tcpTarget, error) {
	var list []int
	if o.Ports != "" {
		var err error
		if list, err = handshake.ParsePorts(o.Ports); err != nil {
			return nil, err
		}
	}
	var out []tcpTarget
	// A target given twice is probed once, as a port repeated in -p is.
	seen := map[string]bool{}
	for _, arg := range o.Targets {
		host, port, err := resolve.SplitHostPort(arg, 0)
		switch {
		case err == nil && list != nil:
			return nil, failure.Inputf("%q: give the port either in HOST:PORT or with -p, not both", arg)
		case err == nil:
			if k := net.JoinHostPort(host, fmt.Sprint(port)); !seen[k] {
				seen[k] = true
				out = append(out, tcpTarget{arg: arg, host: host, ports: []int{port}})
			}
		case list == nil:
			if host, _, perr := resolve.SplitHostPort(arg, 1); perr == nil {
				return nil, missingPort(arg, host)
			}
			return nil, err
		default:
			host, _, err := resolve.SplitHostPort(arg, 1)
			if err != nil {
				return nil, err
			}
			if !seen[host] {
				seen[host] = true
				out = append(out, tcpTarget{arg: arg, host: host, ports: list})
			}
		}
	}
	return out, nil
}

// missingPort is the input error of a target given without a port. A
// bare IPv6 address reads as one even when its last group was meant as
// the port ("2001:db8::10:80"), so the message shows the brackets.
func missingPort(arg, host string) error {
	if strings.Contains(host, ":") {
		return failure.Inputf("%q: missing port: write [%s]:PORT (an IPv6 address needs brackets before a port), or give the ports with -p", arg, host)
	}
	return failure.Inputf("%q: missing port: write %s:PORT, or give the ports with -p", arg, host)
}

// resolveTargets turns the hosts into addresses (the first of the asked
// family) and lists every address and port to probe.
func (o *tcpprobeOptions) resolveTargets(ctx context.Context, hosts []tcpTarget) ([]handshake.Target, error) {
	r := o.resolver
	if r == nil {
		r = &resolve.Resolver{}
	}
	var out []handshake.Target
	for _, h := range hosts {
		addrs, err := r.Addrs(ctx, h.host, o.Family)
		if err != nil {
			return nil, fmt.Errorf("tcpprobe: %w", err)
		}
		a := addrs[0]
		if a.Is6() && (a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast()) && a.Zone() == "" {
			return nil, failure.Inputf("%s is a link-local address: name the interface, as in [%s%%eth0]:PORT", a, a)
		}
		for _, p := range h.ports {
			out = append(out, handshake.Target{Name: h.host, Addr: a, Port: p})
		}
	}
	return out, nil
}

func defaultProber(o *tcpprobeOptions) (handshake.Prober, error) {
	if o.SYN {
		return handshake.NewSYNProber(handshake.SYNOptions{Timeout: o.Timeout, Rate: o.Rate})
	}
	if o.Trace {
		to := handshake.TraceOptions{Timeout: o.Timeout, ServerClose: o.ServerClose}
		if o.Send != "" {
			to.Send = []byte(o.Send + "\r\n")
		}
		return handshake.NewTraceProber(to)
	}
	return handshake.NewConnectProber(handshake.ConnectOptions{Timeout: o.Timeout}), nil
}

// mode names the probing mode for the summary.
func (o *tcpprobeOptions) mode() string {
	switch {
	case o.SYN:
		return "syn"
	case o.Trace:
		return "trace"
	}
	return "connect"
}

func runTCPProbe(ctx context.Context, o *tcpprobeOptions, p *Printer) error {
	hosts, err := o.parseTargets()
	if err != nil {
		return err
	}
	targets, err := o.resolveTargets(ctx, hosts)
	if err != nil {
		return err
	}
	newProber := o.newProber
	if newProber == nil {
		newProber = defaultProber
	}
	prober, err := newProber(o)
	if err != nil {
		return err
	}
	defer prober.Close()

	r := newTCPRenderer(p, o, targets)
	start := time.Now()
	sched := handshake.Schedule{Count: o.Count, Interval: o.Interval, Parallel: o.Parallel, Rate: o.Rate}
	if o.SYN {
		sched.Rate = 0 // the SYN prober paces its packets itself
	}
	err = handshake.Scan(ctx, prober, targets, sched, r.result)
	r.summary(time.Since(start))
	switch {
	case err != nil:
		return err
	case !r.healthy():
		return checkFailed
	}
	return nil
}

// tcpRenderer prints results as they come and keeps the statistics for
// the summaries.
type tcpRenderer struct {
	p       *Printer
	o       *tcpprobeOptions
	targets []handshake.Target
	stats   map[handshake.Target]*handshake.Stats
	hosts   []string // in first-seen order
	total   handshake.Stats
	// badChecks counts trace checks that did not hold.
	badChecks int
	// origins gathers the TTLs of SYN-ACKs and resets (SYN and trace
	// mode) to tell a firewall's resets from the host's.
	origins handshake.ResetOrigins
}

func newTCPRenderer(p *Printer, o *tcpprobeOptions, targets []handshake.Target) *tcpRenderer {
	r := &tcpRenderer{p: p, o: o, targets: targets, stats: map[handshake.Target]*handshake.Stats{}}
	seen := map[string]bool{}
	for _, t := range targets {
		r.stats[t] = &handshake.Stats{}
		if h := hostLabel(t); !seen[h] {
			seen[h] = true
			r.hosts = append(r.hosts, h)
		}
	}
	return r
}

// healthy says every probe found its port open and every trace check
// held.
func (r *tcpRenderer) healthy() bool {
	return r.total.Sent > 0 && r.total.Open == r.total.Sent && r.badChecks == 0
}

// hostLabel names a target's host: the address, with the name the user
// typed when that was not the address itself.
func hostLabel(t handshake.Target) string {
	if t.Name == "" || t.Name == t.Addr.String() || t.Name == t.Addr.WithZone("").String() {
		return t.Addr.String()
	}
	return t.Name + " (" + t.Addr.String() + ")"
}

// tcpProbeJSON is the "probe" object of docs/json.md.
type tcpProbeJSON struct {
	Target      string   `json:"target"`
	Addr        string   `json:"addr"`
	Port        int      `json:"port"`
	Seq         int      `json:"seq"`
	State       string   `json:"state"`
	Layer       string   `json:"layer,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	RTTMs       *float64 `json:"rtt_ms,omitempty"`
	WaitMs      *float64 `json:"wait_ms,omitempty"`
	From        string   `json:"from,omitempty"`
	ICMPType    *uint8   `json:"icmp_type,omitempty"`
	ICMPCode    *uint8   `json:"icmp_code,omitempty"`
	MSS         *int     `json:"mss,omitempty"`
	WScale      *int     `json:"wscale,omitempty"`
	SACK        *bool    `json:"sack,omitempty"`
	Timestamps  *bool    `json:"timestamps,omitempty"`
	KernelRTTMs *float64 `json:"kernel_rtt_ms,omitempty"`
	TTL         int      `json:"ttl,omitempty"`
	// Trace mode: what the timeline that follows cannot show.
	ReceivedBytes     *int   `json:"received_bytes,omitempty"`
	UnrecordedPackets int    `json:"unrecorded_packets,omitempty"`
	Unfinished        string `json:"unfinished,omitempty"`
	Explain           string `json:"explain"`
}

func (r *tcpRenderer) result(res handshake.Result) {
	r.stats[res.Target].Add(res)
	r.total.Add(res)
	r.origins.Add(res)

	j := tcpProbeJSON{
		Target:  res.Target.Name,
		Addr:    res.Target.Addr.String(),
		Port:    res.Target.Port,
		Seq:     res.Seq,
		State:   string(res.State),
		TTL:     res.TTL,
		Explain: res.Explain(),
	}
	if res.RTT > 0 {
		ms := Ms(res.RTT)
		j.RTTMs = &ms
	}
	if res.Waited > 0 {
		ms := Ms(res.Waited)
		j.WaitMs = &ms
	}
	if f := res.Failure; f != nil {
		j.Layer, j.Reason, j.From = string(f.Layer), string(f.Reason), f.From
	}
	if e := res.ICMP; e != nil {
		j.ICMPType, j.ICMPCode = &e.Type, &e.Code
	}
	if in := res.Info; in != nil {
		j.MSS, j.WScale, j.SACK, j.Timestamps = &in.MSS, &in.WScale, &in.SACK, &in.Timestamps
		ms := Ms(in.RTT)
		j.KernelRTTMs = &ms
	}
	if tr := res.Trace; tr != nil {
		if res.State == handshake.Open {
			j.ReceivedBytes = &tr.Received
		}
		j.UnrecordedPackets, j.Unfinished = tr.Dropped, tr.Unfinished
	}
	r.p.Emit("probe", j)
	r.p.Detailf("%s\n", r.line(res))
	if res.Trace != nil {
		r.trace(res)
	}
}

// line renders one probe: "198.18.1.10:80 open 0.412 ms (mss 1460,
// wscale 7, sack, ts)" or "198.18.1.10:81 closed 0.120 ms: host is up;
// nothing listens on port 81".
func (r *tcpRenderer) line(res handshake.Result) string {
	var b strings.Builder
	b.WriteString(portLabel(res.Target))
	if r.o.Count > 1 {
		b.WriteString(fmt.Sprintf(" seq=%d", res.Seq))
	}
	b.WriteByte(' ')
	switch res.State {
	case handshake.Open:
		b.WriteString(r.p.OK("open"))
	case handshake.Closed:
		b.WriteString(r.p.Warn("closed"))
	default:
		b.WriteString(r.p.Bad(string(res.State)))
	}
	if res.RTT > 0 {
		b.WriteString(" " + FormatMs(res.RTT))
	} else if res.Waited > 0 {
		b.WriteString(" after " + waitText(res.Waited))
	}
	if in := res.Info; in != nil {
		b.WriteString(" (" + tcpInfoText(in) + ")")
	}
	if res.State != handshake.Open {
		b.WriteString(": " + res.Explain())
		if res.Reason() != "" {
			b.WriteString(r.p.Dim(" [" + string(res.Reason()) + "]"))
		}
	}
	return b.String()
}

// waitText renders a wait as people write it: "2s", "250ms", "1.25s".
func waitText(d time.Duration) string {
	return d.Round(time.Millisecond).String()
}

// portLabel names a probed port: "198.18.1.10:80", "[2001:db8::10]:80",
// or "db.internal:80 (198.18.1.10)" when the user typed a name.
func portLabel(t handshake.Target) string {
	if t.Name == "" || t.Name == t.Addr.String() || t.Name == t.Addr.WithZone("").String() {
		return t.String()
	}
	return fmt.Sprintf("%s (%s)", net.JoinHostPort(t.Name, fmt.Sprint(t.Port)), t.Addr)
}

func tcpInfoText(in *handshake.TCPInfo) string {
	parts := []string{fmt.Sprintf("mss %d", in.MSS)}
	if in.WScale >= 0 {
		parts = append(parts, fmt.Sprintf("wscale %d", in.WScale))
	}
	if in.SACK {
		parts = append(parts, "sack")
	}
	if in.Timestamps {
		parts = append(parts, "ts")
	}
	return strings.Join(parts, ", ")
}

// tcpStatsJSON is the "stats" object: one port's probes with -c.
type tcpStatsJSON struct {
	Target      string  `json:"target"`
	Addr        string  `json:"addr"`
	Port        int     `json:"port"`
	Sent        int     `json:"sent"`
	Open        int     `json:"open"`
	Closed      int     `json:"closed"`
	Filtered    int     `json:"filtered"`
	Unreachable int     `json:"unreachable"`
	RTTMinMs    float64 `json:"rtt_min_ms"`
	RTTAvgMs    float64 `json:"rtt_avg_ms"`
	RTTMaxMs    float64 `json:"rtt_max_ms"`
	RTTMDevMs   float64 `json:"rtt_mdev_ms"`
}

// tcpSummaryJSON is the final "summary" object.
type tcpSummaryJSON struct {
	Mode        string  `json:"mode"`
	Hosts       int     `json:"hosts"`
	Ports       int     `json:"ports"`
	Probes      int     `json:"probes"`
	Open        int     `json:"open"`
	Closed      int     `json:"closed"`
	Filtered    int     `json:"filtered"`
	Unreachable int     `json:"unreachable"`
	ElapsedMs   float64 `json:"elapsed_ms"`
}

func (r *tcpRenderer) summary(elapsed time.Duration) {
	if r.o.Count > 1 {
		for _, t := range r.targets {
			s := r.stats[t]
			if s.Sent == 0 {
				continue
			}
			r.p.Emit("stats", tcpStatsJSON{
				Target: t.Name, Addr: t.Addr.String(), Port: t.Port,
				Sent: s.Sent, Open: s.Open, Closed: s.Closed, Filtered: s.Filtered, Unreachable: s.Unreachable,
				RTTMinMs: Ms(s.RTTMin), RTTAvgMs: Ms(s.RTTAvg), RTTMaxMs: Ms(s.RTTMax), RTTMDevMs: Ms(s.RTTMDev),
			})
		}
	}
	foreign := r.origins.Foreign()
	for _, f := range foreign {
		r.p.Emit("reset_origin", tcpResetOriginJSON{
			Addr: f.Addr.String(), Ports: f.Ports, TTL: f.TTL, SYNACKTTL: f.SYNACKTTL,
			HopsCloser: f.HopsCloser(), Explain: resetOriginText(f, len(f.Ports)),
		})
	}
	if !r.p.JSON() {
		r.textSummary(foreign)
	}
	r.p.Emit("summary", tcpSummaryJSON{
		Mode: r.o.mode(), Hosts: len(r.hosts), Ports: len(r.targets), Probes: r.total.Sent,
		Open: r.total.Open, Closed: r.total.Closed, Filtered: r.total.Filtered, Unreachable: r.total.Unreachable,
		ElapsedMs: Ms(elapsed),
	})
}

// tcpResetOriginJSON is the "reset_origin" object: resets from one
// address that arrived with another TTL than its SYN-ACKs.
type tcpResetOriginJSON struct {
	Addr       string `json:"addr"`
	Ports      []int  `json:"ports"`
	TTL        int    `json:"ttl"`
	SYNACKTTL  int    `json:"synack_ttl"`
	HopsCloser int    `json:"hops_closer"`
	Explain    string `json:"explain"`
}

// resetOriginText says what the TTLs of f mean, listing at most
// maxPorts ports.
func resetOriginText(f handshake.ForeignResets, maxPorts int) string {
	ttl := "TTL"
	if f.Addr.Is6() {
		ttl = "hop limit"
	}
	n, it := len(f.Ports), "it"
	if n > 1 {
		it = "them"
	}
	who := fmt.Sprintf("a device %d %s closer than the one that accepted the open ports sent %s, likely a firewall rejecting with TCP resets in the host's name",
		f.HopsCloser(), plural(f.HopsCloser(), "hop", "hops"), it)
	if h := -f.HopsCloser(); h > 0 {
		who = fmt.Sprintf("a device %d %s farther than the one that accepted the open ports sent %s, likely the host behind a proxy or load balancer that answers the open ports itself",
			h, plural(h, "hop", "hops"), it)
	}
	return fmt.Sprintf("the %s from %s %s arrived with %s %d, the SYN-ACKs with %s %d: %s",
		plural(n, "reset", "resets"), plural(n, "port", "ports"), portRanges(f.Ports, maxPorts), ttl, f.TTL, ttl, f.SYNACKTTL, who)
}

// portRanges writes ports as a list with runs joined ("81-83,90"),
// cut after max items with the total.
func portRanges(ports []int, max int) string {
	var items []string
	for i := 0; i < len(ports); {
		j := i
		for j+1 < len(ports) && ports[j+1] == ports[j]+1 {
			j++
		}
		if j > i {
			items = append(items, fmt.Sprintf("%d-%d", ports[i], ports[j]))
		} else {
			items = append(items, fmt.Sprint(ports[i]))
		}
		i = j + 1
	}
	if len(items) > max {
		return strings.Join(items[:max], ",") + fmt.Sprintf(",… (%d ports)", len(ports))
	}
	return strings.Join(items, ",")
}

// textSummary prints, per host, the count of ports in each state and the
// open ones, and what the TTLs say about the origin of resets; with -c,
// each port's round-trip statistics like ping's.
func (r *tcpRenderer) textSummary(foreign []handshake.ForeignResets) {
	for _, host := range r.hosts {
		var (
			hs    handshake.Stats
			open  []string
			ports int
		)
		for _, t := range r.targets {
			if hostLabel(t) != host {
				continue
			}
			ports++
			s := r.stats[t]
			hs.Sent += s.Sent
			hs.Open += s.Open
			hs.Closed += s.Closed
			hs.Filtered += s.Filtered
			hs.Unreachable += s.Unreachable
			if s.Open > 0 {
				open = append(open, fmt.Sprint(t.Port))
			}
			if r.o.Count > 1 && s.Sent > 0 {
				line := fmt.Sprintf("%s: %d %s, %d open, %d closed, %d filtered, %d unreachable",
					portLabel(t), s.Sent, plural(s.Sent, "probe", "probes"), s.Open, s.Closed, s.Filtered, s.Unreachable)
				if s.Open > 0 {
					line += fmt.Sprintf("; rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms",
						Ms(s.RTTMin), Ms(s.RTTAvg), Ms(s.RTTMax), Ms(s.RTTMDev))
				}
				r.p.Printf("%s\n", line)
			}
		}
		if hs.Sent == 0 {
			continue
		}
		line := fmt.Sprintf("--- %s: %d %s probed: %d open, %d closed, %d filtered, %d unreachable",
			host, ports, plural(ports, "port", "ports"), hs.Open, hs.Closed, hs.Filtered, hs.Unreachable)
		if r.o.Count > 1 {
			line = fmt.Sprintf("--- %s: %d %s, %d %s: %d open, %d closed, %d filtered, %d unreachable",
				host, ports, plural(ports, "port", "ports"), hs.Sent, plural(hs.Sent, "probe", "probes"), hs.Open, hs.Closed, hs.Filtered, hs.Unreachable)
		}
		if len(open) > 0 && ports > 1 {
			line += "; open: " + strings.Join(open, ",")
		}
		r.p.Printf("%s\n", line)
		for _, f := range foreign {
			if r.addrOf(host) == f.Addr {
				r.p.Printf("    %s %s\n", r.p.Warn("note:"), resetOriginText(f, 20))
			}
		}
	}
}

// addrOf returns the address behind a host label.
func (r *tcpRenderer) addrOf(host string) netip.Addr {
	for _, t := range r.targets {
		if hostLabel(t) == host {
			return t.Addr
		}
	}
	return netip.Addr{}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
