//go:build !linux

package handshake

import (
	"runtime"

	"github.com/netdiag/netdiag/pkg/failure"
)

type synProber struct{ connectProber }

func newSYNProber(SYNOptions) (*synProber, error) {
	return nil, failure.Localf(nil, "tcpprobe --syn is not supported on %s: it needs Linux raw and packet sockets", runtime.GOOS)
}
