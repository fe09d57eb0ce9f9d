package diagnose

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/tlsprobe"
)

// maxHTTPHeader bounds the response head read from the server.
const maxHTTPHeader = 64 << 10

// HTTPResult is the answer to the application check's HEAD request.
type HTTPResult struct {
	// StatusLine is the response's first line ("HTTP/1.1 200 OK") and
	// StatusCode its code; empty and 0 when no answer came.
	StatusLine string
	StatusCode int
	// Server is the Server header, if any.
	Server string
	// Elapsed runs from sending the request to the response head.
	Elapsed time.Duration
	// Error says why no status came back.
	Error string
	// TLS tells that the request went over the TLS connection of the
	// TLS step.
	TLS bool
}

// Failure judges the answer: no answer is no-response, a 5xx status is
// http-error; anything else (redirects and 4xx included: the application
// answered) is fine.
func (h *HTTPResult) Failure() *failure.Failure {
	switch {
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
// connection, with host (and the port, when not 80) in the Host header.
// Redirects are not followed: a redirect is an answer.
func plainHTTP(ctx context.Context, host string, addr netip.AddrPort, path string, timeout time.Duration) *HTTPResult {
	hostport := host
	if addr.Port() != 80 {
		hostport = net.JoinHostPort(host, strconv.Itoa(int(addr.Port())))
	} else if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
		hostport = "[" + host + "]"
	}
	res := &HTTPResult{}
	u, err := url.Parse("http://" + hostport + path)
	if err != nil {
		res.Error = "bad URL: " + err.Error()
		return res
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			d := net.Dialer{Timeout: timeout}
			return d.DialContext(ctx, "tcp", addr.String())
		},
		DisableKeepAlives:      true,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: maxHTTPHeader,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		Timeout:       2 * timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u.String(), nil)
	if err != nil {
		res.Error = "bad request: " + err.Error()
		return res
	}
	req.Header.Set("User-Agent", "netdiag")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		res.Error = err.Error()
		return res
	}
	resp.Body.Close()
	res.Elapsed = time.Since(start)
	res.StatusCode = resp.StatusCode
	res.StatusLine = resp.Proto + " " + resp.Status
	res.Server = resp.Header.Get("Server")
	return res
}
