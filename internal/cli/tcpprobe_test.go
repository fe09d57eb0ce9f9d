package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/handshake"
	"github.com/netdiag/netdiag/pkg/layers"
	"github.com/netdiag/netdiag/pkg/resolve"
)

func TestTCPProbeBadInput(t *testing.T) {
	cases := []struct {
		args []string
		says string
	}{
		{[]string{"tcpprobe"}, "missing target"},
		{[]string{"tcpprobe", "127.0.0.1"}, `"127.0.0.1": missing port: write 127.0.0.1:PORT, or give the ports with -p`},
		{[]string{"tcpprobe", "2001:db8::10:80"}, `"2001:db8::10:80": missing port: write [2001:db8::10:80]:PORT (an IPv6 address needs brackets before a port)`},
		{[]string{"tcpprobe", "127.0.0.1:0"}, "out of range"},
		{[]string{"tcpprobe", "127.0.0.1:65536"}, "out of range"},
		{[]string{"tcpprobe", "127.0.0.1:http"}, "not a number"},
		{[]string{"tcpprobe", "[::1:80"}, "missing ']'"},
		{[]string{"tcpprobe", "-p", "80,,81", "127.0.0.1"}, "empty item"},
		{[]string{"tcpprobe", "-p", "90-80", "127.0.0.1"}, "runs backwards"},
		{[]string{"tcpprobe", "-p", "1-70000", "127.0.0.1"}, "out of range"},
		{[]string{"tcpprobe", "-p", "80", "127.0.0.1:22"}, "not both"},
		{[]string{"tcpprobe", "-c", "0", "127.0.0.1:22"}, "--count"},
		{[]string{"tcpprobe", "--parallel", "-1", "127.0.0.1:22"}, "--parallel"},
		{[]string{"tcpprobe", "--rate", "-5", "127.0.0.1:22"}, "--rate"},
		{[]string{"tcpprobe", "--rate", "NaN", "127.0.0.1:22"}, "--rate must be 0 (no limit) or at least 0.01"},
		{[]string{"tcpprobe", "--rate", "Inf", "127.0.0.1:22"}, "--rate"},
		{[]string{"tcpprobe", "--rate", "1e-300", "127.0.0.1:22"}, "--rate"},
		{[]string{"tcpprobe", "-c", "2", "-i", "0", "127.0.0.1:22"}, "--interval"},
		{[]string{"tcpprobe", "-i", "soon", "127.0.0.1:22"}, "not a duration"},
		{[]string{"tcpprobe", "-6", "127.0.0.1:22"}, "not an IPv6 address"},
		{[]string{"tcpprobe", "[fe80::1]:22"}, "fe80::1 is a link-local address: name the interface, as in [fe80::1%eth0]:PORT"},
		{[]string{"tcpprobe", "--syn", "-p", "22", "fe80::1"}, "link-local"},
		{[]string{"tcpprobe", "--syn", "--trace", "127.0.0.1:22"}, "cannot be used together"},
		{[]string{"tcpprobe", "--send", "hello", "127.0.0.1:22"}, "--send needs --trace"},
		{[]string{"tcpprobe", "--server-close", "127.0.0.1:22"}, "--server-close needs --trace"},
	}
	for _, c := range cases {
		checkUsageError(t, c.args, c.says)
	}
}

func TestTCPProbeHelp(t *testing.T) {
	checkHelp(t, []string{"tcpprobe"}, "Examples:", "-p, --ports", "-c, --count", "--parallel", "admin-prohibited", "IP_RECVERR", "--syn",
		"--trace", "--send", "--server-close", "CAP_NET_RAW")
}

