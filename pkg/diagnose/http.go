package diagnose

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/tlsprobe"
)

// maxHTTPHeader bounds the response head read from the server.
const maxHTTPHeader = 64 << 10

// HTTPResult is the answer to the application check's HEAD request.
type HTTPResult struct {
	// StatusLine is the response's first line ("HTTP/1.1 200 OK") and
	// StatusCode its code. A first line that is not an HTTP status line
	// is kept, shortened, with StatusCode 0: the service does not speak
	// HTTP. Both are empty when no answer came.
	StatusLine string
	StatusCode int
	// Server is the Server header, if any.
	Server string
	// Elapsed runs from sending the request to the response head, or to
	// the moment it was given up.
	Elapsed time.Duration
	// Error says, in plain words, why no status came back.
	Error string
	// TLS tells that the request went over the TLS connection of the
	// TLS step.
	TLS bool
}

// Failure judges the answer: no answer is no-response, an answer that is
// not HTTP is not-http, a 5xx status is http-error; anything else
// (redirects and 4xx included: the application answered) is fine.
func (h *HTTPResult) Failure() *failure.Failure {
	switch {
	case h.StatusLine != "" && h.StatusCode == 0:
		return failure.New(failure.NotHTTP, "it answers "+strconv.Quote(h.StatusLine))
	case h.Error != "":
		return failure.New(failure.NoResponse, h.Error)
	case h.StatusCode >= 500:
		return failure.New(failure.HTTPError, h.StatusLine)
	}
	return nil
}

func httpFromTLS(h *tlsprobe.HTTPResult) *HTTPResult {
	return &HTTPResult{StatusLine: h.StatusLine, StatusCode: h.StatusCode, Server: h.Server, Elapsed: h.Elapsed, Error: h.Error, TLS: true}
}

// plainHTTP sends one HEAD request for path to addr over a new TCP
// connection, with host (and the port, when not 80) in the Host header,
// and reads the response head. Redirects are not followed: a redirect is
// an answer. Each of the connect, the send and the wait for the head has
// the timeout.
func plainHTTP(ctx context.Context, host string, addr netip.AddrPort, path string, timeout time.Duration) *HTTPResult {
	hostport := host
	if addr.Port() != 80 {
		hostport = net.JoinHostPort(host, strconv.Itoa(int(addr.Port())))
	} else if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
		hostport = "[" + host + "]"
	}
	res := &HTTPResult{}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		res.Error = "the connection failed: " + ioWords(err, timeout)
		return res
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	req := "HEAD " + path + " HTTP/1.1\r\nHost: " + hostport + "\r\nUser-Agent: netdiag\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	start := time.Now()
	conn.SetDeadline(start.Add(timeout))
	if _, err := io.WriteString(conn, req); err != nil {
		res.Elapsed = time.Since(start)
		res.Error = "the request could not be sent: " + ioWords(err, timeout)
		return res
	}
	head, err := readHead(conn)
	res.Elapsed = time.Since(start)
	if len(head) == 0 {
		res.Error = ioWords(err, timeout)
		return res
	}
	parseHead(res, head)
	return res
}

// readHead reads up to the blank line that ends a response head, the end
// of the stream, or maxHTTPHeader bytes, whichever comes first. It stops
// as soon as the bytes cannot begin an HTTP response, since another
// protocol's server may say no more. The error is the read's when
// nothing came.
func readHead(r io.Reader) ([]byte, error) {
	var head []byte
	buf := make([]byte, 4096)
	for len(head) < maxHTTPHeader {
		n, err := r.Read(buf[:min(len(buf), maxHTTPHeader-len(head))])
		head = append(head, buf[:n]...)
		switch {
		case bytes.Contains(head, []byte("\r\n\r\n")), bytes.Contains(head, []byte("\n\n")):
			return head, nil
		case !couldBeHTTP(head):
			return head, nil
		case err != nil:
			return head, err
		}
	}
	return head, nil
}

// couldBeHTTP reports whether b can be the start of an HTTP response.
func couldBeHTTP(b []byte) bool {
	const prefix = "HTTP/"
	if len(b) < len(prefix) {
		return string(b) == prefix[:len(b)]
	}
	return string(b[:len(prefix)]) == prefix
}

// parseHead fills the status and the Server header from a response
// head; a first line that is not an HTTP status line is kept, shortened
// and without control characters, as the sign of another protocol.
func parseHead(res *HTTPResult, head []byte) {
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	first := lines[0]
	f := strings.Fields(first)
	code := 0
	if len(f) >= 2 && strings.HasPrefix(f[0], "HTTP/") {
		if c, err := strconv.Atoi(f[1]); err == nil && c >= 100 && c <= 999 {
			code = c
		}
	}
	if code == 0 {
		res.StatusLine = printable(first, 60)
		switch {
		case len(head) >= 2 && (head[0] == 0x15 || head[0] == 0x16) && head[1] == 0x03:
			// An alert or handshake record: the port wants TLS.
			res.StatusLine = "a TLS record: this port speaks TLS (try --tls)"
		case strings.TrimSpace(first) == "":
			res.StatusLine = "an empty line"
		case res.StatusLine == "" || 2*printableBytes(first) < len(first):
			res.StatusLine = plural(len(first), "byte") + " of binary data"
		}
		return
	}
	res.StatusLine, res.StatusCode = strings.TrimSpace(first), code
	for _, l := range lines[1:] {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "server") {
			res.Server = printable(strings.TrimSpace(v), 80)
		}
	}
}

// printable keeps the printable ASCII of s, at most n bytes of it.
func printable(s string, n int) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 0x20 && c < 0x7f {
			b.WriteRune(c)
		}
		if b.Len() >= n {
			b.WriteString("…")
			break
		}
	}
	return strings.TrimSpace(b.String())
}

// printableBytes counts the printable ASCII bytes of s.
func printableBytes(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x20 && s[i] < 0x7f {
			n++
		}
	}
	return n
}

// ioWords says in plain words why a connection gave no answer.
func ioWords(err error, timeout time.Duration) string {
	var errno syscall.Errno
	var ne net.Error
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return "the server closed the connection without an answer"
	case errors.Is(err, syscall.ECONNRESET):
		return "the server reset the connection without an answer"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer within " + timeout.String()
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.As(err, &errno):
		return errno.Error()
	}
	return err.Error()
}
