package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/ping"
)

func TestPingBadInput(t *testing.T) {
	cases := []struct {
		args []string
		says string
	}{
		{[]string{"ping"}, "missing host"},
		{[]string{"ping", "-c", "-1", "198.18.1.10"}, "--count"},
		{[]string{"ping", "-c", "x", "198.18.1.10"}, "invalid argument"},
		{[]string{"ping", "-i", "0", "198.18.1.10"}, "--interval"},
		{[]string{"ping", "-i", "soon", "198.18.1.10"}, "not a duration"},
		{[]string{"ping", "-W", "0", "198.18.1.10"}, "--timeout"},
		{[]string{"ping", "-w", "-1", "198.18.1.10"}, "negative"},
		{[]string{"ping", "-s", "-1", "198.18.1.10"}, "--size"},
		{[]string{"ping", "-s", "70000", "198.18.1.10"}, "--size"},
		{[]string{"ping", "-s", "65520", "198.18.1.10"}, "too large for IPv4"},
		{[]string{"ping", "-t", "0", "198.18.1.10"}, "--ttl"},
		{[]string{"ping", "-t", "256", "198.18.1.10"}, "--ttl"},
		{[]string{"ping", "--privileged", "--unprivileged", "198.18.1.10"}, "cannot be used together"},
		{[]string{"ping", "-I", "", "198.18.1.10"}, "-I/--interface needs"},
		{[]string{"ping", "-I", "2001:db8::2", "198.18.1.10"}, "no target is"},
		{[]string{"ping", "--max-loss", "101", "198.18.1.10"}, "--max-loss"},
		{[]string{"ping", "--max-loss", "NaN", "198.18.1.10"}, "--max-loss"},
		{[]string{"ping", "-i", "NaN", "198.18.1.10"}, "is not a duration"},
		{[]string{"ping", "-W", "inf", "198.18.1.10"}, "is not a duration"},
		{[]string{"ping", "--max-rtt", "0", "198.18.1.10"}, "--max-rtt"},
		{[]string{"ping", "--rate", "0", "198.18.1.10"}, "--rate must be a positive number"},
		{[]string{"ping", "--rate", "-5", "198.18.1.10"}, "--rate must be a positive number"},
		{[]string{"ping", "--rate", "NaN", "198.18.1.10"}, "--rate must be a positive number"},
		{[]string{"ping", "--rate", "inf", "198.18.1.10"}, "--rate must be a positive number"},
		{[]string{"ping", "--rate", "fast", "198.18.1.10"}, "invalid argument"},
		{[]string{"ping", "--until-up", "--max-loss", "5", "198.18.1.10"}, "--until-up"},
		{[]string{"ping", "198.18.1.0/33"}, "not a CIDR block"},
		{[]string{"ping", "198.18.0.0/15"}, "more than 65536 addresses"},
		{[]string{"ping", "-4", "2001:db8::10"}, "not an IPv4 address"},
		{[]string{"ping", "-6", "198.18.1.0/28"}, "not an IPv6 block"},
		{[]string{"ping", "--bogus", "198.18.1.10"}, "unknown flag"},
	}
	// Bad input must be refused before any probe: a probe here would
	// leave the test's own machine.
	saved := pingProbe
	t.Cleanup(func() { pingProbe = saved })
	pingProbe = func(context.Context, []ping.Target, ping.Config) (*ping.Report, error) {
		t.Fatal("bad input reached the probes")
		return nil, nil
	}
	for _, c := range cases {
		checkUsageError(t, c.args, c.says)
	}
}

func TestPingHelp(t *testing.T) {
	checkHelp(t, []string{"ping"}, "Examples:", "-c, --count", "-i, --interval", "-W, --timeout", "-w, --deadline", "-s, --size",
		"-t, --ttl", "--df", "-I, --interface", "--privileged", "--unprivileged", "--max-loss PCT", "--max-rtt", "--until-up", "CIDR",
		"--rate PPS", "(default 1000)")
}

// fakeProbe replaces the probes for one test: it checks the configuration
// the flags produced, then plays events and returns the report.
func fakeProbe(t *testing.T, check func(ping.Config), events []ping.Event, rep *ping.Report, err error) {
	t.Helper()
	saved := pingProbe
	t.Cleanup(func() { pingProbe = saved })
	pingProbe = func(_ context.Context, targets []ping.Target, cfg ping.Config) (*ping.Report, error) {
		if check != nil {
			check(cfg)
		}
		if err != nil {
			return nil, err
		}
		cfg.OnStart([2]ping.SocketKind{ping.SocketRaw})
		for _, e := range events {
			e.Target = targets[e.Index]
			cfg.OnEvent(e)
		}
		for i := range rep.Results {
			rep.Results[i].Target = targets[i]
		}
		return rep, nil
	}
}

