package httpprobe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netdiag/netdiag/internal/netlab"
	"github.com/netdiag/netdiag/pkg/failure"
)

func TestProbeAnswers(t *testing.T) {
	var gotHost, gotMethod string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHost, gotMethod = r.Host, r.Method
		w.Header().Set("Server", "lab/1.0")
		switch r.URL.Path {
		case "/broken":
			w.WriteHeader(http.StatusBadGateway)
		case "/moved":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "/missing":
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ap := netip.MustParseAddrPort(srv.Listener.Addr().String())
	cases := []struct {
		path     string
		status   string
		location string
		reason   failure.Reason
	}{
		{"/", "HTTP/1.1 200 OK", "", ""},
		{"/moved", "HTTP/1.1 302 Found", "/elsewhere", ""},
		{"/missing", "HTTP/1.1 404 Not Found", "", ""},
		{"/broken", "HTTP/1.1 502 Bad Gateway", "", failure.HTTPError},
	}
	for _, c := range cases {
		r := Probe(context.Background(), ap, "www.lab.test", c.path, time.Second)
		f := r.Failure()
		switch {
		case r.StatusLine != c.status || r.Server != "lab/1.0" || r.Location != c.location || r.Error != "" || r.Elapsed <= 0:
			t.Errorf("%s: %+v", c.path, r)
		case c.reason == "" && f != nil, c.reason != "" && (f == nil || f.Reason != c.reason || f.Detail != c.status):
			t.Errorf("%s: failure %v, want %q", c.path, f, c.reason)
		}
		if c.path == "/missing" && !strings.HasPrefix(r.ContentType, "text/plain") {
			t.Errorf("%s: Content-Type %q", c.path, r.ContentType)
		}
	}
	if want := net.JoinHostPort("www.lab.test", strconv.Itoa(int(ap.Port()))); gotHost != want || gotMethod != http.MethodHead {
		t.Errorf("request %s with Host %q, want HEAD with %q", gotMethod, gotHost, want)
	}
}

func TestHostHeader(t *testing.T) {
	cases := []struct {
		host      string
		port, def uint16
		want      string
	}{
		{"www.lab.test", 80, 80, "www.lab.test"},
		{"www.lab.test", 8080, 80, "www.lab.test:8080"},
		{"198.18.1.10", 443, 443, "198.18.1.10"},
		{"198.18.1.10", 80, 443, "198.18.1.10:80"},
		{"2001:db8::10", 80, 80, "[2001:db8::10]"},
		{"2001:db8::10", 8443, 443, "[2001:db8::10]:8443"},
	}
	for _, c := range cases {
		if got := HostHeader(c.host, c.port, c.def); got != c.want {
			t.Errorf("HostHeader(%q, %d, %d) = %q, want %q", c.host, c.port, c.def, got, c.want)
		}
	}
}

func TestParseHead(t *testing.T) {
	cases := []struct {
		head string
		want Result
	}{
		{"HTTP/1.1 301 Moved Permanently\r\nlocation: https://www.lab.test/\r\nContent-Type: text/html; charset=utf-8\r\nSERVER:  nginx \r\n\r\n",
			Result{StatusLine: "HTTP/1.1 301 Moved Permanently", StatusCode: 301, Server: "nginx", Location: "https://www.lab.test/", ContentType: "text/html; charset=utf-8"}},
		{"HTTP/1.0 200 OK\nServer: bare\n\n", Result{StatusLine: "HTTP/1.0 200 OK", StatusCode: 200, Server: "bare"}},
		{"HTTP/1.1 20 Short\r\n\r\n", Result{StatusLine: "HTTP/1.1 20 Short"}},
		{"HTTP/1.1 200 OK\x00\x1b\r\nServer: a\x07b\r\n\r\n", Result{StatusLine: "HTTP/1.1 200 OK", StatusCode: 200, Server: "ab"}},
		{"<!DOCTYPE HTML>\r\n", Result{StatusLine: "<!DOCTYPE HTML>"}},
		{"\r\n\r\n", Result{StatusLine: "an empty line"}},
		{"\x16\x03\x03\x00\x31\x02", Result{StatusLine: "a TLS record: this port speaks TLS (try --tls)"}},
		{"\x00", Result{StatusLine: "1 byte of binary data"}},
	}
	for _, c := range cases {
		var got Result
		parseHead(&got, []byte(c.head))
		if got != c.want {
			t.Errorf("parseHead(%q) = %+v, want %+v", c.head, got, c.want)
		}
	}
}

func TestProbeNoAnswer(t *testing.T) {
	// A server that accepts the connection and never answers.
	ap := serve(t, func(c net.Conn) { time.Sleep(time.Second) })
	start := time.Now()
	r := Probe(context.Background(), ap, "localhost", "/", 200*time.Millisecond)
	f := r.Failure()
	if r.StatusCode != 0 || f == nil || f.Reason != failure.NoResponse || f.Detail != "no answer within 200ms" ||
		r.Elapsed < 200*time.Millisecond || time.Since(start) > 2*time.Second {
		t.Fatalf("got %+v (%v) after %v", r, f, time.Since(start))
	}
}

// TestProbeEndlessHead: a head that never ends is read up to MaxHead and
// judged on that, without waiting for the timeout.
func TestProbeEndlessHead(t *testing.T) {
	ap := serve(t, func(c net.Conn) {
		c.Read(make([]byte, 512))
		c.Write([]byte("HTTP/1.1 200 OK\r\nServer: drip\r\n"))
		line := []byte("X-Filler: " + strings.Repeat("y", 1000) + "\r\n")
		for {
			if _, err := c.Write(line); err != nil {
				return
			}
		}
	})
	r := Probe(context.Background(), ap, "localhost", "/", 3*time.Second)
	if r.StatusCode != 200 || r.Server != "drip" || r.Failure() != nil || r.Elapsed >= 3*time.Second {
		t.Fatalf("got %+v", r)
	}
}

func TestProbeInterrupted(t *testing.T) {
	ap := serve(t, func(c net.Conn) { time.Sleep(time.Second) })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	r := Probe(ctx, ap, "localhost", "/", 5*time.Second)
	if r.Error != "interrupted" || time.Since(start) > 2*time.Second {
		t.Fatalf("got %+v after %v", r, time.Since(start))
	}
}

func TestProbeRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	r := Probe(context.Background(), ap, "localhost", "/", time.Second)
	if f := r.Failure(); f == nil || f.Reason != failure.NoResponse || !strings.HasPrefix(r.Error, "the connection failed: ") {
		t.Fatalf("got %+v", r)
	}
}

