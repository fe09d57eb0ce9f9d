package handshake

import (
	"math/bits"
	"net/netip"
	"slices"

	"github.com/netdiag/netdiag/pkg/failure"
)

// ResetOrigins finds, from the TTL (IPv4) or hop limit (IPv6) that
// answers arrive with, the resets that did not come from the device that
// answered the open ports. A firewall that rejects with a TCP reset
// forges it in the host's name, so the reset alone reads like the host's
// own "nothing listens"; but the firewall sits fewer hops away, and its
// reset arrives with a higher TTL than the host's SYN-ACKs, which both
// start from the host's one initial TTL.
//
// Only SYN and trace mode know the TTLs (Result.TTL). The evidence needs
// at least one SYN-ACK from the address, and all its SYN-ACKs arriving
// with one TTL. The zero value is ready to use; it is not safe for
// concurrent use.
type ResetOrigins struct {
	hosts map[netip.Addr]*ttlsSeen
	order []netip.Addr
}

type ttlsSeen struct {
	synAck []int            // distinct TTLs of SYN-ACKs
	resets map[int]*portSet // TTL -> the ports reset with it
}

// portSet is a set of ports, 8 KiB however many.
type portSet [65536 / 64]uint64

func (s *portSet) add(p int) { s[p/64] |= 1 << (p % 64) }

// list returns the ports in ascending order.
func (s *portSet) list() []int {
	var out []int
	for i, w := range s {
		for ; w != 0; w &= w - 1 {
			out = append(out, i*64+bits.TrailingZeros64(w))
		}
	}
	return out
}

// Add counts the answer r got, if its TTL is known.
func (o *ResetOrigins) Add(r Result) {
	if r.TTL == 0 || r.State != Open && r.Reason() != failure.Reset {
		return
	}
	a := r.Target.Addr
	h, ok := o.hosts[a]
	if !ok {
		if o.hosts == nil {
			o.hosts = make(map[netip.Addr]*ttlsSeen)
		}
		h = &ttlsSeen{resets: make(map[int]*portSet)}
		o.hosts[a] = h
		o.order = append(o.order, a)
	}
	if r.State == Open {
		if !slices.Contains(h.synAck, r.TTL) {
			h.synAck = append(h.synAck, r.TTL)
		}
		return
	}
	set, ok := h.resets[r.TTL]
	if !ok {
		set = new(portSet)
		h.resets[r.TTL] = set
	}
	set.add(r.Target.Port)
}

// ForeignResets are resets from one address that arrived with another
// TTL than its SYN-ACKs.
type ForeignResets struct {
	Addr netip.Addr
	// TTL is the resets' TTL (hop limit for IPv6) on arrival; SYNACKTTL
	// the SYN-ACKs'.
	TTL, SYNACKTTL int
	// Ports are the ports that were reset, in ascending order.
	Ports []int
}

// HopsCloser is how many hops nearer than the host the resets' sender
// is, assuming both start from the same initial TTL: positive for a
// firewall in front of the host.
func (f ForeignResets) HopsCloser() int { return f.TTL - f.SYNACKTTL }

// Foreign lists, per address in the order first seen and then by TTL,
// the resets that arrived with another TTL than the address's SYN-ACKs.
func (o *ResetOrigins) Foreign() []ForeignResets {
	var out []ForeignResets
	for _, a := range o.order {
		h := o.hosts[a]
		if len(h.synAck) != 1 {
			continue
		}
		ttls := make([]int, 0, len(h.resets))
		for ttl := range h.resets {
			if ttl != h.synAck[0] {
				ttls = append(ttls, ttl)
			}
		}
		slices.Sort(ttls)
		for _, ttl := range slices.Backward(ttls) {
			out = append(out, ForeignResets{Addr: a, TTL: ttl, SYNACKTTL: h.synAck[0], Ports: h.resets[ttl].list()})
		}
	}
	return out
}
