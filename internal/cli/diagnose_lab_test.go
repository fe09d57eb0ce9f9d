package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/netdiag/netdiag/internal/netlab"
)

// These tests run `netdiag diagnose` inside the lab, one lab and one
// scenario per test, in parallel, and check the verdict, the failed layer
// and the reason of each (root on Linux with ip and nft; they skip
// otherwise). Timeouts are short where the scenario waits for silence.

// diagRun runs diagnose with --json in the client namespace and returns
// the result object.
func diagRun(t *testing.T, lab *netlab.Lab, args ...string) (map[string]any, cmdResult) {
	t.Helper()
	return diagRunAs(t, lab, nil, args...)
}

// diagRunAs is diagRun as user (nil: root).
func diagRunAs(t *testing.T, lab *netlab.Lab, user *netlab.User, args ...string) (map[string]any, cmdResult) {
	t.Helper()
	r := netdiag(t, lab.Client, user, append([]string{"diagnose", "--json"}, args...)...)
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if len(lines) != 1 {
		t.Fatalf("want exactly one JSON line: %v", r)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil || m["type"] != "result" {
		t.Fatalf("not a result object (%v): %v", err, r)
	}
	return m, r
}

// expectVerdict checks the verdict, failed layer, reason and exit code.
// layer and reason "" mean null.
func expectVerdict(t *testing.T, m map[string]any, r cmdResult, verdict, layer, reason string, code int) {
	t.Helper()
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	if m["verdict"] != verdict || m["failed_layer"] != null(layer) || m["reason"] != null(reason) || r.code != code {
		t.Fatalf("want %s/%s/%s exit %d, got %v/%v/%v: %v", verdict, layer, reason, code,
			m["verdict"], m["failed_layer"], m["reason"], r)
	}
}

// steps returns the result's top-level steps by check name.
func steps(t *testing.T, m map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	list, _ := m["steps"].([]any)
	for _, s := range list {
		st := s.(map[string]any)
		out[st["check"].(string)] = st
	}
	return out
}

// checks returns the check names of steps in order, "!" marking failed ones.
func checks(m map[string]any) []string {
	var out []string
	list, _ := m["steps"].([]any)
	for _, s := range list {
		st := s.(map[string]any)
		c := st["check"].(string)
		if st["ok"] != true {
			c = "!" + c
		}
		out = append(out, c)
	}
	return out
}

func contains(v any, sub string) bool {
	s, _ := v.(string)
	return strings.Contains(s, sub)
}

// serveTCP accepts connections on addr in node and hands each to fn
// (nil: hold it open until the peer closes).
func serveTCP(t *testing.T, node *netlab.Node, addr string, fn func(net.Conn)) {
	t.Helper()
	if fn == nil {
		fn = func(c net.Conn) { _, _ = io.Copy(io.Discard, c) }
	}
	netlab.Serve(node.Listen(t, "tcp", addr), fn)
}

// testPKI is a root CA and a way to issue server certificates from it.
type testPKI struct {
	ca     *x509.Certificate
	key    *ecdsa.PrivateKey
	caFile string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "netdiag lab root"},
		NotBefore:             time.Now().Add(-24 * time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	file := filepath.Join(t.TempDir(), "root.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return &testPKI{ca: ca, key: key, caFile: file}
}

// leaf issues a certificate for name and the lab server's addresses,
// valid from notBefore to notAfter.
func (p *testPKI) leaf(t *testing.T, name string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serveHTTPS serves HTTP over TLS with cert on addr in node: 200 for /,
// 503 for /broken.
func serveHTTPS(t *testing.T, node *netlab.Node, addr string, cert tls.Certificate) {
	t.Helper()
	ln := tls.NewListener(node.Listen(t, "tcp", addr), &tls.Config{Certificates: []tls.Certificate{cert}})
	srv := &http.Server{Handler: labHandler(), ErrorLog: log.New(io.Discard, "", 0), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

func serveHTTP(t *testing.T, node *netlab.Node, addr string) {
	t.Helper()
	srv := &http.Server{Handler: labHandler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(node.Listen(t, "tcp", addr))
	t.Cleanup(func() { srv.Close() })
}

func labHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "netdiag-lab")
		if r.URL.Path == "/broken" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
}

func TestLabDiagnoseHealthy(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	lab.StartDNS(t, netlab.DNSConfig{Records: map[string][]netip.Addr{"web": {srv.Addr4, srv.Addr6}}})
	pki := newTestPKI(t)
	cert := pki.leaf(t, "web.lab.test", time.Now().Add(-time.Hour), time.Now().Add(90*24*time.Hour))
	serveHTTPS(t, srv, "198.18.1.10:443", cert)
	serveHTTPS(t, srv, "[2001:db8:1::10]:443", cert)
	serveHTTP(t, srv, "198.18.1.10:80")
	serveHTTP(t, srv, "[2001:db8:1::10]:80")

	// Both families, every step: DNS, route, neighbour, ping, TCP, TLS
	// and HTTP through it.
	// The certificate is for the full name, as clients check the name
	// they were given.
	m, r := diagRun(t, lab, "--ca", pki.caFile, "--http", "/health", "web.lab.test")
	expectVerdict(t, m, r, "healthy", "", "", 0)
	want := []string{"resolve", "route", "neighbor", "ping", "connect", "handshake", "http"}
	if got := checks(m); !slices.Equal(got, want) || m["target"] != "web.lab.test:443" {
		t.Fatalf("steps %v, want %v: %v", got, want, r)
	}
	fams, _ := m["families"].(map[string]any)
	for _, f := range []string{"ipv4", "ipv6"} {
		fam, _ := fams[f].(map[string]any)
		if fam["verdict"] != "healthy" || len(fam["steps"].([]any)) != len(want) {
			t.Fatalf("family %s: %v", f, r)
		}
	}
	if fams["ipv6"].(map[string]any)["addr"] != srv.Addr6.String() || !contains(m["summary"], "over IPv4 and IPv6: port 443 connects in") {
		t.Fatalf("result: %v", r)
	}
	st := steps(t, m)
	if !contains(st["http"]["detail"], "200") || !contains(st["handshake"]["detail"], "certificate verified for web.lab.test") {
		t.Fatalf("steps: %v", r)
	}

	// Exactly the keys of the contract.
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"failed_layer", "families", "reason", "steps", "summary", "target", "type", "verdict"}; !slices.Equal(keys, want) {
		t.Fatalf("result keys %v, want %v", keys, want)
	}
	keys = keys[:0]
	for k := range st["ping"] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"check", "detail", "evidence", "layer", "ms", "ok"}; !slices.Equal(keys, want) {
		t.Fatalf("step keys %v, want %v", keys, want)
	}

	// Plain HTTP on port 80: no TLS step, and a 503 fails the
	// application layer.
	m, r = diagRun(t, lab, "-4", "--http", "web:80")
	expectVerdict(t, m, r, "healthy", "", "", 0)
	if got := checks(m); !slices.Equal(got, []string{"resolve", "route", "neighbor", "ping", "connect", "http"}) {
		t.Fatalf("plain HTTP steps %v: %v", got, r)
	}
	m, r = diagRun(t, lab, "-6", "--http=/broken", "web:80")
	expectVerdict(t, m, r, "failed", "application", "http-error", 1)
	if !contains(m["summary"], "503") {
		t.Fatalf("HTTP 503: %v", r)
	}

	// The text checklist.
	r = netdiag(t, lab.Client, nil, "diagnose", "--ca", pki.caFile, "-4", "web.lab.test")
	for _, s := range []string{"IPv4 198.18.1.10", "✓ dns", "✓ transport   connect", "✓ tls", "healthy: port 443 connects in"} {
		if r.code != 0 || !strings.Contains(r.out, s) {
			t.Fatalf("text lacks %q: %v", s, r)
		}
	}
}

func TestLabDiagnoseICMPFiltered(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, Dst: srv.Addr4, Proto: netlab.ICMP})
	serveTCP(t, srv, "198.18.1.10:22", nil)

	m, r := diagRun(t, lab, "--timeout", "0.5", "198.18.1.10:22")
	expectVerdict(t, m, r, "healthy", "", "", 0)
	if !contains(m["summary"], "ICMP is filtered, not an outage") {
		t.Fatalf("summary: %v", r)
	}
	st := steps(t, m)
	if got := checks(m); !slices.Equal(got, []string{"route", "neighbor", "!ping", "!path", "connect"}) ||
		!contains(st["path"]["detail"], "packets stop after hop 1 (198.18.0.1)") {
		t.Fatalf("steps %v: %v", got, r)
	}
}

