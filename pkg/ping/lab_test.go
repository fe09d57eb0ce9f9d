package ping_test

import (
	"context"
	"errors"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netdiag/netdiag/internal/netlab"
	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/ping"
)

// These tests run pkg/ping with real sockets inside the lab's client
// namespace (they skip unless root on Linux with ip and nft).

// labRun runs cfg against addrs from the lab's client and returns the
// report and the events.
func labRun(t *testing.T, lab *netlab.Lab, cfg ping.Config, addrs ...netip.Addr) (*ping.Report, []ping.Event) {
	t.Helper()
	var targets []ping.Target
	for _, a := range addrs {
		targets = append(targets, ping.Target{Name: a.String(), Addr: a})
	}
	var events []ping.Event
	cfg.OnEvent = func(e ping.Event) { events = append(events, e) }
	var rep *ping.Report
	err := lab.Client.Do(func() error {
		var err error
		rep, err = ping.Run(context.Background(), targets, cfg)
		return err
	})
	if err != nil {
		t.Fatalf("ping.Run: %v", err)
	}
	return rep, events
}

func quick(count int) ping.Config {
	cfg := ping.DefaultConfig()
	cfg.Count, cfg.Interval = count, 200*time.Millisecond
	return cfg
}

func count(events []ping.Event, k ping.EventKind) int {
	n := 0
	for _, e := range events {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func TestLabHealthyHost(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	for _, kind := range []ping.SocketKind{ping.SocketRaw, ping.SocketDatagram} {
		if kind == ping.SocketDatagram {
			lab.Client.Sysctl(t, "net.ipv4.ping_group_range", "0 2147483647")
		}
		cfg := quick(3)
		cfg.Socket = kind
		rep, events := labRun(t, lab, cfg, srv.Addr4, srv.Addr6)
		if !rep.Healthy() || rep.Sockets != [2]ping.SocketKind{kind, kind} {
			t.Fatalf("%v: report %+v", kind, rep)
		}
		for _, res := range rep.Results {
			st := res.Stats
			if st.Transmitted != 3 || st.Received != 3 || st.Duplicates+st.Corrupt+st.Late+st.Errors != 0 {
				t.Fatalf("%v %s: %+v", kind, res.Target.Name, st)
			}
			// Consistent figures; how fast the lab is on a busy machine is
			// for the benchmarks, not for a test.
			if st.Min <= 0 || st.P50 < st.Min || st.P95 < st.P50 || st.Max < st.P95 ||
				st.Avg < st.Min || st.Avg > st.Max || st.Max >= cfg.Timeout {
				t.Fatalf("%v %s: implausible round-trip times %+v", kind, res.Target.Name, st)
			}
		}
		for _, e := range events {
			if e.Kind != ping.EventReply || e.TTL != 63 || e.Bytes != 64 || e.From != e.Target.Addr {
				t.Fatalf("%v: event %+v", kind, e)
			}
		}
		if rep.Elapsed > 1500*time.Millisecond {
			t.Fatalf("%v: three answered probes 0.2 s apart took %v", kind, rep.Elapsed)
		}
	}
}

func TestLabDroppedICMPEndsAfterTheLastTimeout(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, Dst: srv.Addr4, Proto: netlab.ICMP})
	start := time.Now()
	rep, events := labRun(t, lab, quick(3), srv.Addr4)
	took := time.Since(start)
	if count(events, ping.EventTimeout) != 3 || len(events) != 3 {
		t.Fatalf("events %+v", events)
	}
	// Last probe at 0.4 s plus the 2 s timeout: about 2.4 s, never 6 s.
	if took < 2300*time.Millisecond || took > 3500*time.Millisecond {
		t.Fatalf("the run took %v, want about 2.4 s", took)
	}
	res := rep.Results[0]
	if res.Healthy || res.Failure.Reason != failure.Timeout || !strings.Contains(res.Diagnosis, "no ICMP errors") {
		t.Fatalf("result %+v", res)
	}
}

