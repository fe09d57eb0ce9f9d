//go:build !linux

package ping

import (
	"errors"
	"runtime"

	"github.com/netdiag/netdiag/pkg/failure"
)

var errNotSupported = errors.New("not supported")

func listenUnsupported(int, socketOptions) (conn, error) {
	return nil, failure.Localf(errNotSupported, "ping: ICMP sockets are not supported on %s", runtime.GOOS)
}

var defaultListen listenFunc = listenUnsupported