func TestLabDiagnoseNXDomain(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	lab.StartDNS(t, netlab.DNSConfig{})
	m, r := diagRun(t, lab, "nope")
	expectVerdict(t, m, r, "failed", "dns", "nxdomain", 3)
	if got := checks(m); !slices.Equal(got, []string{"!resolve"}) || len(m["families"].(map[string]any)) != 0 {
		t.Fatalf("steps %v: %v", got, r)
	}
	r = netdiag(t, lab.Client, nil, "diagnose", "nope")
	if r.code != 3 || !strings.Contains(r.out, "failed at DNS: nope does not resolve: the name does not exist (NXDOMAIN)") ||
		!strings.Contains(r.out, "resolve: A query for nope.lab.test, then nope: NXDOMAIN from 198.18.1.53:53") ||
		!strings.Contains(r.out, "Next: dig +search nope") {
		t.Fatalf("text: %v", r)
	}
}

func TestLabDiagnoseDNSTimeout(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	lab.StartDNS(t, netlab.DNSConfig{Records: map[string][]netip.Addr{"web": {lab.Servers[0].Addr4}}})
	lab.Client.UseResolver(t, netlab.SilentDNS4)
	m, r := diagRun(t, lab, "--timeout", "0.3", "web")
	expectVerdict(t, m, r, "failed", "dns", "dns-timeout", 3)
	ev, _ := steps(t, m)["resolve"]["evidence"].([]any)
	if len(ev) != 4 || ev[0] != "A query to 198.18.1.55:53: no answer within 300ms" || ev[1] != "A query for web.lab.test: no resolver answered" {
		t.Fatalf("evidence %v: %v", ev, r)
	}

	// A dead first resolver does not fail the diagnosis, but every lookup
	// waits for it: a note says so, and the silent resolver is asked
	// once, not again for the search list's next name.
	lab.Client.UseResolver(t, netlab.SilentDNS4, netlab.DNS4)
	// The working resolver gets a whole second: on a loaded machine a
	// 300 ms budget can run out on it too.
	m, r = diagRun(t, lab, "--timeout", "1", "-4", "web:53")
	st := steps(t, m)
	families, _ := m["families"].(map[string]any)
	ipv4, ok := families["ipv4"].(map[string]any)
	if !ok {
		t.Fatalf("no ipv4 family in the result: %v", r)
	}
	notes, _ := ipv4["notes"].([]any)
	if st["resolve"]["ok"] != true || len(notes) != 1 ||
		!contains(notes[0], "the resolver 198.18.1.55:53 does not answer: every lookup waits for it before asking 198.18.1.53:53") {
		t.Fatalf("dead first resolver: %v", r)
	}
}