// serve answers every connection on loopback with fn.
func serve(t *testing.T, fn func(net.Conn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	netlab.Serve(ln, fn)
	return netip.MustParseAddrPort(ln.Addr().String())
}

// TestProbeOtherAnswers checks the answers that are not a status: another
// protocol, a hang-up, a reset, a head without the blank line.
func TestProbeOtherAnswers(t *testing.T) {
	readRequest := func(c net.Conn) { c.Read(make([]byte, 512)) }
	cases := []struct {
		name   string
		serve  func(net.Conn)
		reason failure.Reason
		detail string
		status string
	}{
		{"ssh", func(c net.Conn) {
			c.Write([]byte("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"))
			readRequest(c)
			readRequest(c)
		},
			failure.NotHTTP, `it answers "SSH-2.0-OpenSSH_9.2p1 Debian-2"`, "SSH-2.0-OpenSSH_9.2p1 Debian-2"},
		{"binary", func(c net.Conn) { readRequest(c); c.Write([]byte{0x00, 0x01, 0x02, 0xff, 0x28}) },
			failure.NotHTTP, `it answers "5 bytes of binary data"`, "5 bytes of binary data"},
		{"tls alert", func(c net.Conn) {
			readRequest(c)
			c.Write([]byte{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28})
			readRequest(c)
		},
			failure.NotHTTP, `it answers "a TLS record: this port speaks TLS (try --tls)"`, "a TLS record: this port speaks TLS (try --tls)"},
		{"long banner", func(c net.Conn) { c.Write([]byte("220 " + strings.Repeat("x", 200) + "\r\n")); readRequest(c) },
			failure.NotHTTP, `it answers "220 ` + strings.Repeat("x", 56) + `…"`, "220 " + strings.Repeat("x", 56) + "…"},
		{"hang-up", func(c net.Conn) { readRequest(c) }, failure.NoResponse, "the server closed the connection without an answer", ""},
		{"reset", func(c net.Conn) { readRequest(c); c.(*net.TCPConn).SetLinger(0) }, failure.NoResponse, "the server reset the connection without an answer", ""},
		{"head cut short", func(c net.Conn) { readRequest(c); c.Write([]byte("HTTP/1.1 204 No Content\r\nServer: x\r\n")) }, "", "", "HTTP/1.1 204 No Content"},
	}
	for _, c := range cases {
		ap := serve(t, c.serve)
		// The servers that speak first keep the connection open: the
		// answer is judged without waiting for the timeout.
		r := Probe(context.Background(), ap, "127.0.0.1", "/", 3*time.Second)
		f := r.Failure()
		switch {
		case c.reason == "" && (f != nil || r.StatusLine != c.status || r.Server != "x"):
			t.Errorf("%s: %+v, %v", c.name, r, f)
		case c.reason != "" && (f == nil || f.Reason != c.reason || f.Detail != c.detail || r.StatusLine != c.status):
			t.Errorf("%s: %+v, %v; want %s %q", c.name, r, f, c.reason, c.detail)
		case r.Elapsed >= 3*time.Second:
			t.Errorf("%s: waited for the timeout", c.name)
		}
	}
}
