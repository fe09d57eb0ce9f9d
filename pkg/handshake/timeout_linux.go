package handshake

import (
	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/route"
)

// timedOut fills r for a probe that got no answer: filtered (reason
// timeout), or unreachable (neighbor-unresolved) when the next hop is
// still unresolved or has failed. The kernel gives up on a neighbour
// after 3 s by default, later than a probe's usual timeout, and only then
// reports the failure to the socket; a SYN that timed out before that
// never left this link and was not dropped by a firewall.
func (r *Result) timedOut(detail string) {
	if hop, ok, err := route.UnresolvedNextHop(r.Target.Addr); err == nil && ok {
		r.failed(failure.NeighborUnresolved, "no ARP or neighbour discovery answer from "+hop.String())
		return
	}
	r.failed(failure.Timeout, detail)
}