func TestLabDiagnoseNoRoute(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	lab.Client.IP(t, "route", "del", "default")
	m, r := diagRun(t, lab, "198.18.1.10:80")
	expectVerdict(t, m, r, "failed", "network", "no-route", 1)
	if got := checks(m); !slices.Equal(got, []string{"!route"}) {
		t.Fatalf("steps %v: %v", got, r)
	}
}

func TestLabDiagnoseNeighborUnresolved(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	m, r := diagRun(t, lab, "--timeout", "1", netlab.NoNeighbor4.String()+":80")
	expectVerdict(t, m, r, "failed", "link", "neighbor-unresolved", 1)
	if !contains(m["summary"], "does not answer ARP on eth0") {
		t.Fatalf("summary: %v", r)
	}
	// The kernel's own "host unreachable" to the echo request, which
	// ping reports as neighbor-unresolved, is part of the evidence.
	evidence, _ := steps(t, m)["neighbor"]["evidence"].([]any)
	own := "this machine reported " + netlab.NoNeighbor4.String() + " unreachable (destination unreachable (host unreachable)) to its own echo request"
	if !slices.ContainsFunc(evidence, func(e any) bool { return e == own }) {
		t.Fatalf("neighbour evidence %q lacks %q: %v", evidence, own, r)
	}
}

