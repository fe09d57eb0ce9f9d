//go:build !linux

package netlab

import (
	"net"
	"net/netip"
	"time"
)

type rawIPv6 struct{}

func openRawIPv6() (rawIPv6, error) { return rawIPv6{}, errNotLinux }

func (rawIPv6) send(src, dst netip.Addr, hopLimit int, payload []byte) error { return errNotLinux }

func (*rawIPv6) close() {}

func setFreebind(c *net.IPConn, six bool) error { return errNotLinux }

func lastArrival(*net.IPConn) time.Time { return time.Time{} }
