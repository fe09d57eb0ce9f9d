package cli

import (
	"bytes"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netdiag/netdiag/internal/netlab"
	"github.com/netdiag/netdiag/pkg/diagnose"
	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/ping"
	"github.com/netdiag/netdiag/pkg/route"
)

func TestDiagnoseBadInput(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"diagnose"}, "missing target (HOST[:PORT])"},
		{[]string{"diagnose", "web.test/health"}, "not HOST[:PORT]: give the host alone, and a path with --http PATH"},
		{[]string{"diagnose", "--http=/x", "a", "/b"}, "too many arguments"},
		{[]string{"diagnose", "a", "b"}, "too many arguments"},
		{[]string{"diagnose", "a", "b", "c"}, "too many arguments"},
		{[]string{"diagnose", "198.18.1.10:0"}, "out of range"},
		{[]string{"diagnose", "198.18.1.10:http"}, "is not a number"},
		{[]string{"diagnose", "--tls", "--no-tls", "198.18.1.10"}, "--tls and --no-tls cannot be used together"},
		{[]string{"diagnose", "--http=health", "198.18.1.10"}, "must start with /"},
		{[]string{"diagnose", "--http=/a b", "198.18.1.10"}, "must not contain spaces"},
		{[]string{"diagnose", "-4", "2001:db8::10"}, "is not an IPv4 address"},
		{[]string{"diagnose", "--ca", filepath.Join(t.TempDir(), "missing.pem"), "198.18.1.10"}, "missing.pem: no such file or directory"},
		{[]string{"diagnose", "--ca", t.TempDir(), "198.18.1.10"}, "is a directory"},
		{[]string{"diagnose", "a..b"}, `"a..b" is not a valid host name: it has an empty label`},
		{[]string{"diagnose", "bad name:22"}, `' ' is not allowed`},
		{[]string{"diagnose", strings.Repeat("a", 64) + ".test"}, "a label is longer than 63 bytes"},
		{[]string{"diagnose", "224.0.0.1"}, "is a multicast address"},
		{[]string{"diagnose", "[ff02::1]:22"}, "is a multicast address"},
		{[]string{"diagnose", "0.0.0.0:22"}, "is the unspecified address"},
		{[]string{"diagnose", "255.255.255.255"}, "is the broadcast address"},
		{[]string{"diagnose", "fe80::1"}, "is a link-local address: name the interface, as in [fe80::1%eth0]:PORT"},
		{[]string{"diagnose", "host:"}, "missing port number"},
		{[]string{"diagnose", "[::1"}, "missing ']'"},
		{[]string{"diagnose", "--ca", notPEM, "198.18.1.10"}, "holds no PEM certificate"},
		{[]string{"diagnose", "--timeout", "0", "198.18.1.10"}, "--timeout must be positive"},
	}
	for _, c := range cases {
		checkUsageError(t, c.args, c.want)
	}
}

func TestDiagnoseHelp(t *testing.T) {
	checkHelp(t, []string{"diagnose"}, "diagnose HOST[:PORT]", "--tls", "--no-tls", "--http", "--ca", "degraded", "3 the name did not", "Examples:")
}

// TestDiagnoseLoopbackCLI runs the command in-process against a listener
// on this machine's loopback address.
func TestDiagnoseLoopbackCLI(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("route lookups need Linux")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	netlab.Serve(ln, func(net.Conn) {})
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	out, errOut, code := runCLI(t, "diagnose", "--json", "127.0.0.1:"+port)
	var m map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil || m["verdict"] != "healthy" || m["failed_layer"] != nil ||
		m["target"] != "127.0.0.1:"+port || strings.Count(out, "\n") != 1 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	fam := m["families"].(map[string]any)["ipv4"].(map[string]any)
	if fam["addr"] != "127.0.0.1" || fam["verdict"] != "healthy" || fam["reason"] != nil {
		t.Fatalf("family %v", fam)
	}

	// With --tls, a listener that closes at once fails the TLS step.
	out, _, code = runCLI(t, "diagnose", "--tls", "--timeout", "0.5", "127.0.0.1:"+port)
	if code != 1 || !strings.Contains(out, "✗ tls") || !strings.Contains(out, "failed at TLS: ") ||
		!strings.Contains(out, "Next: netdiag tlsprobe 127.0.0.1:"+port) {
		t.Fatalf("TLS on a plain port: exit %d\n%s", code, out)
	}
	out, _, code = runCLI(t, "diagnose", "-q", "127.0.0.1:"+port)
	if code != 0 || strings.Contains(out, "✓") || !strings.HasPrefix(out, "healthy: ") {
		t.Fatalf("-q: exit %d\n%q", code, out)
	}
}

