package cli_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netdiag/netdiag/internal/netlab"
)

// capture is a tcpdump running on the client's interface, writing a pcap.
type capture struct {
	proc *netlab.Process
	file string
}

func startCapture(t *testing.T, node *netlab.Node, filter string) *capture {
	t.Helper()
	file := filepath.Join(t.TempDir(), "wire.pcap")
	// Immediate mode hands every packet to tcpdump at once; with the
	// default buffering, packets still in the kernel's ring when tcpdump
	// is stopped are lost.
	p := node.Start(t, "tcpdump", "-i", "eth0", "-nn", "--immediate-mode", "-U", "-w", file, filter)
	p.WaitReady(t, func() error {
		if strings.Contains(p.Output(), "listening on") {
			return nil
		}
		return fmt.Errorf("tcpdump not listening yet")
	})
	return &capture{proc: p, file: file}
}

// wirePacket is one line of `tcpdump -nn -S -r`.
type wirePacket struct {
	src, dst       netip.AddrPort
	flags          string // tcpdump's letters: S, F, P, R, . (ACK)
	seq, ack       uint32
	hasSeq, hasAck bool
	win            int
	options        string
	length         int
}

var tcpdumpLine = regexp.MustCompile(`^\S+ IP6? (\S+)\.(\d+) > (\S+)\.(\d+): Flags \[([^\]]*)\],(?: seq (\d+)(?::\d+)?,)?(?: ack (\d+),)? win (\d+),(?: options \[([^\]]*)\],)? length (\d+)`)

// packets stops tcpdump once it has written at least min packets (or
// after a few seconds) and reads the capture back as tcpdump prints it.
func (c *capture) packets(t *testing.T, min int) []wirePacket {
	t.Helper()
	var pk []wirePacket
	for deadline := time.Now().Add(3 * time.Second); ; {
		pk = readPcap(t, c.file)
		if len(pk) >= min || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.proc.Stop()
	return readPcap(t, c.file)
}

func readPcap(t *testing.T, file string) []wirePacket {
	t.Helper()
	out, err := exec.Command("tcpdump", "-nn", "-S", "-tt", "-r", file).Output()
	if err != nil {
		// A capture still being written may end in a partial record.
		if len(out) == 0 {
			return nil
		}
	}
	var pk []wirePacket
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		m := tcpdumpLine.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("cannot read tcpdump line %q", sc.Text())
		}
		num := func(s string) uint32 { n, _ := strconv.ParseUint(s, 10, 32); return uint32(n) }
		sp, _ := strconv.Atoi(m[2])
		dp, _ := strconv.Atoi(m[4])
		w := wirePacket{
			src:     netip.AddrPortFrom(netip.MustParseAddr(m[1]), uint16(sp)),
			dst:     netip.AddrPortFrom(netip.MustParseAddr(m[3]), uint16(dp)),
			flags:   m[5],
			seq:     num(m[6]),
			hasSeq:  m[6] != "",
			ack:     num(m[7]),
			hasAck:  m[7] != "",
			options: m[9],
		}
		w.win, _ = strconv.Atoi(m[8])
		w.length, _ = strconv.Atoi(m[10])
		pk = append(pk, w)
	}
	return pk
}

// tcpdumpFlags writes netdiag's "SYN,ACK" the way tcpdump does ("S."),
// in tcpdump's letter order.
func tcpdumpFlags(s string) string {
	set := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		set[f] = true
	}
	var b strings.Builder
	for _, f := range []struct{ name, letter string }{{"FIN", "F"}, {"SYN", "S"}, {"RST", "R"}, {"PSH", "P"}, {"ACK", "."}, {"URG", "U"}, {"ECE", "E"}, {"CWR", "W"}} {
		if set[f.name] {
			b.WriteString(f.letter)
		}
	}
	return b.String()
}

