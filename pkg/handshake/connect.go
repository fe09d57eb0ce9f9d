package handshake

import (
	"net"
	"net/netip"
	"time"
)

// ConnectOptions configure connect mode.
type ConnectOptions struct {
	// Timeout bounds one connection attempt; a port that has not
	// answered by then is filtered (reason timeout).
	Timeout time.Duration
}

// NewConnectProber returns the connect-mode prober: a kernel connect()
// per probe, closed again as soon as the outcome is known. It needs no
// privilege.
func NewConnectProber(o ConnectOptions) Prober {
	return newConnectProber(o)
}

// localAddrs lists this machine's addresses, to tell an ICMP error the
// kernel sent itself from one a router sent.
func localAddrs() []netip.Addr {
	ifAddrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range ifAddrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr())
		}
	}
	return out
}
