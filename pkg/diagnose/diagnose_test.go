package diagnose

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/resolve"
)

func TestTLSByDefault(t *testing.T) {
	for _, p := range []int{443, 465, 636, 853, 993, 995, 8443} {
		if !TLSByDefault(p) {
			t.Errorf("port %d should default to TLS", p)
		}
	}
	for _, p := range []int{22, 25, 80, 8080} {
		if TLSByDefault(p) {
			t.Errorf("port %d should not default to TLS", p)
		}
	}
}

func TestDiagnoseBadInput(t *testing.T) {
	cases := []struct {
		host string
		o    Options
	}{
		{"127.0.0.1", Options{Port: 0}},
		{"127.0.0.1", Options{Port: 70000}},
		{"127.0.0.1", Options{Port: 80, HTTP: true, HTTPPath: "health"}},
		{"::1", Options{Port: 80, Family: resolve.IPv4}},
		{"", Options{Port: 80}},
	}
	for _, c := range cases {
		_, err := Diagnose(context.Background(), c.host, c.o)
		var fe *failure.Error
		if !errors.As(err, &fe) || fe.Kind != failure.KindInput {
			t.Errorf("%q %+v: got %v, want an input error", c.host, c.o, err)
		}
	}
}

// TestResolveFamilies checks which families a name gives, against a DNS
// server on loopback; nothing is sent to the addresses it returns.
func TestResolveFamilies(t *testing.T) {
	good := startDNS(t)
	cfg := DNSConfig{Servers: []string{good}, Hosts: filepath.Join(t.TempDir(), "hosts"), Timeout: 500 * time.Millisecond}
	cases := []struct {
		name     string
		family   resolve.Family
		families []string
		failed   map[string]failure.Reason
		reason   failure.Reason
	}{
		{"both.lab.test", resolve.Any, []string{"ipv4", "ipv6"}, nil, ""},
		{"both.lab.test", resolve.IPv6, []string{"ipv6"}, nil, ""},
		{"v4only.lab.test", resolve.Any, []string{"ipv4"}, nil, ""},
		{"v6fail.lab.test", resolve.Any, []string{"ipv4", "ipv6"}, map[string]failure.Reason{"ipv6": failure.ServFail}, ""},
		{"v6fail.lab.test", resolve.IPv4, []string{"ipv4"}, nil, ""},
		{"v4only.lab.test", resolve.IPv6, nil, nil, failure.NoAddress},
		{"nope.lab.test", resolve.Any, nil, nil, failure.NXDomain},
		{"blocked.lab.test", resolve.Any, nil, nil, failure.NoAddress},
		{"v6blocked.lab.test", resolve.Any, []string{"ipv4", "ipv6"}, map[string]failure.Reason{"ipv6": failure.NoAddress}, ""},
	}
	for _, c := range cases {
		r := &Report{}
		o := Options{Family: c.family, DNS: cfg}
		if err := r.resolve(context.Background(), c.name, &o); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got []string
		for _, f := range r.Families {
			got = append(got, f.Family)
			if want := c.failed[f.Family]; want != "" {
				if f.Verdict != Failed || f.Failure.Reason != want || f.Steps[0].OK {
					t.Errorf("%s %s: %+v, want failed with %s", c.name, f.Family, f, want)
				}
			} else if !f.Addr.IsValid() || len(f.Steps) != 1 || !f.Steps[0].OK || f.Steps[0].Check != "resolve" {
				t.Errorf("%s %s: %+v", c.name, f.Family, f)
			}
		}
		if strings.Join(got, ",") != strings.Join(c.families, ",") {
			t.Errorf("%s: families %v, want %v", c.name, got, c.families)
		}
		if c.reason != "" && (r.Failure == nil || r.Failure.Reason != c.reason || !r.Unresolved() || r.Resolve == nil || r.Resolve.OK) {
			t.Errorf("%s: failure %+v, want %s", c.name, r.Failure, c.reason)
		}
	}

	// The sentences say which query failed, and why, without claiming
	// that a name with an A record does not resolve.
	for name, want := range map[string]string{
		"v6fail.lab.test":    "the AAAA query for v6fail.lab.test fails: the resolver could not answer (SERVFAIL)",
		"v6blocked.lab.test": "the AAAA query for v6blocked.lab.test fails: the resolver answers ::, the answer DNS filters give",
		"blocked.lab.test":   "blocked.lab.test does not resolve: the resolver answers 0.0.0.0, ::, the answer DNS filters give",
	} {
		r := &Report{}
		if err := r.resolve(context.Background(), name, &Options{DNS: cfg}); err != nil {
			t.Fatal(err)
		}
		got := r.Summary
		for _, f := range r.Families {
			if f.Verdict == Failed {
				got = f.Summary
			}
		}
		if !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}

	// What no diagnosis can be made of is bad input.
	for _, host := range []string{"0.0.0.0", "::", "224.0.0.1", "ff02::1", "255.255.255.255", "fe80::1", "a..b", "a b"} {
		err := (&Report{}).resolve(context.Background(), host, &Options{DNS: cfg})
		var fe *failure.Error
		if !errors.As(err, &fe) || fe.Kind != failure.KindInput {
			t.Errorf("%s: %v, want an input error", host, err)
		}
	}
}