// compareTimeline checks netdiag's trace against tcpdump's capture of the
// same connection: same packets in the same order, same directions,
// flags, sequence and acknowledgement numbers (so the same ISNs), windows,
// options and lengths.
func compareTimeline(t *testing.T, ours []map[string]any, wire []wirePacket, client netip.Addr) {
	t.Helper()
	if len(ours) != len(wire) {
		t.Fatalf("netdiag recorded %d packets, tcpdump %d:\nours %v\nwire %v", len(ours), len(wire), ours, wire)
	}
	for i, o := range ours {
		w := wire[i]
		dir := "in"
		if w.src.Addr() == client {
			dir = "out"
		}
		var opts []string
		for _, x := range o["options"].([]any) {
			opts = append(opts, x.(string))
		}
		seq, ack := uint32(o["seq"].(float64)), uint32(o["ack"].(float64))
		switch {
		case o["dir"] != dir:
			t.Errorf("packet %d: direction %v, tcpdump %s", i, o["dir"], dir)
		case tcpdumpFlags(o["flags"].(string)) != w.flags:
			t.Errorf("packet %d: flags %v, tcpdump [%s]", i, o["flags"], w.flags)
		case w.hasSeq && seq != w.seq:
			t.Errorf("packet %d: seq %d, tcpdump %d", i, seq, w.seq)
		case w.hasAck && ack != w.ack:
			t.Errorf("packet %d: ack %d, tcpdump %d", i, ack, w.ack)
		case int(o["win"].(float64)) != w.win:
			t.Errorf("packet %d: window %v, tcpdump %d", i, o["win"], w.win)
		case strings.Join(opts, ",") != w.options:
			t.Errorf("packet %d: options %q, tcpdump %q", i, strings.Join(opts, ","), w.options)
		case int(o["len"].(float64)) != w.length:
			t.Errorf("packet %d: length %v, tcpdump %d", i, o["len"], w.length)
		}
	}
}

// TestLabTCPProbeTraceMatchesTcpdump traces connections in both close
// orders and compares every packet with a tcpdump capture of the same
// connection taken on the same interface.
func TestLabTCPProbeTraceMatchesTcpdump(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	for _, network := range []string{"tcp4", "tcp6"} {
		// 7001: reads until we close, answers "bye", closes.
		netlab.Serve(srv.Listen(t, network, ":7001"), func(c net.Conn) {
			io.Copy(io.Discard, c)
			c.Write([]byte("bye\n"))
		})
		// 7002: answers the first line and closes first.
		netlab.Serve(srv.Listen(t, network, ":7002"), func(c net.Conn) {
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Write([]byte("you said " + line))
		})
	}

	cases := []struct {
		name      string
		port      int
		args      []string
		firstFIN  string
		wantBytes bool
	}{
		{"we close first", 7001, nil, "out", true},
		{"we send and close first", 7001, []string{"--send", "hello"}, "out", true},
		{"the server closes first", 7002, []string{"--send", "hello", "--server-close"}, "in", true},
	}
	for _, addr := range []netip.Addr{srv.Addr4, srv.Addr6} {
		client := netlab.Client4
		if addr.Is6() {
			client = netlab.Client6
		}
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%s", addr, c.name), func(t *testing.T) {
				cap := startCapture(t, lab.Client, fmt.Sprintf("tcp port %d", c.port))
				args := append([]string{"tcpprobe", "--json", "--trace"}, c.args...)
				args = append(args, net.JoinHostPort(addr.String(), strconv.Itoa(c.port)))
				out, errOut, code := runNetdiag(t, lab.Client, nil, args...)
				if code != 0 {
					t.Fatalf("exit %d\n%s%s", code, out, errOut)
				}
				var packets []map[string]any
				var checks int
				for _, l := range jsonLines(t, out) {
					switch l["type"] {
					case "probe":
						if l["state"] != "open" {
							t.Fatalf("probe %v", l)
						}
					case "packet":
						packets = append(packets, l)
					case "check":
						checks++
						if l["ok"] != true {
							t.Errorf("check failed: %v", l)
						}
					}
				}
				// SYN-ACK, our ACK, and both FINs acknowledged.
				if checks != 4 {
					t.Errorf("%d checks, want 4:\n%s", checks, out)
				}
				compareTimeline(t, packets, cap.packets(t, len(packets)), client)
				for _, p := range packets {
					if strings.Contains(p["flags"].(string), "FIN") {
						if p["dir"] != c.firstFIN {
							t.Errorf("first FIN went %v, want %s", p["dir"], c.firstFIN)
						}
						break
					}
				}
				if first := packets[0]; first["flags"] != "SYN" || first["rel_seq"] != 0.0 || first["t_ms"] != 0.0 {
					t.Errorf("the timeline must start with our SYN at 0: %v", first)
				}
			})
		}
	}

	// A closed port: SYN, then the host's RST,ACK acknowledging ISN + 1.
	cap := startCapture(t, lab.Client, "tcp port 7009")
	out, errOut, code := runNetdiag(t, lab.Client, nil, "tcpprobe", "--json", "--trace", srv.Addr4.String()+":7009")
	if code != 1 {
		t.Fatalf("closed port: exit %d\n%s%s", code, out, errOut)
	}
	var packets []map[string]any
	for _, l := range jsonLines(t, out) {
		if l["type"] == "packet" {
			packets = append(packets, l)
		}
		if l["type"] == "check" && (l["ok"] != true || l["what"] != "the reset acknowledges our ISN + 1") {
			t.Errorf("check %v", l)
		}
	}
	compareTimeline(t, packets, cap.packets(t, 2), netlab.Client4)
}