func TestLabDiagnoseHostUnreachable(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	m, r := diagRun(t, lab, "--timeout", "1", netlab.NoHost4.String()+":80")
	expectVerdict(t, m, r, "failed", "network", "host-unreachable", 1)
	if !contains(m["summary"], "router 198.18.0.1 cannot deliver to 198.18.1.99") {
		t.Fatalf("summary: %v", r)
	}
}

func TestLabDiagnoseUnreachableRoute(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	dst := netlab.UnreachableNet4.Addr().Next()
	m, r := diagRun(t, lab, "--timeout", "0.5", dst.String()+":80")
	expectVerdict(t, m, r, "failed", "network", "host-unreachable", 1)
	if !contains(m["summary"], "router 198.18.0.1 has no usable route to "+dst.String()) {
		t.Fatalf("summary: %v", r)
	}
	// IPv6 answers an unreachable route with "no route" (net unreachable).
	dst = netlab.UnreachableNet6.Addr().Next()
	m, r = diagRun(t, lab, "--timeout", "0.5", "["+dst.String()+"]:80")
	expectVerdict(t, m, r, "failed", "network", "net-unreachable", 1)
}

func TestLabDiagnoseRoutingLoop(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	loop := lab.AddRoutingLoop(t)
	m, r := diagRun(t, lab, "--timeout", "0.5", loop.Target4.String()+":80")
	expectVerdict(t, m, r, "failed", "network", "ttl-exceeded", 1)
	if !contains(m["summary"], "routing loop near 198.18.2.2") || !contains(steps(t, m)["path"]["detail"], "routing loop: 198.18.0.1 → 198.18.2.2 → 198.18.0.1") {
		t.Fatalf("loop: %v", r)
	}
}

func TestLabDiagnoseFirewallReject(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.RejectAdminProhibited, Dst: srv.Addr4, Proto: netlab.TCP, Port: 80})
	m, r := diagRun(t, lab, srv.Addr4.String()+":80")
	expectVerdict(t, m, r, "failed", "transport", "admin-prohibited", 1)
	if !contains(m["summary"], "firewall 198.18.0.1 rejects connections to port 80") ||
		m["families"].(map[string]any)["ipv4"].(map[string]any)["from"] != "198.18.0.1" {
		t.Fatalf("reject: %v", r)
	}
}

func TestLabDiagnoseSilentDrop(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{Servers: 2})
	srv0, srv1 := lab.Servers[0], lab.Servers[1]
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, Dst: srv0.Addr4, Proto: netlab.TCP, Port: 80})
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, Dst: srv1.Addr4})

	// Ping works, the SYN vanishes: a firewall drops the port.
	m, r := diagRun(t, lab, "--timeout", "0.5", srv0.Addr4.String()+":80")
	expectVerdict(t, m, r, "failed", "transport", "timeout", 1)
	if !contains(m["summary"], "dropped silently: a firewall between you and 198.18.1.10") {
		t.Fatalf("port dropped: %v", r)
	}
	// Everything vanishes after the router: the path says where.
	m, r = diagRun(t, lab, "--timeout", "0.5", srv1.Addr4.String()+":80")
	expectVerdict(t, m, r, "failed", "network", "timeout", 1)
	if !contains(m["summary"], "packets stop after hop 1 (198.18.0.1)") {
		t.Fatalf("host dropped: %v", r)
	}
	// With the default 2 s timeout: the echo requests go 0.2 s apart
	// and the TCP handshake beside them, then the path probe; about 4.6 s
	// in all, where one step after the other took 9 s.
	m, r = diagRun(t, lab, srv1.Addr4.String()+":80")
	expectVerdict(t, m, r, "failed", "network", "timeout", 1)
	if r.took > 7*time.Second {
		t.Fatalf("a silent host took %v: %v", r.took, r)
	}
}