// TestTCPProbeLoopback runs the real connect prober against loopback: an
// open port exits 0, a closed one 1, with the documented JSON keys.
func TestTCPProbeLoopback(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no IPv4 loopback: %v", err)
	}
	defer ln.Close()
	open := ln.Addr().String()
	gone, _ := net.Listen("tcp4", "127.0.0.1:0")
	closed := gone.Addr().String()
	gone.Close()

	out, errOut, code := runCLI(t, "tcpprobe", open)
	if code != 0 || !strings.Contains(out, open+" open ") || !strings.Contains(out, "(mss ") {
		t.Fatalf("open: exit %d\n%s%s", code, out, errOut)
	}
	out, _, code = runCLI(t, "tcpprobe", "--json", open, closed)
	if code != 1 {
		t.Fatalf("open+closed: exit %d, want 1\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 2 probes and a summary:\n%s", out)
	}
	var first, second, summary map[string]any
	for i, v := range []*map[string]any{&first, &second, &summary} {
		if err := json.Unmarshal([]byte(lines[i]), v); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
	}
	for _, k := range []string{"type", "target", "addr", "port", "seq", "state", "rtt_ms", "mss", "wscale", "sack", "timestamps", "kernel_rtt_ms"} {
		if _, ok := first[k]; !ok {
			t.Errorf("open probe lacks %q: %s", k, lines[0])
		}
	}
	if first["state"] != "open" || second["state"] != "closed" || second["reason"] != "reset" || second["layer"] != "transport" {
		t.Errorf("states: %s\n%s", lines[0], lines[1])
	}
	if summary["type"] != "summary" || summary["open"] != 1.0 || summary["closed"] != 1.0 || summary["probes"] != 2.0 {
		t.Errorf("summary: %s", lines[2])
	}
}

// fakeProber answers from a table keyed by port.
type fakeProber struct {
	answers map[int]handshake.Result
	err     error
}

func (f *fakeProber) Probe(ctx context.Context, t handshake.Target, seq int) (handshake.Result, error) {
	if f.err != nil {
		return handshake.Result{}, f.err
	}
	r := f.answers[t.Port]
	r.Target, r.Seq = t, seq
	return r, nil
}

func (f *fakeProber) Close() error { return nil }

func failedResult(state handshake.State, reason failure.Reason, from string, rtt time.Duration, icmp *handshake.ICMPError) handshake.Result {
	f := failure.New(reason, "").At(failure.LayerTransport)
	f.From = from
	return handshake.Result{State: state, Failure: f, RTT: rtt, ICMP: icmp}
}

func fakeAnswers() map[int]handshake.Result {
	router := netip.MustParseAddr("198.18.0.1")
	return map[int]handshake.Result{
		80: {State: handshake.Open, RTT: 412 * time.Microsecond,
			Info: &handshake.TCPInfo{MSS: 1460, WScale: 7, SACK: true, Timestamps: true, RTT: 380 * time.Microsecond}},
		81: failedResult(handshake.Closed, failure.Reset, "", 120*time.Microsecond, nil),
		82: func() handshake.Result {
			r := failedResult(handshake.Filtered, failure.Timeout, "", 0, nil)
			r.Waited = 2 * time.Second
			return r
		}(),
		83: failedResult(handshake.Filtered, failure.AdminProhibited, "198.18.0.1", 300*time.Microsecond, &handshake.ICMPError{Type: 3, Code: 13, From: router}),
		84: failedResult(handshake.Unreachable, failure.HostUnreachable, "198.18.0.1", 310*time.Microsecond, &handshake.ICMPError{Type: 3, Code: 1, From: router}),
	}
}

func runFake(t *testing.T, jsonMode bool, o *tcpprobeOptions, prober handshake.Prober) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	p := NewPrinter(&Streams{Out: &out, Err: &errb}, jsonMode, false, false)
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Second
	}
	o.Parallel = max(o.Parallel, 4)
	o.Count = max(o.Count, 1)
	o.newProber = func(*tcpprobeOptions) (handshake.Prober, error) { return prober, nil }
	err := runTCPProbe(context.Background(), o, p)
	return out.String(), err
}