// TestLabTCPProbeSYN scans a port range in SYN mode: open, closed,
// dropped and rejected ports on both families, no handshake ever
// completed, a reset sent for each SYN-ACK, and one retransmission before
// a silent port is called filtered.
func TestLabTCPProbeSYN(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	var accepted atomic.Int32
	for _, network := range []string{"tcp4", "tcp6"} {
		for _, port := range []int{7001, 7002, 7003} {
			netlab.Serve(srv.Listen(t, network, fmt.Sprintf(":%d", port)), func(net.Conn) { accepted.Add(1) })
		}
	}
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, Proto: netlab.TCP, Port: 7004})
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.RejectAdminProhibited, Proto: netlab.TCP, Port: 7005})
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.RejectTCPReset, Proto: netlab.TCP, Port: 7006})
	netlab.Netdiag(t) // built before the scan is timed

	for _, addr := range []netip.Addr{srv.Addr4, srv.Addr6} {
		client, router := netlab.Client4, netlab.RouterClientSide4
		if addr.Is6() {
			client, router = netlab.Client6, netlab.RouterClientSide6
		}
		cap := startCapture(t, lab.Client, "tcp portrange 7000-7010")
		start := time.Now()
		out, errOut, code := runNetdiag(t, lab.Client, nil, "tcpprobe", "--syn", "--json", "--timeout", "1", "-p", "7000-7010", addr.String())
		took := time.Since(start)
		if code != 1 {
			t.Fatalf("%s: exit %d\n%s%s", addr, code, out, errOut)
		}
		if took > 3*time.Second {
			t.Errorf("%s: the scan took %v with a 1 s timeout", addr, took)
		}
		lines := jsonLines(t, out)
		probes := probesByPort(t, lines)
		for port := 7000; port <= 7010; port++ {
			p := probes[port]
			if p == nil {
				t.Fatalf("%s: no probe of port %d", addr, port)
			}
			reason, _ := p["reason"].(string)
			from, _ := p["from"].(string)
			want := [3]string{"closed", "reset", ""}
			switch port {
			case 7001, 7002, 7003:
				want = [3]string{"open", "", ""}
			case 7004:
				want = [3]string{"filtered", "timeout", ""}
			case 7005:
				want = [3]string{"filtered", "admin-prohibited", router.String()}
			}
			if got := [3]string{p["state"].(string), reason, from}; got != want {
				t.Errorf("%s port %d: %v, want %v", addr, port, got, want)
			}
			if wait, ok := p["wait_ms"].(float64); reason == "timeout" && (!ok || wait > 1000) {
				t.Errorf("%s port %d: waited %v ms, want at most the 1 s timeout", addr, port, p["wait_ms"])
			}
			// The host is one hop away, the router's forged reset none.
			wantTTL := 63.0
			switch port {
			case 7004, 7005:
				wantTTL = 0
			case 7006:
				wantTTL = 64
			}
			if ttl, _ := p["ttl"].(float64); ttl != wantTTL {
				t.Errorf("%s port %d: ttl %v, want %v", addr, port, p["ttl"], wantTTL)
			}
		}
		if s := lines[len(lines)-1]; s["mode"] != "syn" || s["open"] != 3.0 || s["closed"] != 6.0 || s["filtered"] != 2.0 {
			t.Errorf("%s: summary %v", addr, s)
		}
		checkResetOrigin(t, lines, addr)

		// 11 SYNs and one retransmission; 6 resets from closed ports; 3
		// SYN-ACKs, each answered by two resets.
		wire := cap.packets(t, 12+6+3+6)
		syns := map[uint16][]wirePacket{}
		resets := map[uint16][]wirePacket{}
		synAcks := map[uint16]wirePacket{}
		for _, w := range wire {
			switch {
			case w.src.Addr() == client && w.flags == "S":
				syns[w.dst.Port()] = append(syns[w.dst.Port()], w)
			case w.src.Addr() == client && w.flags == "R":
				resets[w.dst.Port()] = append(resets[w.dst.Port()], w)
			case w.dst.Addr() == client && w.flags == "S.":
				synAcks[w.src.Port()] = w
			}
		}
		if n := len(syns[7004]); n != 2 {
			t.Errorf("%s: %d SYNs to the dropped port, want 2 (one retransmission)", addr, n)
		}
		for _, port := range []uint16{7001, 7002, 7003} {
			sa, ok := synAcks[port]
			if !ok {
				t.Errorf("%s port %d: no SYN-ACK on the wire", addr, port)
				continue
			}
			// The kernel resets the SYN-ACK it has no socket for, and so
			// do we: two resets, each with seq = our ISN + 1.
			rs := resets[port]
			if len(rs) != 2 {
				t.Errorf("%s port %d: %d resets, want 2 (the kernel's and ours)", addr, port, len(rs))
			}
			for _, r := range rs {
				if r.seq != sa.ack {
					t.Errorf("%s port %d: reset seq %d, want the SYN-ACK's ack %d", addr, port, r.seq, sa.ack)
				}
			}
		}
	}
	// Unreachable: our own neighbour lookup fails, or the router's.
	out, errOut, code := runNetdiag(t, lab.Client, nil, "tcpprobe", "--syn", "--json",
		netlab.NoNeighbor4.String()+":80", "["+netlab.NoNeighbor6.String()+"]:80",
		netlab.NoHost4.String()+":80", "["+netlab.NoHost6.String()+"]:80")
	if code != 1 {
		t.Fatalf("unreachable: exit %d\n%s%s", code, out, errOut)
	}
	want := map[string][2]string{
		netlab.NoNeighbor4.String(): {"neighbor-unresolved", netlab.Client4.String()},
		netlab.NoNeighbor6.String(): {"neighbor-unresolved", netlab.Client6.String()},
		netlab.NoHost4.String():     {"host-unreachable", netlab.RouterClientSide4.String()},
		netlab.NoHost6.String():     {"host-unreachable", netlab.RouterClientSide6.String()},
	}
	for _, l := range jsonLines(t, out) {
		if l["type"] != "probe" {
			continue
		}
		w := want[l["addr"].(string)]
		if l["state"] != "unreachable" || l["reason"] != w[0] || l["from"] != w[1] {
			t.Errorf("%v: %v/%v from %v, want unreachable/%s from %s", l["addr"], l["state"], l["reason"], l["from"], w[0], w[1])
		}
	}

	time.Sleep(100 * time.Millisecond)
	if n := accepted.Load(); n != 0 {
		t.Errorf("the server accepted %d connections; a SYN scan must never complete a handshake", n)
	}

	// Trace mode reads the same evidence from its timelines.
	for _, addr := range []netip.Addr{srv.Addr4, srv.Addr6} {
		out, errOut, code := runNetdiag(t, lab.Client, nil, "tcpprobe", "--trace", "--json", "-p", "7001,7006,7009", addr.String())
		if code != 1 {
			t.Fatalf("trace %s: exit %d\n%s%s", addr, code, out, errOut)
		}
		checkResetOrigin(t, jsonLines(t, out), addr)
	}
}