var (
	ms       = time.Millisecond
	router   = netip.MustParseAddr("198.18.0.1")
	prohibit = func() *failure.Failure {
		f := failure.New(failure.AdminProhibited, "icmp 3/13")
		f.From = "198.18.0.1"
		return f
	}()
	oneTarget = []ping.Event{
		{Kind: ping.EventReply, Seq: 1, RTT: 186 * time.Microsecond, TTL: 63, Bytes: 64, From: netip.MustParseAddr("198.18.1.10")},
		{Kind: ping.EventDuplicate, Seq: 1, RTT: 190 * time.Microsecond, TTL: 63, Bytes: 64},
		{Kind: ping.EventCorrupt, Seq: 2, Bytes: 64, Why: "bad checksum"},
		{Kind: ping.EventTimeout, Seq: 2},
		{Kind: ping.EventLate, Seq: 2, RTT: 2500 * ms, TTL: 63, Bytes: 64},
		{Kind: ping.EventICMPError, Seq: 3, From: router, ICMPType: 3, ICMPCode: 13, Message: "destination unreachable (communication administratively prohibited)", Failure: prohibit},
		{Kind: ping.EventLocalError, Seq: 4, Failure: failure.New(failure.NoRoute, "the send failed: no route to host")},
		{Kind: ping.EventReply, Seq: 5, RTT: 12340 * time.Microsecond, TTL: -1, Bytes: 64},
	}
	oneReport = &ping.Report{Elapsed: 4012 * ms, Results: []ping.Result{{
		Stats: ping.Stats{Transmitted: 5, Received: 2, Duplicates: 1, Corrupt: 1, Late: 1, Errors: 2,
			Min: 186 * time.Microsecond, Avg: 6263 * time.Microsecond, Max: 12340 * time.Microsecond, Mdev: 6077 * time.Microsecond,
			P50: 6263 * time.Microsecond, P95: 11732 * time.Microsecond},
		Failure:   failure.New(failure.PacketLoss, "60% loss, more than the 10% allowed"),
		Diagnosis: "3 of 5 probes lost (60%), more than the 10% allowed: some probes were lost",
	}}}
)

