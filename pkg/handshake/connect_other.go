//go:build !linux

package handshake

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
)

// connectProber on systems other than Linux uses the portable dialer. It
// tells open, closed, timed out and unreachable apart from the error
// codes, but cannot see the ICMP error behind a failure, so a router's
// port unreachable reads as a reset there.
type connectProber struct {
	timeout time.Duration
}

func newConnectProber(o ConnectOptions) *connectProber {
	return &connectProber{timeout: o.Timeout}
}

func (c *connectProber) Close() error { return nil }

func (c *connectProber) Probe(ctx context.Context, t Target, seq int) (Result, error) {
	r := Result{Target: t, Seq: seq}
	d := net.Dialer{Timeout: c.timeout}
	start := time.Now()
	conn, err := d.DialContext(ctx, "tcp", t.String())
	r.RTT = time.Since(start)
	if err == nil {
		conn.Close()
		r.State = Open
		return r, nil
	}
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		r.RTT, r.Waited = 0, c.timeout
		r.failed(failure.Timeout, "")
	case errnoIn(err, refusedErrnos):
		r.failed(failure.Reset, "")
	case errnoIn(err, hostUnreachErrnos):
		r.failed(failure.HostUnreachable, err.Error())
	case errnoIn(err, netUnreachErrnos):
		r.failed(failure.NetUnreachable, err.Error())
	case errnoIn(err, prohibitedErrnos):
		r.failed(failure.AdminProhibited, detailLocal)
	default:
		return r, failure.Localf(err, "tcpprobe: connect to %s: %v", t, err)
	}
	return r, nil
}

func errnoIn(err error, set []syscall.Errno) bool {
	var e syscall.Errno
	if !errors.As(err, &e) {
		return false
	}
	for _, x := range set {
		if e == x {
			return true
		}
	}
	return false
}
