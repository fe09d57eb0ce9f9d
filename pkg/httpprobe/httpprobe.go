// Package httpprobe asks a web server for one response head, to show that
// the application behind a port answers: a HEAD request with a Host
// header, a bounded read of the answer under a deadline, the status line
// and a few headers, and a verdict in the shared failure vocabulary.
//
// Head works over any connection with deadlines, so tlsprobe sends the
// request through its own TLS record layer; Probe dials plain TCP first,
// for diagnose's application check without TLS. Redirects are not
// followed: a redirect is an answer.
package httpprobe

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
)

// MaxHead bounds the response head read from the server; a longer head is
// judged on its first MaxHead bytes.
const MaxHead = 64 << 10

// Result is the answer to the HEAD request.
type Result struct {
	// StatusLine is the response's first line ("HTTP/1.1 200 OK") and
	// StatusCode its code. A first line that is not an HTTP status line
	// is kept, described or shortened to printable text, with StatusCode
	// 0: the service speaks another protocol. Both are empty when no
	// answer came.
	StatusLine string
	StatusCode int
	// Server, Location and ContentType are those headers of the answer,
	// shortened to printable text; empty when absent.
	Server      string
	Location    string
	ContentType string
	// Elapsed runs from sending the request to reading the response
	// head, or to the moment it was given up.
	Elapsed time.Duration
	// Error says, in plain words, why no status came back.
	Error string
}

// Failure judges the answer: an answer that is not HTTP is not-http, no
// answer is no-response, a 5xx status is http-error; anything else
// (redirects and 4xx included: the application answered) is nil.
func (r *Result) Failure() *failure.Failure {
	switch {
	case r.StatusLine != "" && r.StatusCode == 0:
		return failure.New(failure.NotHTTP, "it answers "+strconv.Quote(r.StatusLine))
	case r.Error != "":
		return failure.New(failure.NoResponse, r.Error)
	case r.StatusCode >= 500:
		return failure.New(failure.HTTPError, r.StatusLine)
	}
	return nil
}

// Conn is what Head needs of a connection: a byte stream whose waits can
// be bounded. A net.Conn is one.
type Conn interface {
	io.ReadWriter
	SetDeadline(t time.Time) error
}

// Head sends one HEAD request for path over conn, with host as the Host
// header (see HostHeader), and reads the response head. The send and the
// wait for the head have timeout each; cancelling ctx ends either at once.
// Head does not close conn.
func Head(ctx context.Context, conn Conn, host, path string, timeout time.Duration) *Result {
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	res := &Result{}
	req := "HEAD " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: netdiag\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	start := time.Now()
	if err := conn.SetDeadline(start.Add(timeout)); err != nil {
		res.Error = "the request could not be sent: " + words(ctx, err, timeout)
		return res
	}
	if _, err := io.WriteString(conn, req); err != nil {
		res.Elapsed = time.Since(start)
		res.Error = "the request could not be sent: " + words(ctx, err, timeout)
		return res
	}
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		res.Elapsed = time.Since(start)
		res.Error = words(ctx, err, timeout)
		return res
	}
	head, err := readHead(conn)
	res.Elapsed = time.Since(start)
	if len(head) == 0 {
		res.Error = words(ctx, err, timeout)
		return res
	}
	parseHead(res, head)
	return res
}

// Probe connects to addr over TCP and makes the request of Head, with
// host (a name or an IP address) and addr's port, unless 80, as the Host
// header. The connect has timeout too.
func Probe(ctx context.Context, addr netip.AddrPort, host, path string, timeout time.Duration) *Result {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		return &Result{Error: "the connection failed: " + words(ctx, err, timeout)}
	}
	defer conn.Close()
	return Head(ctx, conn, HostHeader(host, addr.Port(), 80), path, timeout)
}

// HostHeader returns the Host header for host, a name or an IP address,
// on port: an IPv6 address in brackets, and the port left out when it is
// the scheme's defaultPort (80 for http, 443 for https).
func HostHeader(host string, port, defaultPort uint16) string {
	if port != defaultPort {
		return net.JoinHostPort(host, strconv.Itoa(int(port)))
	}
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
		return "[" + host + "]"
	}
	return host
}

// words says in plain words why a connection gave no answer.
func words(ctx context.Context, err error, timeout time.Duration) string {
	var errno syscall.Errno
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.Canceled), errors.Is(err, context.Canceled):
		return "interrupted"
	case err == nil, errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE):
		return "the server closed the connection without an answer"
	case errors.Is(err, syscall.ECONNRESET):
		return "the server reset the connection without an answer"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer within " + timeout.String()
	case errors.As(err, &errno):
		return errno.Error()
	}
	return err.Error()
}