// TestDiagnoseRendering renders made-up reports, text and JSON.
func TestDiagnoseRendering(t *testing.T) {
	v4, v6 := netip.MustParseAddr("198.18.1.10"), netip.MustParseAddr("2001:db8:1::10")
	timeout := failure.New(failure.Timeout, "").At(failure.LayerNetwork)
	good := &diagnose.FamilyReport{Family: "ipv4", Addr: v4, Verdict: diagnose.Healthy, Summary: "port 22 connects in 0.100 ms",
		Steps: []diagnose.Step{{Layer: failure.LayerTransport, Check: "connect", OK: true, Elapsed: 100 * time.Microsecond, Detail: "port 22 open"}}}
	bad := &diagnose.FamilyReport{Family: "ipv6", Addr: v6, Verdict: diagnose.Failed, Failure: timeout, Summary: "dropped silently",
		Notes: []string{"a note"},
		Steps: []diagnose.Step{
			{Layer: failure.LayerNetwork, Check: "ping", Elapsed: 3500 * time.Millisecond, Detail: "no reply", Failure: timeout, Evidence: []string{"4 sent, 0 received"}},
			{Layer: failure.LayerTransport, Check: "connect", Detail: "port 22 filtered", Failure: failure.New(failure.Timeout, ""), Evidence: []string{"no SYN-ACK"}},
		}}
	rep := &diagnose.Report{Target: "web:22", Host: "web", Port: 22, Verdict: diagnose.Degraded, Failure: timeout,
		Summary: "IPv6 fails while IPv4 works: dropped silently", Families: []*diagnose.FamilyReport{good, bad}}

	var out bytes.Buffer
	p := NewPrinter(&Streams{Out: &out, Err: &out}, false, false, false)
	(&diagText{p: p, o: &diagnoseOptions{}, lo: &diagnose.Options{Port: 22}, rep: rep}).print()
	for _, want := range []string{
		"diagnose web:22\n\nIPv4 198.18.1.10\n  ✓ transport   connect     0.100 ms  port 22 open\n\nIPv6 2001:db8:1::10\n",
		"  ✗ network     ping          3.50 s  no reply [timeout]\n",
		"  ! a note\n",
		"\ndegraded (failed at the network layer): IPv6 fails while IPv4 works: dropped silently\n",
		"Evidence:\n  ping: 4 sent, 0 received\n  connect: no SYN-ACK\n  a note\n",
		"Next: traceroute -n 2001:db8:1::10",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, out.String())
		}
	}

	j := diagResultToJSON(rep)
	b, _ := json.Marshal(j)
	for _, want := range []string{
		`"target":"web:22","verdict":"degraded","failed_layer":"network","reason":"timeout"`,
		`"steps":[{"layer":"network","check":"ping","ok":false,"ms":3500,"detail":"no reply","evidence":["4 sent, 0 received"]}`,
		`"ipv4":{"addr":"198.18.1.10","verdict":"healthy","failed_layer":null,"reason":null,"from":null,"summary":"port 22 connects in 0.100 ms","notes":[],"steps":[{"layer":"transport","check":"connect","ok":true,"ms":0.1,"detail":"port 22 open","evidence":[]}]}`,
		`"ipv6":{"addr":"2001:db8:1::10","verdict":"failed","failed_layer":"network","reason":"timeout"`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}

	// The next command for each kind of failure.
	next := func(f *failure.Failure, lo diagnose.Options) string {
		r := &diagnose.Report{Target: "web:443", Host: "web", Port: 443, Verdict: diagnose.Failed, Failure: f,
			Families: []*diagnose.FamilyReport{{Family: "ipv4", Addr: v4, Verdict: diagnose.Failed, Failure: f, Ping: &ping.Result{},
				Route: &route.Route{Dst: v4, Interface: "eth0", Gateway: netip.MustParseAddr("198.18.0.1")}}}}
		return (&diagText{p: p, o: &diagnoseOptions{CAFile: "ca.pem"}, lo: &lo, rep: r}).next()
	}
	from := func(r failure.Reason, l failure.Layer) *failure.Failure {
		f := failure.New(r, "").At(l)
		f.From = "198.18.0.1"
		return f
	}
	cases := []struct {
		f    *failure.Failure
		lo   diagnose.Options
		want string
	}{
		{failure.New(failure.NoRoute, ""), diagnose.Options{}, "ip route get 198.18.1.10"},
		{failure.New(failure.NeighborUnresolved, ""), diagnose.Options{}, "ip neigh show dev eth0 (is 198.18.0.1 up"},
		{from(failure.TTLExceeded, failure.LayerNetwork), diagnose.Options{}, "on 198.18.0.1: ip route get 198.18.1.10"},
		{from(failure.AdminProhibited, failure.LayerTransport), diagnose.Options{}, "netdiag tcpprobe --trace 198.18.1.10:443"},
		{failure.New(failure.Reset, ""), diagnose.Options{}, "on 198.18.1.10: ss -ltn 'sport = :443'"},
		{failure.New(failure.Timeout, ""), diagnose.Options{}, "netdiag tcpprobe --trace 198.18.1.10:443"},
		{failure.New(failure.CertExpired, ""), diagnose.Options{}, "netdiag tlsprobe web:443 --ca ca.pem"},
		{failure.New(failure.HTTPError, ""), diagnose.Options{TLS: true, HTTPPath: "/health"}, "curl -sI https://web:443/health"},
	}
	for _, c := range cases {
		if got := next(c.f, c.lo); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: next %q, want %q", c.f.Reason, got, c.want)
		}
	}
	// Without an echo, the run had no raw socket: --trace needs sudo.
	r := &diagnose.Report{Target: "web:443", Host: "web", Port: 443, Verdict: diagnose.Failed, Failure: failure.New(failure.Timeout, ""),
		Families: []*diagnose.FamilyReport{{Family: "ipv4", Addr: v4, Verdict: diagnose.Failed, Route: &route.Route{Dst: v4, Interface: "eth0"}}}}
	if got := (&diagText{p: p, o: &diagnoseOptions{}, lo: &diagnose.Options{}, rep: r}).next(); !strings.HasPrefix(got, "sudo netdiag tcpprobe --trace 198.18.1.10:443") {
		t.Errorf("without ping: next %q", got)
	}
}