// TestLabDiagnoseGatewaySilent: the gateway takes nothing in any more
// (its interface drops every frame) while the client still holds its ARP
// entry: nothing comes back, not even the path probe's first hop, and the
// verdict points at the gateway.
func TestLabDiagnoseGatewaySilent(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	lab.Client.Run(t, "ping", "-c", "1", "-W", "1", "198.18.0.1")
	lab.Router.Nft(t, `table netdev gone {
	chain in {
		type filter hook ingress device c0 priority 0; drop;
	}
}`)
	m, r := diagRun(t, lab, "--timeout", "0.5", "198.18.1.10:22")
	expectVerdict(t, m, r, "failed", "network", "timeout", 1)
	if !contains(m["summary"], "nothing comes back, not even from the gateway 198.18.0.1 (the path probe's first hop): it is down, or it drops everything") {
		t.Fatalf("summary: %v", r)
	}
	r = netdiag(t, lab.Client, nil, "diagnose", "--timeout", "0.5", "198.18.1.10:22")
	if !strings.Contains(r.out, "Next: ping -c 3 198.18.0.1; ip neigh show 198.18.0.1 (is the gateway up?)") {
		t.Fatalf("text: %v", r)
	}
}

func TestLabDiagnoseClosedPort(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	m, r := diagRun(t, lab, "198.18.1.10:81")
	expectVerdict(t, m, r, "failed", "transport", "reset", 1)
	if !contains(m["summary"], "host is up; nothing listens on port 81") {
		t.Fatalf("closed: %v", r)
	}
}

func TestLabDiagnoseExpiredCertificate(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	lab.StartDNS(t, netlab.DNSConfig{Records: map[string][]netip.Addr{"web": {srv.Addr4}}})
	pki := newTestPKI(t)
	serveHTTPS(t, srv, "198.18.1.10:443", pki.leaf(t, "web.lab.test", time.Now().Add(-60*24*time.Hour), time.Now().Add(-3*24*time.Hour)))
	m, r := diagRun(t, lab, "--ca", pki.caFile, "web.lab.test")
	expectVerdict(t, m, r, "failed", "tls", "cert-expired", 1)
	r = netdiag(t, lab.Client, nil, "diagnose", "--ca", pki.caFile, "web.lab.test")
	if !strings.Contains(r.out, "Next: netdiag tlsprobe web.lab.test:443 --ca "+pki.caFile) {
		t.Fatalf("text: %v", r)
	}
}

