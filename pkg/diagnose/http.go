package diagnose

import (
	"context"
	"net/netip"
	"time"

	"github.com/netdiag/netdiag/pkg/httpprobe"
)

// HTTPResult is the answer to the application check's HEAD request (see
// httpprobe.Result for its fields and Failure for its judgement:
// redirects and 4xx pass, since the application answered).
type HTTPResult struct {
	httpprobe.Result
	// TLS tells that the request went over the TLS connection of the
	// TLS step.
	TLS bool
}

// httpFromTLS takes the answer to the request tlsprobe made after its
// handshake; nil when it made none.
func httpFromTLS(h *httpprobe.Result) *HTTPResult {
	if h == nil {
		return &HTTPResult{Result: httpprobe.Result{Error: "no HTTP answer was read"}, TLS: true}
	}
	return &HTTPResult{Result: *h, TLS: true}
}

// plainHTTP makes the request over a new TCP connection to addr, with
// host (and the port, when not 80) in the Host header.
func plainHTTP(ctx context.Context, host string, addr netip.AddrPort, path string, timeout time.Duration) *HTTPResult {
	return &HTTPResult{Result: *httpprobe.Probe(ctx, addr, host, path, timeout)}
}