// checkResetOrigin finds, among a run's lines, the one reset_origin
// object, naming the router's forged reset of port 7006 (TTL 64) against
// the host's SYN-ACKs one hop away (63).
func checkResetOrigin(t *testing.T, lines []map[string]any, addr netip.Addr) {
	t.Helper()
	var found []map[string]any
	for _, l := range lines {
		if l["type"] == "reset_origin" {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d reset_origin objects, want 1", addr, len(found))
	}
	o := found[0]
	ports, _ := o["ports"].([]any)
	if o["addr"] != addr.String() || len(ports) != 1 || ports[0] != 7006.0 || o["ttl"] != 64.0 || o["synack_ttl"] != 63.0 || o["hops_closer"] != 1.0 {
		t.Errorf("%s: reset_origin %v", addr, o)
	}
	if last := lines[len(lines)-1]; last["type"] != "summary" {
		t.Errorf("%s: the last line is %v, not the summary", addr, last["type"])
	}
}

// TestLabTCPProbeTraceServerKeepsOpen waits for a server-first close
// from a server that never closes: the trace says so, we close after the
// timeout, and the acknowledgement of our FIN is waited for and checked
// like any other, so the run still exits 0 for the open port.
func TestLabTCPProbeTraceServerKeepsOpen(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	// Reads, and keeps the connection open for a while after our FIN.
	netlab.Serve(srv.Listen(t, "tcp4", ":7003"), func(c net.Conn) {
		io.Copy(io.Discard, c)
		time.Sleep(5 * time.Second)
	})
	cap := startCapture(t, lab.Client, "tcp port 7003")
	start := time.Now()
	out, errOut, code := runNetdiag(t, lab.Client, nil, "tcpprobe", "--json", "--trace", "--timeout", "1", "--server-close", "--send", "hi", srv.Addr4.String()+":7003")
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("took %v with a 1 s timeout", took)
	}
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var (
		packets []map[string]any
		checks  []string
	)
	for _, l := range jsonLines(t, out) {
		switch l["type"] {
		case "probe":
			if l["state"] != "open" || l["unfinished"] != "the server did not close the connection within 1s" || l["received_bytes"] != 0.0 {
				t.Errorf("probe %v", l)
			}
		case "packet":
			packets = append(packets, l)
		case "check":
			checks = append(checks, l["what"].(string))
			if l["ok"] != true {
				t.Errorf("check failed: %v", l)
			}
		}
	}
	if len(checks) != 3 || !strings.HasPrefix(checks[2], "our FIN") {
		t.Errorf("checks %q, want the handshake's two and our FIN's", checks)
	}
	compareTimeline(t, packets, cap.packets(t, len(packets)), netlab.Client4)
}