// TestLabDiagnoseClientCertificate: a server that requires a client
// certificate ends the handshake with an alert; the verdict says why.
func TestLabDiagnoseClientCertificate(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	pki := newTestPKI(t)
	cert := pki.leaf(t, "198.18.1.10", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	ln := tls.NewListener(lab.Servers[0].Listen(t, "tcp", "198.18.1.10:8443"),
		&tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAnyClientCert, MaxVersion: tls.VersionTLS12})
	srv := &http.Server{Handler: labHandler(), ErrorLog: log.New(io.Discard, "", 0), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	m, r := diagRun(t, lab, "--ca", pki.caFile, "198.18.1.10:8443")
	expectVerdict(t, m, r, "failed", "tls", "tls-alert", 1)
	if !contains(m["summary"], "the server ended the TLS handshake with an alert: fatal handshake_failure (40), after asking for a client certificate") {
		t.Fatalf("summary: %v", r)
	}
}

func TestLabDiagnoseNotTLS(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	serveTCP(t, lab.Servers[0], "198.18.1.10:443", func(c net.Conn) {
		c.Write([]byte("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"))
		var b [512]byte
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		c.Read(b[:])
	})
	m, r := diagRun(t, lab, "--timeout", "1", "198.18.1.10")
	expectVerdict(t, m, r, "failed", "tls", "not-tls", 1)

	// The same port asked for HTTP: the application does not speak it.
	m, r = diagRun(t, lab, "--timeout", "1", "--no-tls", "--http", "198.18.1.10:443")
	expectVerdict(t, m, r, "failed", "application", "not-http", 1)
	if !contains(m["summary"], `port 443 does not speak HTTP: it answers "SSH-2.0-OpenSSH_9.2p1 Debian-2"`) {
		t.Fatalf("not HTTP: %v", r)
	}

	// A server that accepts the connection and never speaks: the TLS
	// handshake stalls, which is no firewall's doing.
	serveTCP(t, lab.Servers[0], "198.18.1.10:8443", nil)
	m, r = diagRun(t, lab, "--timeout", "0.5", "198.18.1.10:8443")
	expectVerdict(t, m, r, "failed", "tls", "timeout", 1)
	if !contains(m["summary"], "port 8443 accepts connections but does not go through with TLS: the ClientHello gets no answer within 500ms") {
		t.Fatalf("silent TLS: %v", r)
	}
	r = netdiag(t, lab.Client, nil, "diagnose", "--timeout", "0.5", "198.18.1.10:8443")
	if !strings.Contains(r.out, "Next: netdiag tlsprobe 198.18.1.10:8443") || strings.Contains(r.out, "i/o timeout") {
		t.Fatalf("text: %v", r)
	}
}

func TestLabDiagnoseIPv6Broken(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	lab.StartDNS(t, netlab.DNSConfig{Records: map[string][]netip.Addr{"web": {srv.Addr4, srv.Addr6}}})
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, Dst: srv.Addr6})
	serveTCP(t, srv, "198.18.1.10:22", nil)
	serveTCP(t, srv, "[2001:db8:1::10]:22", nil)

	m, r := diagRun(t, lab, "--timeout", "0.5", "web:22")
	expectVerdict(t, m, r, "degraded", "network", "timeout", 1)
	fams := m["families"].(map[string]any)
	if fams["ipv4"].(map[string]any)["verdict"] != "healthy" || fams["ipv6"].(map[string]any)["verdict"] != "failed" ||
		!contains(m["summary"], "IPv6 fails") || !slices.Contains(checks(m), "!connect") {
		t.Fatalf("degraded: %v", r)
	}
}