func TestTCPProbeText(t *testing.T) {
	out, err := runFake(t, false, &tcpprobeOptions{Targets: []string{"198.18.1.10"}, Ports: "80-84"}, &fakeProber{answers: fakeAnswers()})
	if !errors.Is(err, checkFailed) {
		t.Fatalf("err %v", err)
	}
	want := `198.18.1.10:80 open 0.412 ms (mss 1460, wscale 7, sack, ts)
198.18.1.10:81 closed 0.120 ms: host is up; nothing listens on port 81 [reset]
198.18.1.10:82 filtered after 2s: dropped silently: a firewall between you and the host, or the host is down [timeout]
198.18.1.10:83 filtered 0.300 ms: firewall 198.18.0.1 rejects the connection (administratively prohibited) [admin-prohibited]
198.18.1.10:84 unreachable 0.310 ms: router 198.18.0.1 cannot reach the host (host unreachable) [host-unreachable]
--- 198.18.1.10: 5 ports probed: 1 open, 1 closed, 2 filtered, 1 unreachable; open: 80
`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestTCPProbeJSON(t *testing.T) {
	out, err := runFake(t, true, &tcpprobeOptions{Targets: []string{"198.18.1.10"}, Ports: "80,83,82"}, &fakeProber{answers: fakeAnswers()})
	if !errors.Is(err, checkFailed) {
		t.Fatalf("err %v", err)
	}
	want := `{"type":"probe","target":"198.18.1.10","addr":"198.18.1.10","port":80,"seq":0,"state":"open","rtt_ms":0.412,"mss":1460,"wscale":7,"sack":true,"timestamps":true,"kernel_rtt_ms":0.38,"explain":"a service listens on port 80"}
{"type":"probe","target":"198.18.1.10","addr":"198.18.1.10","port":83,"seq":0,"state":"filtered","layer":"transport","reason":"admin-prohibited","rtt_ms":0.3,"from":"198.18.0.1","icmp_type":3,"icmp_code":13,"explain":"firewall 198.18.0.1 rejects the connection (administratively prohibited)"}
{"type":"probe","target":"198.18.1.10","addr":"198.18.1.10","port":82,"seq":0,"state":"filtered","layer":"transport","reason":"timeout","wait_ms":2000,"explain":"dropped silently: a firewall between you and the host, or the host is down"}
`
	if !strings.HasPrefix(out, want) {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	last := out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]
	if !strings.HasPrefix(last, `{"type":"summary","mode":"connect","hosts":1,"ports":3,"probes":3,"open":1,"closed":0,"filtered":2,"unreachable":0,"elapsed_ms":`) {
		t.Errorf("summary %s", last)
	}
}

func TestTCPProbeCountStats(t *testing.T) {
	o := &tcpprobeOptions{Targets: []string{"198.18.1.10:80", "198.18.1.10:81"}, Count: 3, Interval: time.Millisecond}
	out, err := runFake(t, false, o, &fakeProber{answers: fakeAnswers()})
	if !errors.Is(err, checkFailed) {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{
		"198.18.1.10:80 seq=2 open 0.412 ms",
		"198.18.1.10:81 seq=0 closed",
		"198.18.1.10:80: 3 probes, 3 open, 0 closed, 0 filtered, 0 unreachable; rtt min/avg/max/mdev = 0.412/0.412/0.412/0.000 ms",
		"198.18.1.10:81: 3 probes, 0 open, 3 closed",
		"--- 198.18.1.10: 2 ports, 6 probes: 3 open, 3 closed, 0 filtered, 0 unreachable; open: 80",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, err = runFake(t, true, o, &fakeProber{answers: fakeAnswers()})
	if !errors.Is(err, checkFailed) || !strings.Contains(out, `{"type":"stats","target":"198.18.1.10","addr":"198.18.1.10","port":80,"sent":3,"open":3,"closed":0,"filtered":0,"unreachable":0,"rtt_min_ms":0.412,"rtt_avg_ms":0.412,"rtt_max_ms":0.412,"rtt_mdev_ms":0}`) {
		t.Errorf("err %v, JSON stats:\n%s", err, out)
	}
}

func TestTCPProbeSameTargetTwice(t *testing.T) {
	out, err := runFake(t, false, &tcpprobeOptions{Targets: []string{"198.18.1.10:80", "198.18.1.10:81", "198.18.1.10:80"}}, &fakeProber{answers: fakeAnswers()})
	if !errors.Is(err, checkFailed) || strings.Count(out, "198.18.1.10:80 open") != 1 || !strings.Contains(out, "--- 198.18.1.10: 2 ports probed") {
		t.Errorf("err %v:\n%s", err, out)
	}
}

func TestTCPProbeSameHostTwice(t *testing.T) {
	out, err := runFake(t, false, &tcpprobeOptions{Targets: []string{"198.18.1.10", "198.18.1.10"}, Ports: "80,81"}, &fakeProber{answers: fakeAnswers()})
	if !errors.Is(err, checkFailed) || strings.Count(out, "198.18.1.10:80 open") != 1 || !strings.Contains(out, "--- 198.18.1.10: 2 ports probed") {
		t.Errorf("err %v:\n%s", err, out)
	}
}

func TestTCPProbeAllOpenExitsZero(t *testing.T) {
	out, err := runFake(t, false, &tcpprobeOptions{Targets: []string{"198.18.1.10:80"}, Count: 2, Interval: time.Millisecond}, &fakeProber{answers: fakeAnswers()})
	if err != nil {
		t.Fatalf("err %v\n%s", err, out)
	}
}

func TestTCPProbeResolution(t *testing.T) {
	lab := &resolve.Resolver{Lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
		if host == "web.lab.test" {
			return []netip.Addr{netip.MustParseAddr("2001:db8:1::10"), netip.MustParseAddr("198.18.1.10")}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}}
	o := &tcpprobeOptions{Targets: []string{"web.lab.test:80"}, Family: resolve.IPv4, resolver: lab}
	out, err := runFake(t, false, o, &fakeProber{answers: fakeAnswers()})
	if err != nil || !strings.HasPrefix(out, "web.lab.test:80 (198.18.1.10) open") {
		t.Errorf("err %v:\n%s", err, out)
	}
	o = &tcpprobeOptions{Targets: []string{"nope.lab.test:80"}, resolver: lab}
	_, err = runFake(t, false, o, &fakeProber{answers: fakeAnswers()})
	var b bytes.Buffer
	if code := reportError(&b, err); code != 3 || !strings.Contains(b.String(), `cannot resolve "nope.lab.test"`) {
		t.Errorf("exit %d: %s", code, b.String())
	}
}

func TestTCPProbeLocalErrorExits4(t *testing.T) {
	o := &tcpprobeOptions{Targets: []string{"198.18.1.10:80"}}
	_, err := runFake(t, false, o, &fakeProber{err: failure.Localf(errors.New("EMFILE"), "tcpprobe: cannot open a TCP socket: too many open files")})
	var b bytes.Buffer
	if code := reportError(&b, err); code != 4 || b.String() != "netdiag: tcpprobe: cannot open a TCP socket: too many open files\n" {
		t.Errorf("exit %d: %q", code, b.String())
	}
}

func TestPortLabel(t *testing.T) {
	cases := []struct {
		t    handshake.Target
		want string
	}{
		{handshake.Target{Name: "198.18.1.10", Addr: netip.MustParseAddr("198.18.1.10"), Port: 80}, "198.18.1.10:80"},
		{handshake.Target{Name: "2001:db8::10", Addr: netip.MustParseAddr("2001:db8::10"), Port: 443}, "[2001:db8::10]:443"},
		{handshake.Target{Name: "db.internal", Addr: netip.MustParseAddr("198.18.1.10"), Port: 5432}, "db.internal:5432 (198.18.1.10)"},
		{handshake.Target{Name: "::ffff:198.18.1.10", Addr: netip.MustParseAddr("198.18.1.10"), Port: 80}, "[::ffff:198.18.1.10]:80 (198.18.1.10)"},
	}
	for _, c := range cases {
		if got := portLabel(c.t); got != c.want {
			t.Errorf("%v: %q", c.t, got)
		}
	}
}

func tracedAnswer(goodAck bool) map[int]handshake.Result {
	us := func(n int) time.Duration { return time.Duration(n) * time.Microsecond }
	synAckAck := uint32(246194239)
	if !goodAck {
		synAckAck++
	}
	return map[int]handshake.Result{80: {
		State: handshake.Open, RTT: us(42),
		Info: &handshake.TCPInfo{MSS: 1448, WScale: 10, SACK: true, Timestamps: true, RTT: us(40)},
		Trace: &handshake.Trace{
			Packets: []handshake.Packet{
				{T: 0, Dir: handshake.Out, Flags: layers.TCPFlagSYN, Seq: 246194238, Window: 64240, Options: []string{"mss 1460", "sackOK", "TS val 2829484547 ecr 0", "nop", "wscale 10"}},
				{T: us(42), Dir: handshake.In, Flags: layers.TCPFlagSYN | layers.TCPFlagACK, Seq: 294820007, Ack: synAckAck, RelAck: 1, Window: 65160},
			},
			Checks: []handshake.Check{{What: "the SYN-ACK acknowledges our ISN + 1", OK: goodAck, Want: 246194239, Got: synAckAck, Found: true}},
		},
	}}
}

func TestTCPProbeTraceRendering(t *testing.T) {
	o := &tcpprobeOptions{Targets: []string{"198.18.1.10:80"}, Trace: true}
	out, err := runFake(t, false, o, &fakeProber{answers: tracedAnswer(true)})
	if err != nil {
		t.Fatalf("err %v\n%s", err, out)
	}
	for _, want := range []string{
		"198.18.1.10:80 open 0.042 ms (mss 1448, wscale 10, sack, ts)",
		"0.000 ms  →   SYN           246194238          0          0/0  64240     0  mss 1460,sackOK,TS val 2829484547 ecr 0,nop,wscale 10",
		"0.042 ms  ←   SYN,ACK       294820007  246194239          0/1  65160     0",
		"✓ the SYN-ACK acknowledges our ISN + 1: ack 246194239",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	out, err = runFake(t, true, o, &fakeProber{answers: tracedAnswer(false)})
	if !errors.Is(err, checkFailed) {
		t.Errorf("a failed check must exit 1 even when the port is open: %v", err)
	}
	want := `{"type":"packet","target":"198.18.1.10","addr":"198.18.1.10","port":80,"probe":0,"dir":"out","t_ms":0,"flags":"SYN","seq":246194238,"ack":0,"rel_seq":0,"rel_ack":0,"win":64240,"len":0,"options":["mss 1460","sackOK","TS val 2829484547 ecr 0","nop","wscale 10"]}
{"type":"packet","target":"198.18.1.10","addr":"198.18.1.10","port":80,"probe":0,"dir":"in","t_ms":0.042,"flags":"SYN,ACK","seq":294820007,"ack":246194240,"rel_seq":0,"rel_ack":1,"win":65160,"len":0,"options":[]}
{"type":"check","target":"198.18.1.10","addr":"198.18.1.10","port":80,"probe":0,"what":"the SYN-ACK acknowledges our ISN + 1","ok":false,"want":246194239,"got":246194240}
`
	if !strings.Contains(out, want) {
		t.Errorf("JSON:\n%s\nwant it to contain\n%s", out, want)
	}
	if !strings.Contains(out, `"mode":"trace"`) {
		t.Errorf("summary mode: %s", out)
	}
}

// interruptingProber answers the first round and is interrupted (Ctrl-C)
// in the second.
type interruptingProber struct{ cancel context.CancelFunc }

func (p *interruptingProber) Probe(ctx context.Context, t handshake.Target, seq int) (handshake.Result, error) {
	if seq > 0 {
		p.cancel()
		return handshake.Result{}, ctx.Err()
	}
	return handshake.Result{Target: t, Seq: seq, State: handshake.Open, RTT: 412 * time.Microsecond}, nil
}

func (p *interruptingProber) Close() error { return nil }

// TestTCPProbeInterrupted: Ctrl-C during -c still prints the statistics
// of the probes made, in correct English for a single probe, and exits
// as interrupted.
func TestTCPProbeInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	p := NewPrinter(&Streams{Out: &out, Err: &out}, false, false, false)
	prober := &interruptingProber{cancel: cancel}
	o := &tcpprobeOptions{Targets: []string{"198.18.1.10:80"}, Count: 5, Interval: time.Millisecond, Parallel: 1, Timeout: time.Second,
		newProber: func(*tcpprobeOptions) (handshake.Prober, error) { return prober, nil }}
	err := runTCPProbe(ctx, o, p)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{
		"198.18.1.10:80: 1 probe, 1 open, 0 closed, 0 filtered, 0 unreachable; rtt min/avg/max/mdev = 0.412/0.412/0.412/0.000 ms\n",
		"--- 198.18.1.10: 1 port, 1 probe: 1 open, 0 closed, 0 filtered, 0 unreachable\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	var b bytes.Buffer
	if code := reportError(&b, err); code != 1 || b.String() != "netdiag: interrupted\n" {
		t.Errorf("exit %d: %q", code, b.String())
	}
}

// TestTCPProbeTraceNotes: what a trace says besides its packets (bytes
// received, packets beyond the bound, an unfinished close) reaches JSON
// as well as text.
func TestTCPProbeTraceNotes(t *testing.T) {
	answers := tracedAnswer(true)
	r := answers[80]
	r.Trace.Received, r.Trace.Dropped, r.Trace.Unfinished = 3, 2, "the server did not close the connection within 2s"
	answers[80] = r
	o := &tcpprobeOptions{Targets: []string{"198.18.1.10:80"}, Trace: true}
	out, err := runFake(t, true, o, &fakeProber{answers: answers})
	if err != nil {
		t.Fatalf("err %v\n%s", err, out)
	}
	if want := `"kernel_rtt_ms":0.04,"received_bytes":3,"unrecorded_packets":2,"unfinished":"the server did not close the connection within 2s","explain":`; !strings.Contains(out, want) {
		t.Errorf("JSON lacks %s:\n%s", want, out)
	}
	out, _ = runFake(t, false, o, &fakeProber{answers: answers})
	for _, want := range []string{"received 3 bytes from the server", "2 more packets not recorded", "the server did not close the connection within 2s"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

// TestTCPProbeResetOrigin: resets that arrive with another TTL than the
// host's SYN-ACKs are named, in text under the host's summary and in a
// reset_origin object before the summary.
func TestTCPProbeResetOrigin(t *testing.T) {
	answers := fakeAnswers()
	withTTL := func(r handshake.Result, ttl int) handshake.Result { r.TTL = ttl; return r }
	answers[80] = withTTL(answers[80], 63)
	answers[81] = withTTL(answers[81], 63)
	for _, p := range []int{85, 86, 87, 90} {
		answers[p] = withTTL(failedResult(handshake.Closed, failure.Reset, "", 100*time.Microsecond, nil), 64)
	}
	o := &tcpprobeOptions{Targets: []string{"198.18.1.10"}, Ports: "80,81,85-87,90", SYN: true}
	out, _ := runFake(t, false, o, &fakeProber{answers: answers})
	want := "--- 198.18.1.10: 6 ports probed: 1 open, 5 closed, 0 filtered, 0 unreachable; open: 80\n" +
		"    note: the resets from ports 85-87,90 arrived with TTL 64, the SYN-ACKs with TTL 63: a device 1 hop closer than the one that accepted the open ports sent them, likely a firewall rejecting with TCP resets in the host's name\n"
	if !strings.HasSuffix(out, want) {
		t.Errorf("got\n%s\nwant it to end with\n%s", out, want)
	}
	out, _ = runFake(t, true, o, &fakeProber{answers: answers})
	if want := `{"type":"reset_origin","addr":"198.18.1.10","ports":[85,86,87,90],"ttl":64,"synack_ttl":63,"hops_closer":1,"explain":"the resets from ports 85-87,90 arrived with TTL 64`; !strings.Contains(out, want) {
		t.Errorf("JSON lacks %s:\n%s", want, out)
	}
	if !strings.Contains(out, `"port":81,"seq":0,"state":"closed","layer":"transport","reason":"reset","rtt_ms":0.12,"ttl":63,`) {
		t.Errorf("probe without its ttl:\n%s", out)
	}
}

func TestPortRanges(t *testing.T) {
	for _, c := range []struct {
		ports []int
		max   int
		want  string
	}{
		{[]int{80}, 5, "80"},
		{[]int{1, 2, 3, 5, 7, 8}, 5, "1-3,5,7-8"},
		{[]int{9, 8, 7}, 5, "9,8,7"},
		{[]int{1, 3, 5, 7}, 2, "1,3,… (4 ports)"},
	} {
		if got := portRanges(c.ports, c.max); got != c.want {
			t.Errorf("%v: %q, want %q", c.ports, got, c.want)
		}
	}
}

func TestTCPProbeMaxParallel(t *testing.T) {
	for _, c := range []struct {
		o     tcpprobeOptions
		limit int
		want  int
	}{
		{tcpprobeOptions{Parallel: 100000}, 1024, 960},
		{tcpprobeOptions{Parallel: 100000, Trace: true}, 1024, 480},
		{tcpprobeOptions{Parallel: 100000, SYN: true}, 1024, 100000},
		{tcpprobeOptions{Parallel: 100000}, 0, 100000},
		{tcpprobeOptions{Parallel: 5}, 10, 1},
	} {
		if got := c.o.maxParallel(c.limit); got != c.want {
			t.Errorf("%+v under %d: %d, want %d", c.o, c.limit, got, c.want)
		}
	}
}
