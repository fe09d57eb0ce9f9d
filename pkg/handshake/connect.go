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

// sourceAddr asks the routing table which local address a packet to dst
// leaves from. Connecting a UDP socket sends nothing.
func sourceAddr(dst netip.Addr) (netip.Addr, error) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9)))
	if err != nil {
		return netip.Addr{}, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}