// TestLabSlowNeighbour gives the client the kernel's default neighbour
// resolution (three solicitations a second apart, so the kernel gives up
// and reports host unreachable only after 3 s), which outlasts ping's
// 2 s timeout. A target on the client's own link that nobody owns, and
// one behind a gateway that nobody owns, are still neighbor-unresolved
// at the link layer, not dropped silently by a firewall; a host behind
// the working router whose echo requests are dropped stays a silent drop.
func TestLabSlowNeighbour(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	for _, fam := range []string{"ipv4", "ipv6"} {
		lab.Client.Sysctl(t, "net."+fam+".neigh.eth0.retrans_time_ms", "1000")
		lab.Client.Sysctl(t, "net."+fam+".neigh.eth0.mcast_solicit", "3")
	}
	deadGW4, deadGW6 := netlab.NoNeighbor4.Prev(), netlab.NoNeighbor6.Prev()
	behind4, behind6 := netlab.FreeNet4.Addr().Next(), netlab.FreeNet6.Addr().Next()
	lab.Client.IP(t, "route", "add", netlab.FreeNet4.String(), "via", deadGW4.String())
	lab.Client.IP(t, "-6", "route", "add", netlab.FreeNet6.String(), "via", deadGW6.String())
	srv := lab.Servers[0]
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, Dst: srv.Addr4, Proto: netlab.ICMP})

	cfg := ping.DefaultConfig()
	cfg.Count = 1
	start := time.Now()
	rep, events := labRun(t, lab, cfg, netlab.NoNeighbor4, netlab.NoNeighbor6, behind4, behind6, srv.Addr4)
	took := time.Since(start)
	if count(events, ping.EventTimeout) != 5 || len(events) != 5 {
		t.Fatalf("events %+v, want five timeouts (the kernel reports its failure only after 3 s)", events)
	}
	if took > 2900*time.Millisecond {
		t.Fatalf("the run took %v: it must end at the 2 s timeout, not wait for the kernel", took)
	}
	hops := []netip.Addr{netlab.NoNeighbor4, netlab.NoNeighbor6, deadGW4, deadGW6}
	for i, hop := range hops {
		res := rep.Results[i]
		f := res.Failure
		if res.Healthy || f == nil || f.Reason != failure.NeighborUnresolved || f.Layer != failure.LayerLink ||
			!strings.Contains(f.Detail, " answer from "+hop.String()+" ") || !strings.Contains(res.Diagnosis, "never left this machine") {
			t.Errorf("%s: failure %+v, diagnosis %q; want neighbor-unresolved for %s", res.Target.Name, f, res.Diagnosis, hop)
		}
	}
	if res := rep.Results[4]; res.Failure == nil || res.Failure.Reason != failure.Timeout || !strings.Contains(res.Diagnosis, "dropped silently") {
		t.Errorf("dropped behind the router: %+v", res)
	}
}

func TestLabICMPErrors(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	loop := lab.AddRoutingLoop(t)
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.RejectAdminProhibited, Dst: srv.Addr4, Proto: netlab.ICMP})
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.RejectAdminProhibited, Dst: srv.Addr6, Proto: netlab.ICMP})
	router4, router6 := netlab.RouterClientSide4, netlab.RouterClientSide6
	cases := []errorCase{
		{"admin-prohibited", srv.Addr4, router4, 3, 13, failure.AdminProhibited},
		{"admin-prohibited v6", srv.Addr6, router6, 1, 1, failure.AdminProhibited},
		{"routing loop", loop.Target4, netlab.Router2Transit4, 11, 0, failure.TTLExceeded},
		{"routing loop v6", loop.Target6, netlab.Router2Transit6, 3, 0, failure.TTLExceeded},
		{"no host (ARP fails)", netlab.NoHost4, router4, 3, 1, failure.HostUnreachable},
		{"no host (ND fails)", netlab.NoHost6, router6, 1, 3, failure.HostUnreachable},
		{"no neighbour on the client's own link", netlab.NoNeighbor4, netlab.Client4, 3, 1, failure.NeighborUnresolved},
	}
	checkErrors(t, lab, cases)
}

// TestLabRouteErrors has a lab of its own: the kernel limits the IPv4
// errors of the router's routes per client, and other ICMP errors use up
// the same tokens (see netlab).
func TestLabRouteErrors(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	router4, router6 := netlab.RouterClientSide4, netlab.RouterClientSide6
	checkErrors(t, lab, []errorCase{
		{"unreachable route", netlab.UnreachableNet4.Addr().Next(), router4, 3, 1, failure.HostUnreachable},
		{"no route", netlab.NoRouteNet4.Addr().Next(), router4, 3, 0, failure.NetUnreachable},
		{"unreachable route v6", netlab.UnreachableNet6.Addr().Next(), router6, 1, 0, failure.NetUnreachable},
		{"prohibit route v6", netlab.ProhibitNet6.Addr().Next(), router6, 1, 1, failure.AdminProhibited},
	})
}

type errorCase struct {
	name      string
	dst       netip.Addr
	from      netip.Addr
	typ, code uint8
	reason    failure.Reason
}