// TestLabDiagnoseAAAAFails: the name's A query answers, its AAAA query
// gets SERVFAIL. Every dual-stack lookup of the name then waits for or
// trips over the broken AAAA, so IPv6 counts as failed at DNS while IPv4
// works: degraded, and the sentence says which query fails. The resolver
// is a responder on the client's own loopback.
func TestLabDiagnoseAAAAFails(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	serveTCP(t, lab.Servers[0], "198.18.1.10:22", nil)
	pc := lab.Client.ListenPacket(t, "udp", "127.0.0.1:53")
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		switch {
		case q.Question[0].Name != "web.lab.test.":
			m.Rcode = dns.RcodeNameError
		case q.Question[0].Qtype == dns.TypeA:
			rr, _ := dns.NewRR("web.lab.test. 60 IN A 198.18.1.10")
			m.Answer = append(m.Answer, rr)
		default:
			m.Rcode = dns.RcodeServerFailure
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	lab.Client.UseResolverConf(t, "nameserver 127.0.0.1\nsearch lab.test\n")

	m, r := diagRun(t, lab, "web:22")
	expectVerdict(t, m, r, "degraded", "dns", "servfail", 1)
	fams := m["families"].(map[string]any)
	if fams["ipv4"].(map[string]any)["verdict"] != "healthy" || fams["ipv6"].(map[string]any)["addr"] != nil ||
		!contains(m["summary"], "IPv6 fails while IPv4 works: the AAAA query for web fails: the resolver could not answer (SERVFAIL)") {
		t.Fatalf("degraded: %v", r)
	}
	r = netdiag(t, lab.Client, nil, "diagnose", "web:22")
	if r.code != 1 || !strings.Contains(r.out, "Next: dig @127.0.0.1 +search AAAA web") {
		t.Fatalf("text: %v", r)
	}
}

// TestLabDiagnoseUnprivileged runs as nobody in a namespace where no ICMP
// socket may be opened: the echo and path steps are skipped with a note,
// and the TCP handshake decides, the neighbour's failure included.
func TestLabDiagnoseUnprivileged(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	serveTCP(t, lab.Servers[0], "198.18.1.10:22", nil)
	m, r := diagRunAs(t, lab, &netlab.Nobody, "198.18.1.10:22")
	expectVerdict(t, m, r, "healthy", "", "", 0)
	notes, _ := m["families"].(map[string]any)["ipv4"].(map[string]any)["notes"].([]any)
	if got := checks(m); !slices.Equal(got, []string{"route", "neighbor", "connect"}) || len(notes) != 1 || !contains(notes[0], "ping skipped: ") {
		t.Fatalf("steps %v, notes %v: %v", got, notes, r)
	}
	// A dropped SYN without ping: the host may be down, and the trace
	// that would look closer needs a raw socket.
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, Dst: lab.Servers[0].Addr4, Proto: netlab.TCP, Port: 24})
	r = netdiag(t, lab.Client, &netlab.Nobody, "diagnose", "--timeout", "0.3", "198.18.1.10:24")
	if r.code != 1 || !strings.Contains(r.out, "drops connections to port 24, or the host is down (without ping there is no telling)") ||
		!strings.Contains(r.out, "Next: sudo netdiag tcpprobe --trace 198.18.1.10:24") {
		t.Fatalf("dropped port as nobody: %v", r)
	}
	m, r = diagRunAs(t, lab, &netlab.Nobody, "--timeout", "1", netlab.NoNeighbor4.String()+":22")
	expectVerdict(t, m, r, "failed", "link", "neighbor-unresolved", 1)
	if got := checks(m); !slices.Equal(got, []string{"route", "!neighbor", "!connect"}) {
		t.Fatalf("steps %v: %v", got, r)
	}
}

// TestLabDiagnoseLocalFirewall rejects traffic in the client's own output
// chain: the verdict names this machine's firewall, not a router.
func TestLabDiagnoseLocalFirewall(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{Servers: 2})
	serveTCP(t, lab.Servers[1], "198.18.1.11:22", nil)
	lab.Client.Nft(t, `table inet localfw {
	chain out {
		type filter hook output priority 0;
		tcp dport 9000 reject with icmpx type admin-prohibited
		ip daddr 198.18.1.11 icmp type echo-request reject with icmpx type admin-prohibited
	}
}`)
	m, r := diagRun(t, lab, "198.18.1.10:9000")
	expectVerdict(t, m, r, "failed", "transport", "admin-prohibited", 1)
	if !contains(m["summary"], "this machine's own firewall rejects connections to port 9000") {
		t.Fatalf("summary: %v", r)
	}
	r = netdiag(t, lab.Client, nil, "diagnose", "198.18.1.10:9000")
	if !strings.Contains(r.out, "Next: nft list ruleset") {
		t.Fatalf("text: %v", r)
	}
	// Ping refused on the way out, TCP open: healthy, and no path probe
	// for packets that never left.
	m, r = diagRun(t, lab, "198.18.1.11:22")
	expectVerdict(t, m, r, "healthy", "", "", 0)
	if got := checks(m); !slices.Equal(got, []string{"route", "neighbor", "!ping", "connect"}) ||
		!contains(m["summary"], "this machine's own firewall refuses to send ICMP echo, but port 22 connects") {
		t.Fatalf("steps %v: %v", got, r)
	}
	// A refused echo is no evidence: a port nothing listens on is the
	// transport layer's failure, as without ping.
	m, r = diagRun(t, lab, "198.18.1.11:81")
	expectVerdict(t, m, r, "failed", "transport", "reset", 1)
}