func TestPingText(t *testing.T) {
	fakeProbe(t, nil, oneTarget, oneReport, nil)
	out, errOut, code := runCLI(t, "ping", "-c", "5", "--max-loss", "10", "198.18.1.10")
	if code != 1 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	want := []string{
		"PING 198.18.1.10 (198.18.1.10) 56(84) bytes of data.",
		"64 bytes from 198.18.1.10: icmp_seq=1 ttl=63 time=0.186 ms",
		"64 bytes from 198.18.1.10: icmp_seq=1 ttl=63 time=0.190 ms (DUP!)",
		"corrupt reply from 198.18.1.10: icmp_seq=2: bad checksum",
		"no reply from 198.18.1.10: icmp_seq=2 within 2s",
		"64 bytes from 198.18.1.10: icmp_seq=2 ttl=63 time=2500.0 ms (late: after the 2s timeout, the probe stays lost)",
		"From 198.18.0.1 icmp_seq=3: destination unreachable (communication administratively prohibited) — a firewall rejects the traffic (administratively prohibited)",
		"local error for 198.18.1.10: icmp_seq=4: this machine has no route to the address (the send failed: no route to host)",
		"64 bytes from 198.18.1.10: icmp_seq=5 time=12.34 ms",
		"",
		"--- 198.18.1.10 ping statistics ---",
		"5 packets transmitted, 2 received, +1 duplicates, +1 corrupt, +1 late, +2 errors, 60% packet loss, time 4012ms",
		"rtt min/avg/max/mdev = 0.186/6.263/12.340/6.077 ms",
		"rtt p50/p95 = 6.263/11.732 ms",
		"diagnosis: 3 of 5 probes lost (60%), more than the 10% allowed: some probes were lost [network/packet-loss]",
	}
	if got := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); !slices.Equal(got, want) {
		t.Fatalf("output:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}

	fakeProbe(t, nil, oneTarget, oneReport, nil)
	out, _, _ = runCLI(t, "ping", "-q", "198.18.1.10")
	if strings.Contains(out, "bytes from") || strings.Contains(out, "From ") || !strings.Contains(out, "ping statistics") || !strings.Contains(out, "diagnosis:") {
		t.Fatalf("-q output:\n%s", out)
	}
}

// pingJSONKeys are the keys each NDJSON type must have (the list,
// plus what docs/json.md adds).
var pingJSONKeys = map[string][]string{
	"reply":       {"type", "target", "addr", "seq", "rtt_ms", "ttl", "bytes"},
	"duplicate":   {"type", "target", "addr", "seq", "rtt_ms", "ttl", "bytes"},
	"late":        {"type", "target", "addr", "seq", "rtt_ms", "ttl", "bytes"},
	"timeout":     {"type", "target", "addr", "seq"},
	"corrupt":     {"type", "target", "addr", "seq", "why", "bytes"},
	"icmp_error":  {"type", "target", "addr", "seq", "from", "icmp_type", "icmp_code", "layer", "reason", "message"},
	"local_error": {"type", "target", "addr", "seq", "layer", "reason", "message"},
	"summary": {"type", "target", "addr", "transmitted", "received", "duplicates", "corrupt", "late", "errors", "loss_pct",
		"rtt_min_ms", "rtt_avg_ms", "rtt_max_ms", "rtt_mdev_ms", "rtt_p50_ms", "rtt_p95_ms", "time_ms", "healthy", "layer", "reason", "diagnosis"},
}

func TestPingJSON(t *testing.T) {
	fakeProbe(t, nil, oneTarget, oneReport, nil)
	out, errOut, code := runCLI(t, "ping", "--json", "-c", "5", "198.18.1.10")
	if code != 1 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(oneTarget)+1 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	for i, line := range lines {
		if !strings.HasPrefix(line, `{"type":"`) {
			t.Fatalf("line %d does not start with its type: %s", i, line)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		typ := m["type"].(string)
		want := pingJSONKeys[typ]
		var got []string
		for k := range m {
			got = append(got, k)
		}
		slices.Sort(got)
		slices.Sort(want)
		if typ == "reply" && m["seq"] == 5.0 {
			want = slices.DeleteFunc(slices.Clone(want), func(k string) bool { return k == "ttl" })
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s keys %v, want %v", typ, got, want)
		}
	}
	var last map[string]any
	json.Unmarshal([]byte(lines[len(lines)-1]), &last)
	if last["type"] != "summary" || last["healthy"] != false || last["loss_pct"] != 60.0 || last["rtt_p95_ms"] != 11.732 || last["reason"] != "packet-loss" {
		t.Fatalf("summary %v", last)
	}
	var first map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	if first["rtt_ms"] != 0.186 || first["ttl"] != 63.0 || first["bytes"] != 64.0 || first["seq"] != 1.0 || first["addr"] != "198.18.1.10" {
		t.Fatalf("reply %v", first)
	}
}

func TestPingManyTargetsOverall(t *testing.T) {
	rep := &ping.Report{Elapsed: time.Second, Results: []ping.Result{
		{Stats: ping.Stats{Transmitted: 1, Received: 1, Min: ms, Avg: ms, Max: ms, P50: ms, P95: ms}, Healthy: true},
		{Stats: ping.Stats{Transmitted: 1, Errors: 1}, Failure: prohibit, Diagnosis: "no replies: " + prohibit.Explain()},
	}}
	events := []ping.Event{
		{Kind: ping.EventReply, Index: 0, Seq: 1, RTT: ms, TTL: 64, Bytes: 64},
		{Kind: ping.EventICMPError, Index: 1, Seq: 1, From: router, ICMPType: 3, ICMPCode: 13, Message: "destination unreachable (communication administratively prohibited)", Failure: prohibit},
	}
	fakeProbe(t, nil, events, rep, nil)
	out, _, code := runCLI(t, "ping", "-c", "1", "198.18.1.10", "198.18.6.6")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	if strings.Contains(out, "--rate") {
		t.Errorf("two targets fit into a round at the default rate; no note expected:\n%s", out)
	}
	for _, want := range []string{"PING 2 targets, 56 bytes of data each.", "From 198.18.0.1 (for 198.18.6.6) icmp_seq=1:",
		"--- 198.18.1.10 ping statistics ---", "--- 198.18.6.6 ping statistics ---", "✗ 2 targets: 1 healthy, 1 not: 198.18.6.6"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	fakeProbe(t, nil, events, rep, nil)
	out, _, _ = runCLI(t, "ping", "--json", "-c", "1", "198.18.1.10", "198.18.6.6")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var overall map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &overall); err != nil {
		t.Fatal(err)
	}
	if overall["type"] != "summary" || overall["targets"] != 2.0 || overall["healthy_targets"] != 1.0 || overall["healthy"] != false ||
		overall["transmitted"] != 2.0 || overall["loss_pct"] != 50.0 || overall["target"] != nil {
		t.Fatalf("overall %v", overall)
	}
}

// TestPingRateStretchesTheRound: when the targets do not fit into the
// interval at the rate, the header says how long a round takes.
func TestPingRateStretchesTheRound(t *testing.T) {
	rep := &ping.Report{Elapsed: time.Second}
	for range 14 {
		rep.Results = append(rep.Results, ping.Result{Stats: ping.Stats{Transmitted: 1, Received: 1, Min: ms, Avg: ms, Max: ms, P50: ms, P95: ms}, Healthy: true})
	}
	fakeProbe(t, nil, nil, rep, nil)
	out, _, code := runCLI(t, "ping", "-c", "1", "--rate", "4", "198.18.1.0/28")
	if code != 0 || !strings.Contains(out, "PING 14 targets, 56 bytes of data each.\nAt most 4 echo requests per second (--rate): a round over every target takes 3.5s.\n") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestPingFlagsReachTheConfig(t *testing.T) {
	cases := []struct {
		args  []string
		check func(ping.Config) bool
	}{
		{[]string{"198.18.1.10"}, func(c ping.Config) bool {
			return c.Count == 4 && c.Interval == time.Second && c.Timeout == 2*time.Second && c.Size == 56 && c.Socket == ping.SocketAuto && c.Deadline == 0 &&
				c.Rate == ping.DefaultRate
		}},
		{[]string{"--rate", "250.5", "198.18.1.10"}, func(c ping.Config) bool { return c.Rate == 250.5 }},
		{[]string{"-c", "0", "-i", "0.2", "-W", "500ms", "-w", "10", "-s", "1400", "-t", "3", "--df", "198.18.1.10"}, func(c ping.Config) bool {
			return c.Count == 0 && c.Interval == 200*ms && c.Timeout == 500*ms && c.Deadline == 10*time.Second && c.Size == 1400 && c.TTL == 3 && c.DontFragment
		}},
		{[]string{"--until-up", "198.18.1.10"}, func(c ping.Config) bool { return c.UntilUp && c.Count == 0 }},
		{[]string{"--until-up", "-c", "9", "198.18.1.10"}, func(c ping.Config) bool { return c.UntilUp && c.Count == 9 }},
		{[]string{"-w", "10", "198.18.1.10"}, func(c ping.Config) bool { return c.Deadline == 10*time.Second && c.Count == 0 }},
		{[]string{"-w", "10", "-c", "3", "198.18.1.10"}, func(c ping.Config) bool { return c.Deadline == 10*time.Second && c.Count == 3 }},
		{[]string{"-w", "0", "198.18.1.10"}, func(c ping.Config) bool { return c.Deadline == 0 && c.Count == 4 }},
		{[]string{"-I", "eth1", "198.18.1.10"}, func(c ping.Config) bool { return c.Interface == "eth1" && !c.Source.IsValid() }},
		{[]string{"-I", "198.18.0.2", "198.18.1.10"}, func(c ping.Config) bool { return c.Source == netip.MustParseAddr("198.18.0.2") && c.Interface == "" }},
		{[]string{"--privileged", "198.18.1.10"}, func(c ping.Config) bool { return c.Socket == ping.SocketRaw }},
		{[]string{"--unprivileged", "198.18.1.10"}, func(c ping.Config) bool { return c.Socket == ping.SocketDatagram }},
		{[]string{"--max-loss", "0", "--max-rtt", "50ms", "198.18.1.10"}, func(c ping.Config) bool {
			return c.Limits == ping.Limits{MaxLoss: 0, LimitLoss: true, MaxAvgRTT: 50 * ms}
		}},
		{[]string{"198.18.1.10"}, func(c ping.Config) bool { return !c.Limits.LimitLoss }},
	}
	for _, c := range cases {
		ok := false
		fakeProbe(t, func(cfg ping.Config) { ok = c.check(cfg) }, nil, &ping.Report{Results: []ping.Result{{Healthy: true}}}, nil)
		if _, errOut, code := runCLI(t, append([]string{"ping"}, c.args...)...); code != 0 || !ok {
			t.Errorf("%v: exit %d (%s), config as expected: %v", c.args, code, errOut, ok)
		}
	}
}

// TestPingReplyFromAnotherAddress: a multicast target is answered by its
// members; each line says who answered, as iputils ping does.
func TestPingReplyFromAnotherAddress(t *testing.T) {
	member := netip.MustParseAddr("2001:db8::7")
	events := []ping.Event{
		{Kind: ping.EventReply, Seq: 1, RTT: ms, TTL: 64, Bytes: 64, From: member},
		{Kind: ping.EventDuplicate, Seq: 1, RTT: 2 * ms, TTL: 64, Bytes: 64, From: netip.MustParseAddr("2001:db8::8")},
	}
	rep := &ping.Report{Elapsed: time.Second, Results: []ping.Result{{Healthy: true,
		Stats: ping.Stats{Transmitted: 1, Received: 1, Duplicates: 1, Min: ms, Avg: ms, Max: ms, P50: ms, P95: ms}}}}
	fakeProbe(t, nil, events, rep, nil)
	out, _, _ := runCLI(t, "ping", "-c", "1", "ff02::1")
	for _, want := range []string{"64 bytes from 2001:db8::7 (for ff02::1): icmp_seq=1 ttl=64 time=1.000 ms\n",
		"64 bytes from 2001:db8::8 (for ff02::1): icmp_seq=1 ttl=64 time=2.000 ms (DUP!)\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	fakeProbe(t, nil, events, rep, nil)
	out, _, _ = runCLI(t, "ping", "--json", "-c", "1", "ff02::1")
	if !strings.Contains(out, `{"type":"reply","target":"ff02::1","addr":"ff02::1","seq":1,"rtt_ms":1,"ttl":64,"bytes":64,"from":"2001:db8::7"}`) {
		t.Errorf("JSON:\n%s", out)
	}
	// A reply from the target itself has no "from".
	fakeProbe(t, nil, oneTarget[:1], oneReport, nil)
	if out, _, _ := runCLI(t, "ping", "--json", "-c", "1", "198.18.1.10"); strings.Contains(out, `"from"`) {
		t.Errorf("JSON:\n%s", out)
	}
}

func TestPingSetupErrors(t *testing.T) {
	perm := failure.Localf(errors.New("operation not permitted"), "ping: no permission to send ICMP: grant ... or allow ...")
	fakeProbe(t, nil, nil, nil, perm)
	out, errOut, code := runCLI(t, "ping", "198.18.1.10")
	if code != 4 || out != "" || errOut != "netdiag: ping: no permission to send ICMP: grant ... or allow ...\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestPingHealthyExitsZero(t *testing.T) {
	rep := &ping.Report{Elapsed: time.Second, Results: []ping.Result{{Healthy: true,
		Stats: ping.Stats{Transmitted: 1, Received: 1, Min: ms, Avg: ms, Max: ms, P50: ms, P95: ms}}}}
	fakeProbe(t, nil, []ping.Event{{Kind: ping.EventReply, Seq: 1, RTT: ms, TTL: 64, Bytes: 64}}, rep, nil)
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"ping", "-c", "1", "198.18.1.10"}, &Streams{Out: &out, Err: &errb, Getenv: func(string) string { return "" }})
	if code != 0 || errb.Len() != 0 || strings.Contains(out.String(), "diagnosis") {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
}

// A ping run uses one Go processor, so that no runtime thread parked in
// epoll_wait is woken inside the timed send (see oneProc), unless the user
// chose GOMAXPROCS; either way the setting is back afterwards.
func TestPingRunsOnOneProcessor(t *testing.T) {
	// Two processors at least, so that the test tells the cases apart on
	// a one-CPU machine too.
	before := max(runtime.GOMAXPROCS(0), 2)
	saved := runtime.GOMAXPROCS(before)
	t.Cleanup(func() { runtime.GOMAXPROCS(saved) })
	rep := &ping.Report{Elapsed: time.Second, Results: []ping.Result{{Healthy: true,
		Stats: ping.Stats{Transmitted: 1, Received: 1, Min: ms, Avg: ms, Max: ms, P50: ms, P95: ms}}}}
	for _, c := range []struct {
		env  string
		want int
	}{{"", 1}, {"3", before}} {
		during := 0
		fakeProbe(t, func(ping.Config) { during = runtime.GOMAXPROCS(0) }, nil, rep, nil)
		var out, errb bytes.Buffer
		getenv := func(k string) string {
			if k == "GOMAXPROCS" {
				return c.env
			}
			return ""
		}
		code := Run(context.Background(), []string{"ping", "-c", "1", "198.18.1.10"}, &Streams{Out: &out, Err: &errb, Getenv: getenv})
		if code != 0 {
			t.Fatalf("GOMAXPROCS=%q: exit %d\n%s%s", c.env, code, out.String(), errb.String())
		}
		if during != c.want {
			t.Errorf("GOMAXPROCS=%q: the run had %d processors, want %d", c.env, during, c.want)
		}
		if after := runtime.GOMAXPROCS(0); after != before {
			t.Errorf("GOMAXPROCS=%q: %d processors after the run, want %d as before", c.env, after, before)
		}
	}
}