// checkErrors pings each case's destination three times and expects ICMP
// errors as the case says, matched to their probes.
func checkErrors(t *testing.T, lab *netlab.Lab, cases []errorCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			rep, events := labRun(t, lab, quick(3), c.dst)
			took := time.Since(start)
			errs := count(events, ping.EventICMPError)
			// The kernel's own limiter for route errors (see netlab) may
			// swallow some; at least one must come, and only errors.
			if errs == 0 || errs+count(events, ping.EventTimeout) != 3 {
				t.Fatalf("events %+v", events)
			}
			for _, e := range events {
				if e.Kind != ping.EventICMPError {
					continue
				}
				if e.From != c.from || e.ICMPType != c.typ || e.ICMPCode != c.code || e.Failure.Reason != c.reason ||
					e.Failure.From != c.from.String() || e.Seq < 1 || e.Seq > 3 {
					t.Fatalf("event %+v (failure %+v)", e, e.Failure)
				}
			}
			res := rep.Results[0]
			if res.Healthy || res.Failure.Reason != c.reason || res.Stats.Errors != errs ||
				!strings.Contains(res.Diagnosis, "reported by "+c.from.String()) {
				t.Fatalf("result %+v", res)
			}
			if errs == 3 && took > 2*time.Second {
				t.Fatalf("errors settle their probes: the run took %v", took)
			}
		})
	}
}

func TestLabTTL(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	cfg := quick(2)
	cfg.TTL = 1
	rep, events := labRun(t, lab, cfg, lab.Servers[0].Addr4, lab.Servers[0].Addr6)
	if count(events, ping.EventICMPError) != 4 {
		t.Fatalf("events %+v", events)
	}
	for _, res := range rep.Results {
		if res.Failure == nil || res.Failure.Reason != failure.TTLExceeded {
			t.Fatalf("result %+v", res)
		}
	}
}

func TestLabDontFragment(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	lab.Router.IP(t, "link", "set", "dev", "br0", "mtu", "1300")
	cfg := quick(3)
	cfg.Size, cfg.DontFragment = 1400, true
	rep, events := labRun(t, lab, cfg, lab.Servers[0].Addr4, lab.Servers[0].Addr6)
	for _, res := range rep.Results {
		if res.Healthy || res.Failure.Reason != failure.FragNeeded || res.Stats.Errors != 3 {
			t.Fatalf("result %+v", res)
		}
	}
	var mtus []int
	for _, e := range events {
		if e.Kind == ping.EventICMPError {
			mtus = append(mtus, e.MTU)
		}
	}
	// The router's error teaches the kernel the path MTU; later requests
	// are refused locally.
	if len(mtus) == 0 || mtus[0] != 1300 || count(events, ping.EventLocalError)+len(mtus) != 6 {
		t.Fatalf("events %+v", events)
	}
	// Without --df the requests are fragmented and answered.
	cfg.DontFragment = false
	if rep, _ := labRun(t, lab, cfg, lab.Servers[0].Addr4); !rep.Healthy() {
		t.Fatalf("fragmented requests: %+v", rep.Results[0])
	}
}

