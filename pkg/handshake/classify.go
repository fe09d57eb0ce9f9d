package handshake

import (
	"fmt"
	"net/netip"

	"github.com/netdiag/netdiag/pkg/failure"
)

// detailLocal marks a failure this machine reported to itself.
const detailLocal = "reported by this machine"

// stateFor places a failure reason in one of the four states: a reset is
// closed; silence and a firewall's reject are filtered; anything that
// says the SYN could not be delivered is unreachable.
func stateFor(r failure.Reason) State {
	switch r {
	case "":
		return Open
	case failure.Reset:
		return Closed
	case failure.Timeout, failure.AdminProhibited, failure.PortUnreachable, failure.Filtered:
		return Filtered
	}
	return Unreachable
}

// failed fills r's state and failure for reason at the transport layer.
func (r *Result) failed(reason failure.Reason, detail string) {
	r.State = stateFor(reason)
	r.Failure = failure.New(reason, detail).At(failure.LayerTransport)
}

// fromICMP fills r from an ICMP error that answered the SYN. local says
// whether the message's source is an address of this machine: the kernel
// reports a failed neighbour lookup as host-unreachable from itself, and
// a local firewall's reject comes from itself too.
func (r *Result) fromICMP(e *ICMPError, local bool) {
	var (
		reason failure.Reason
		ok     bool
	)
	if e.V6 {
		reason, ok = failure.FromICMPv6(e.Type, e.Code)
	} else {
		reason, ok = failure.FromICMPv4(e.Type, e.Code)
	}
	if !ok {
		reason = failure.ParamProblem
	}
	detail := fmt.Sprintf("ICMP type %d code %d", e.Type, e.Code)
	if e.V6 {
		detail = "ICMPv6" + detail[4:]
	}
	if local {
		detail = detailLocal
		if reason == failure.HostUnreachable {
			reason = failure.NeighborUnresolved
		}
	}
	r.ICMP = e
	r.failed(reason, detail)
	if e.From.IsValid() {
		r.Failure.From = e.From.String()
	}
}

// isLocalAddr reports whether a is one of addrs (this machine's own).
func isLocalAddr(a netip.Addr, addrs []netip.Addr) bool {
	for _, x := range addrs {
		if x == a {
			return true
		}
	}
	return false
}
