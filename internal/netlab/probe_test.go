//go:build linux

package netlab_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/netdiag/netdiag/internal/netlab"
)

// An independent little prober for the lab's own tests: it sends from a
// node on a raw ICMP socket (or makes a TCP/UDP attempt) and reports the
// ICMP that comes back for it. It is deliberately separate from the
// project's pkg/ping so that the lab can vouch for itself.

// icmpSeen is one ICMP message received for a probe.
type icmpSeen struct {
	From    netip.Addr
	Type    icmp.Type
	Code    int
	ID, Seq int    // for echo replies
	Data    []byte // echo reply data
	After   time.Duration
}

func (s icmpSeen) String() string {
	return fmt.Sprintf("%v code %d from %s after %v", s.Type, s.Code, s.From, s.After.Round(time.Millisecond))
}

// rawICMP is a raw ICMP socket opened inside a node.
type rawICMP struct {
	c   *icmp.PacketConn
	six bool
}

func openRawICMP(t *testing.T, n *netlab.Node, six bool) *rawICMP {
	t.Helper()
	network, laddr := "ip4:icmp", "0.0.0.0"
	if six {
		network, laddr = "ip6:ipv6-icmp", "::"
	}
	var c *icmp.PacketConn
	err := n.Do(func() error {
		var err error
		c, err = icmp.ListenPacket(network, laddr)
		return err
	})
	if err != nil {
		t.Fatalf("raw ICMP socket in %s: %v", n.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawICMP{c: c, six: six}
}

// sendEcho sends an echo request with the given id, seq, data and TTL
// (0: the default).
func (r *rawICMP) sendEcho(dst netip.Addr, id, seq, ttl int, data []byte) error {
	typ := icmp.Type(ipv4.ICMPTypeEcho)
	if r.six {
		typ = ipv6.ICMPTypeEchoRequest
	}
	if ttl > 0 {
		var err error
		if r.six {
			err = r.c.IPv6PacketConn().SetHopLimit(ttl)
		} else {
			err = r.c.IPv4PacketConn().SetTTL(ttl)
		}
		if err != nil {
			return err
		}
	}
	b, err := (&icmp.Message{Type: typ, Body: &icmp.Echo{ID: id, Seq: seq, Data: data}}).Marshal(nil)
	if err != nil {
		return err
	}
	_, err = r.c.WriteTo(b, &net.IPAddr{IP: dst.AsSlice()})
	return err
}

// next returns the next ICMP message that concerns dst: an echo reply
// from it (any identifier, so that foreign identifiers are seen too) or an
// error quoting a packet to it. It returns an error at the deadline.
func (r *rawICMP) next(dst netip.Addr, start time.Time, deadline time.Time) (icmpSeen, error) {
	proto := 1
	if r.six {
		proto = 58
	}
	buf := make([]byte, 2048)
	if err := r.c.SetReadDeadline(deadline); err != nil {
		return icmpSeen{}, err
	}
	for {
		n, from, err := r.c.ReadFrom(buf)
		if err != nil {
			return icmpSeen{}, err
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil {
			continue
		}
		src, _ := netip.AddrFromSlice(from.(*net.IPAddr).IP)
		seen := icmpSeen{From: src.Unmap(), Type: m.Type, Code: m.Code, After: time.Since(start)}
		switch b := m.Body.(type) {
		case *icmp.Echo:
			if (m.Type == ipv4.ICMPTypeEchoReply || m.Type == ipv6.ICMPTypeEchoReply) && seen.From == dst {
				seen.ID, seen.Seq, seen.Data = b.ID, b.Seq, append([]byte(nil), b.Data...)
				return seen, nil
			}
		case *icmp.DstUnreach:
			if quotedDst(b.Data, r.six) == dst {
				return seen, nil
			}
		case *icmp.TimeExceeded:
			if quotedDst(b.Data, r.six) == dst {
				return seen, nil
			}
		}
	}
}

// quotedDst returns the destination of the IP header an ICMP error quotes.
func quotedDst(b []byte, six bool) netip.Addr {
	if six {
		if len(b) < 40 {
			return netip.Addr{}
		}
		a, _ := netip.AddrFromSlice(b[24:40])
		return a
	}
	h, err := ipv4.ParseHeader(b)
	if err != nil {
		return netip.Addr{}
	}
	a, _ := netip.AddrFromSlice(h.Dst.To4())
	return a
}

// echo sends one echo request from n to dst and returns the first answer
// concerning dst within timeout: an echo reply (whatever its identifier)
// or an ICMP error.
func echo(t *testing.T, n *netlab.Node, dst netip.Addr, ttl int, timeout time.Duration) (icmpSeen, error) {
	t.Helper()
	r := openRawICMP(t, n, dst.Is6())
	id := 1 + rand.IntN(0xfffe)
	start := time.Now()
	if err := r.sendEcho(dst, id, 1, ttl, []byte("netlab probe")); err != nil {
		t.Fatalf("send echo to %s: %v", dst, err)
	}
	s, err := r.next(dst, start, start.Add(timeout))
	if err == nil && s.ID != 0 && s.ID != id {
		t.Logf("echo reply from %s carries identifier %#x, sent %#x", dst, s.ID, id)
	}
	return s, err
}

// attempt runs try inside n (a TCP connect or UDP send to dst) with a raw
// ICMP socket listening, and returns the ICMP error for dst, if one comes
// within timeout, and try's error.
func attempt(t *testing.T, n *netlab.Node, dst netip.Addr, timeout time.Duration, try func() error) (*icmpSeen, error) {
	t.Helper()
	r := openRawICMP(t, n, dst.Is6())
	start := time.Now()
	tryErr := n.Do(try)
	s, err := r.next(dst, start, start.Add(timeout))
	if err != nil {
		return nil, tryErr
	}
	return &s, tryErr
}

func dialTCP(dst netip.Addr, port uint16, timeout time.Duration) func() error {
	return func() error {
		c, err := net.DialTimeout("tcp", netip.AddrPortFrom(dst, port).String(), timeout)
		if err == nil {
			c.Close()
		}
		return err
	}
}

func sendUDP(dst netip.Addr, port uint16) func() error {
	return func() error {
		c, err := net.Dial("udp", netip.AddrPortFrom(dst, port).String())
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("netlab"))
		return err
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

var errNotYet = errors.New("not yet")