func TestLabResponderAnomalies(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	resp := srv.StartResponder(t, nil)

	t.Run("50 ms delay", func(t *testing.T) {
		resp.SetPlan(netlab.Always(netlab.Reply{Delay: 50 * time.Millisecond}))
		cfg := quick(10)
		cfg.Interval = 100 * time.Millisecond
		wire := captureEchoes(t, lab, 40)
		rep, events := labRun(t, lab, cfg, srv.Addr4, srv.Addr6)
		if !rep.Healthy() || count(events, ping.EventReply) != 20 {
			t.Fatalf("events %+v", events)
		}
		// tcpdump on the client's link sees each request leave and its
		// reply arrive, by the kernel's clock: the true round trip, which
		// the responder's delay makes 50 ms or more (more when a busy
		// machine runs its timer late). ping's RTT is within 1 ms of it.
		rtts := wire()
		var worst time.Duration
		for _, e := range events {
			w, ok := rtts[echoKey{e.Target.Addr, e.Seq}]
			if !ok || w < 50*time.Millisecond || e.RTT < w-time.Millisecond || e.RTT > w+time.Millisecond {
				t.Fatalf("%s seq %d: round trip %v, on the wire %v (seen: %v)", e.Target.Name, e.Seq, e.RTT, w, ok)
			}
			worst = max(worst, e.RTT-w, w-e.RTT)
		}
		t.Logf("largest difference from the wire: %v", worst)
	})
	t.Run("duplicates", func(t *testing.T) {
		resp.SetPlan(netlab.Always(netlab.Reply{Copies: 3, Delay: time.Millisecond}))
		rep, events := labRun(t, lab, quick(3), srv.Addr4, srv.Addr6)
		for _, res := range rep.Results {
			// The run ends with the last reply: its copies are not waited for.
			if st := res.Stats; st.Received != 3 || st.Duplicates < 4 || !res.Healthy {
				t.Fatalf("%s: %+v", res.Target.Name, st)
			}
		}
		if count(events, ping.EventDuplicate) < 8 {
			t.Fatalf("events %+v", events)
		}
	})
	t.Run("bad checksum", func(t *testing.T) {
		resp.SetPlan(netlab.Always(netlab.Reply{BadChecksum: true}))
		rep, events := labRun(t, lab, quick(3), srv.Addr4)
		res := rep.Results[0]
		if res.Stats.Corrupt != 3 || res.Stats.Received != 0 || res.Failure.Reason != failure.Corrupt {
			t.Fatalf("result %+v", res)
		}
		for _, e := range events {
			if e.Kind == ping.EventCorrupt && e.Why != "bad checksum" {
				t.Fatalf("event %+v", e)
			}
		}
		// The kernel drops ICMPv6 with a bad checksum before any socket:
		// those probes are simply lost.
		rep, _ = labRun(t, lab, quick(2), srv.Addr6)
		if st := rep.Results[0].Stats; st.Received != 0 || st.Corrupt != 0 {
			t.Fatalf("IPv6: %+v", st)
		}
	})
	t.Run("foreign identifier", func(t *testing.T) {
		resp.SetPlan(netlab.Always(netlab.Reply{ForeignID: true}))
		rep, events := labRun(t, lab, quick(2), srv.Addr4, srv.Addr6)
		if count(events, ping.EventTimeout) != 4 || len(events) != 4 {
			t.Fatalf("replies for another process must be ignored: %+v", events)
		}
		for _, res := range rep.Results {
			if res.Stats.Received+res.Stats.Corrupt+res.Stats.Duplicates != 0 {
				t.Fatalf("%+v", res.Stats)
			}
		}
	})
	t.Run("changed payload", func(t *testing.T) {
		resp.SetPlan(netlab.Always(netlab.Reply{ChangePayload: true}))
		rep, events := labRun(t, lab, quick(2), srv.Addr4, srv.Addr6)
		for _, res := range rep.Results {
			if res.Stats.Corrupt != 2 || res.Stats.Received != 0 {
				t.Fatalf("%s: %+v", res.Target.Name, res.Stats)
			}
		}
		for _, e := range events {
			if e.Kind == ping.EventCorrupt && e.Why != "payload changed" {
				t.Fatalf("event %+v", e)
			}
		}
	})
	t.Run("late replies", func(t *testing.T) {
		resp.SetPlan(func(e netlab.Echo) netlab.Reply {
			if e.Seq == 1 {
				return netlab.Reply{Delay: 700 * time.Millisecond}
			}
			return netlab.Reply{}
		})
		cfg := quick(5)
		cfg.Timeout = 500 * time.Millisecond
		wire := captureEchoes(t, lab, 10)
		rep, events := labRun(t, lab, cfg, srv.Addr4)
		res := rep.Results[0]
		// The late reply is timed as any other: within 1 ms of its round
		// trip on the wire, which the responder's delay makes 700 ms or more.
		w := wire()[echoKey{srv.Addr4, 1}]
		if st := res.Stats; st.Received != 4 || st.Late != 1 || w < 700*time.Millisecond ||
			st.SlowestLate < w-time.Millisecond || st.SlowestLate > w+time.Millisecond {
			t.Fatalf("stats %+v, on the wire %v", st, w)
		}
		var kinds []string
		for _, e := range events {
			if e.Seq == 1 {
				kinds = append(kinds, e.Kind.String())
			}
		}
		if strings.Join(kinds, " ") != "timeout late" {
			t.Fatalf("probe 1: %v", kinds)
		}
		// A late reply to the last probe is never waited for: the run ends
		// at the 0.5 s timeout, before the reply comes at 1.5 s.
		resp.SetPlan(netlab.Always(netlab.Reply{Delay: 1500 * time.Millisecond}))
		cfg.Count = 1
		start := time.Now()
		rep, events = labRun(t, lab, cfg, srv.Addr4)
		if took := time.Since(start); took >= 1500*time.Millisecond || len(events) != 1 || events[0].Kind != ping.EventTimeout {
			t.Fatalf("took %v, events %+v", took, events)
		}
		if !strings.Contains(rep.Results[0].Diagnosis, "no replies") {
			t.Fatalf("diagnosis %q", rep.Results[0].Diagnosis)
		}
	})
	if err := resp.Err(); err != nil {
		t.Fatalf("responder: %v", err)
	}
}

