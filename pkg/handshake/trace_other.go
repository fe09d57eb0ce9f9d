//go:build !linux

package handshake

import (
	"runtime"

	"github.com/netdiag/netdiag/pkg/failure"
)

type traceProber struct{ connectProber }

func newTraceProber(TraceOptions) (*traceProber, error) {
	return nil, failure.Localf(nil, "tcpprobe --trace is not supported on %s: it needs Linux packet sockets", runtime.GOOS)
}