// TestLabTCPProbeTraceSourceOnLoopback traces a connection whose source
// address lives on the loopback while the packets leave by eth0, as with
// a router ID or an anycast address: the capture must listen where the
// route goes, not where the source address is.
func TestLabTCPProbeTraceSourceOnLoopback(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	serve(t, srv, "tcp", ":8080")
	src4 := netlab.FreeNet4.Addr().Next()
	src6 := netlab.FreeNet6.Addr().Next()
	lab.Client.IP(t, "addr", "add", src4.String()+"/32", "dev", "lo")
	lab.Client.IP(t, "addr", "add", src6.String()+"/128", "dev", "lo")
	lab.Client.IP(t, "route", "add", srv.Addr4.String()+"/32", "via", netlab.RouterClientSide4.String(), "src", src4.String())
	lab.Client.IP(t, "-6", "route", "add", srv.Addr6.String()+"/128", "via", netlab.RouterClientSide6.String(), "src", src6.String())
	lab.Router.IP(t, "route", "add", src4.String()+"/32", "via", netlab.Client4.String())
	lab.Router.IP(t, "-6", "route", "add", src6.String()+"/128", "via", netlab.Client6.String())
	for _, addr := range []netip.Addr{srv.Addr4, srv.Addr6} {
		out, errOut, code := runNetdiag(t, lab.Client, nil, "tcpprobe", "--json", "--trace", net.JoinHostPort(addr.String(), "8080"))
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", addr, code, out, errOut)
		}
		var packets, checks int
		for _, l := range jsonLines(t, out) {
			switch l["type"] {
			case "packet":
				packets++
			case "check":
				checks++
			}
		}
		if packets < 6 || checks != 4 {
			t.Errorf("%s: %d packets and %d checks, want the whole connection:\n%s", addr, packets, checks, out)
		}
	}
}