// echoKey names an echo request by its destination and sequence number.
type echoKey struct {
	addr netip.Addr
	seq  int
}

var echoLineRE = regexp.MustCompile(`^(\d+)\.(\d{9}) IP6? (\S+) > (\S+): ICMP6?,? echo (request|reply), id \d+, seq (\d+),`)

// captureEchoes runs tcpdump on the client's link until it has seen n echo
// requests and replies. The function it returns waits for that and gives
// the round trip of every answered request by the kernel's timestamps.
func captureEchoes(t *testing.T, lab *netlab.Lab, n int) func() map[echoKey]time.Duration {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skipf("needs tcpdump (Debian package tcpdump): %v", err)
	}
	dump := lab.Client.Start(t, "tcpdump", "-i", "eth0", "-n", "-l", "-tt", "--time-stamp-precision=nano", "-c", strconv.Itoa(n),
		"icmp[0] == 0 or icmp[0] == 8 or (icmp6 and (ip6[40] == 128 or ip6[40] == 129))")
	dump.WaitReady(t, func() error {
		if !strings.Contains(dump.Output(), "listening on") {
			return errors.New("tcpdump is not listening yet")
		}
		return nil
	})
	return func() map[echoKey]time.Duration {
		t.Helper()
		select {
		case <-dump.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("tcpdump did not see %d echo packets:\n%s", n, dump.Output())
		}
		sent := map[echoKey]time.Time{}
		rtts := map[echoKey]time.Duration{}
		for _, line := range strings.Split(dump.Output(), "\n") {
			m := echoLineRE.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			sec, _ := strconv.ParseInt(m[1], 10, 64)
			nsec, _ := strconv.ParseInt(m[2], 10, 64)
			at := time.Unix(sec, nsec)
			seq, _ := strconv.Atoi(m[6])
			if m[5] == "request" {
				sent[echoKey{netip.MustParseAddr(m[4]), seq}] = at
			} else if k := (echoKey{netip.MustParseAddr(m[3]), seq}); !sent[k].IsZero() {
				rtts[k] = at.Sub(sent[k])
			}
		}
		return rtts
	}
}

func TestLabManyTargetsAndACIDR(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{Servers: 2})
	targets, err := ping.Targets(context.Background(), []string{"198.18.1.8/29", lab.Servers[0].Addr6.String()}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var addrs []netip.Addr
	for _, tg := range targets {
		addrs = append(addrs, tg.Addr)
	}
	rep, _ := labRun(t, lab, quick(2), addrs...)
	if len(rep.Results) != 7 {
		t.Fatalf("%d results", len(rep.Results))
	}
	healthy := map[string]bool{"198.18.1.10": true, "198.18.1.11": true, lab.Servers[0].Addr6.String(): true}
	for _, res := range rep.Results {
		if res.Healthy != healthy[res.Target.Name] {
			t.Fatalf("%s: %+v", res.Target.Name, res)
		}
		if !res.Healthy && res.Failure.Reason != failure.HostUnreachable && res.Failure.Reason != failure.Timeout {
			t.Fatalf("%s: %+v", res.Target.Name, res.Failure)
		}
	}
}

func TestLabInterfaceAndSource(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	cfg := quick(1)
	cfg.Interface = "eth0"
	if rep, _ := labRun(t, lab, cfg, lab.Servers[0].Addr4); !rep.Healthy() {
		t.Fatalf("interface eth0: %+v", rep.Results[0])
	}
	cfg = quick(1)
	cfg.Source = netlab.Client4
	if rep, _ := labRun(t, lab, cfg, lab.Servers[0].Addr4); !rep.Healthy() {
		t.Fatalf("source %v: %+v", netlab.Client4, rep.Results[0])
	}
	for _, mod := range []func(*ping.Config){
		func(c *ping.Config) { c.Interface = "nosuch0" },
		func(c *ping.Config) { c.Source = netip.MustParseAddr("198.18.0.77") },
	} {
		cfg := quick(1)
		mod(&cfg)
		err := lab.Client.Do(func() error {
			_, err := ping.Run(context.Background(), []ping.Target{{Name: "x", Addr: lab.Servers[0].Addr4}}, cfg)
			return err
		})
		var fe *failure.Error
		if !errors.As(err, &fe) || fe.Kind != failure.KindLocal {
			t.Fatalf("%+v: got %v, want a local error (exit 4)", cfg, err)
		}
	}
}