// listenLoopback opens a TCP listener on 127.0.0.1 that accepts and holds
// connections until the test ends.
func listenLoopback(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestDiagnoseLoopback runs the whole diagnosis against this machine's
// loopback address: the route is local, the echo goes through pkg/ping
// (or is skipped without ICMP socket permission), the handshake through
// pkg/handshake.
func TestDiagnoseLoopback(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("route lookups need Linux")
	}
	port := listenLoopback(t)
	rep, err := Diagnose(context.Background(), "127.0.0.1", Options{Port: port, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Families[0]
	if rep.Verdict != Healthy || rep.Failure != nil || len(rep.Families) != 1 || f.Family != "ipv4" ||
		!f.Route.Local || f.TCP == nil || f.TLS != nil || rep.DNS != nil {
		t.Fatalf("report %+v, family %+v", rep, f)
	}
	if f.Ping == nil && (len(f.Notes) == 0 || !strings.HasPrefix(f.Notes[0], "ping skipped")) {
		t.Fatalf("no ping and no note: %+v", f)
	}
	last := f.Steps[len(f.Steps)-1]
	if last.Check != "connect" || !last.OK || last.Layer != failure.LayerTransport {
		t.Fatalf("steps %+v", f.Steps)
	}

	// Nothing listens on a port just closed: the host answers with a reset.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	rep, err = Diagnose(context.Background(), "127.0.0.1", Options{Port: closed, Timeout: time.Second})
	if err != nil || rep.Verdict != Failed || rep.Failure.Reason != failure.Reset || rep.Failure.Layer != failure.LayerTransport ||
		!strings.Contains(rep.Summary, "nothing listens on port") {
		t.Fatalf("closed port: %+v %v", rep, err)
	}
}

func TestDiagnoseLoopbackHTTP(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("route lookups need Linux")
	}
	var gotHost string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHost = r.Host
		switch r.URL.Path {
		case "/broken":
			w.WriteHeader(http.StatusBadGateway)
		case "/moved":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}
	}))
	defer srv.Close()
	ap := netip.MustParseAddrPort(srv.Listener.Addr().String())
	port := int(ap.Port())
	cases := []struct {
		path   string
		reason failure.Reason
		status string
	}{
		{"/", "", "HTTP/1.1 200 OK"},
		{"/moved", "", "HTTP/1.1 302 Found"},
		{"/broken", failure.HTTPError, "HTTP/1.1 502 Bad Gateway"},
	}
	for _, c := range cases {
		rep, err := Diagnose(context.Background(), "127.0.0.1", Options{Port: port, HTTP: true, HTTPPath: c.path, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		f := rep.Families[0]
		if f.HTTP == nil || f.HTTP.StatusLine != c.status || f.HTTP.TLS {
			t.Fatalf("%s: HTTP %+v", c.path, f.HTTP)
		}
		if c.reason == "" && rep.Verdict != Healthy || c.reason != "" && (rep.Failure == nil || rep.Failure.Reason != c.reason || rep.Failure.Layer != failure.LayerApplication) {
			t.Fatalf("%s: %s %+v", c.path, rep.Verdict, rep.Failure)
		}
	}
	if gotHost != ap.String() {
		t.Fatalf("Host header %q", gotHost)
	}
}
